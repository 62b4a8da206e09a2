// The layering rules of docs/architecture.md, checked on the source itself: no import cycle in src/;
// nothing below the CLI imports the CLI; the pure core imports no I/O; every source file stays under
// about 450 lines unless docs/decisions.md names it as one concept that is longer.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const SRC = path.join(ROOT, 'src')

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(path.join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [path.join(dir, e.name)]
        : [],
  )
}

/** imports lists a module's imports: relative ones resolved to files, others as written. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const out: string[] = []
  for (const m of text.matchAll(/^(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    const spec = m[1]!
    if (/^import\s+type\b/.test(m[0]) || /^export\s+type\b/.test(m[0])) continue
    out.push(spec.startsWith('.') ? path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')) : spec)
  }
  return out
}

const files = sources(SRC)
const rel = (f: string) => path.relative(SRC, f)

describe('architecture', () => {
  it('src/ has no import cycle', () => {
    const graph = new Map(files.map((f) => [f, imports(f).filter((i) => i.startsWith(SRC))]))
    const state = new Map<string, 'open' | 'done'>()
    const stack: string[] = []
    const visit = (f: string) => {
      if (state.get(f) === 'done') return
      if (state.get(f) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(f)), f].map(rel)
        assert.fail(`import cycle: ${cycle.join(' → ')}`)
      }
      state.set(f, 'open')
      stack.push(f)
      for (const g of graph.get(f) ?? []) visit(g)
      stack.pop()
      state.set(f, 'done')
    }
    for (const f of files) visit(f)
  })

  it('nothing below the CLI imports the CLI', () => {
    for (const f of files.filter((f) => !rel(f).startsWith('cli/')))
      for (const i of imports(f))
        assert.ok(!i.startsWith(path.join(SRC, 'cli')), `${rel(f)} imports ${rel(i)}`)
  })

  it('the core is pure: no file system, process or network', () => {
    const io = /^node:(fs|child_process|net|http|https|worker_threads|os)$/
    for (const f of files.filter((f) => rel(f).startsWith('core/')))
      for (const i of imports(f)) assert.ok(!io.test(i), `${rel(f)} imports ${i}`)
  })

  it('source files stay under about 450 lines, or are named as one concept in docs/decisions.md', () => {
    const decisions = readFileSync(path.join(ROOT, 'docs/decisions.md'), 'utf8')
    for (const f of files) {
      const lines = readFileSync(f, 'utf8').split('\n').length
      if (lines > 470)
        assert.ok(
          decisions.includes(`src/${rel(f)}`),
          `src/${rel(f)} has ${lines} lines and docs/decisions.md does not say why`,
        )
    }
  })
})
