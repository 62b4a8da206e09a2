// `--json` is a contract for scripts: every line of every command's output is one JSON object that
// fits the schema in test/cli/json-schema.ts, and docs/json-output.md names every type, command and
// field of that schema.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { checkLine, documentedNames } from './json-schema.js'

const DOC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/json-output.md')

/** parseAll checks every stdout line against the schema and returns the objects. */
function parseAll(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((l) => l !== '')
  assert.ok(lines.length > 0, 'no JSON output')
  for (const l of lines) assert.deepEqual(checkLine(l), [], `line does not fit the schema: ${l}`)
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('--json output', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
    SEB_PROGRESS_INTERVAL: '0',
  }
  before(async () => {
    await makeMaildir(src, 200)
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint, '--json'], env)).code, 0)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('seb backup --json: every line fits the schema; phases, scan, progress, then one summary last', async () => {
    const r = await runSeb(['backup', src, dest, '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const objs = parseAll(r.stdout)
    const types = new Set(objs.map((o) => o.type))
    for (const t of ['phase', 'scanned', 'progress', 'summary']) assert.ok(types.has(t), `no ${t} event`)
    const last = objs[objs.length - 1]!
    assert.equal(last.type, 'summary')
    assert.equal(last.command, 'backup')
    assert.equal(objs.filter((o) => o.type === 'summary').length, 1)
    assert.match(String(last.snapshot), /^[0-9a-f]{8}$/)
    assert.ok((last.filesAdded as number) > 200)
    // The final progress event accounts for every file read.
    const progress = objs.filter((o) => o.type === 'progress')
    const p = progress[progress.length - 1]!
    assert.equal(p.filesDone, p.filesTotal)
    // Nothing but JSON on stdout; no progress drawing on stderr.
    assert.doesNotMatch(r.stderr, /\r/)
  })

  it('every other command: each line fits the schema', async () => {
    const snaps = await runSeb(['snapshots', dest, '--json'], env)
    assert.equal(snaps.code, 0)
    const id = parseAll(snaps.stdout).find((o) => o.type === 'snapshot')!.id as string
    const target = path.join(work.dir, 'restored')
    const runs: [string[], string, number][] = [
      [['backup', src, dest, '--json', '--dry-run'], 'backup', 0],
      [['ls', dest, '--json', '--snapshot', id], 'ls', 0],
      [['find', dest, '*,S', '--json'], 'find', 0],
      [['stats', dest, '--json'], 'stats', 0],
      [['verify', dest, '--read-data', '--json'], 'verify', 0],
      [['restore', dest, target, '--json'], 'restore', 0],
      [['compact', dest, '--json', '--dry-run'], 'compact', 0],
      [['unlock', dest, '--json'], 'unlock', 0],
      [['key', 'list', dest, '--json'], 'key list', 0],
      [['key', 'add', dest, g.keys[0]!.fingerprint, '--json'], 'key add', 0],
      [['key', 'rotate', dest, '--json'], 'key rotate', 0],
      [['config', 'check', '--json'], 'config check', 0],
    ]
    for (const [args, command, code] of runs) {
      const r = await runSeb(args, env)
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
      const objs = parseAll(r.stdout)
      const summary = objs.filter((o) => o.type === 'summary')
      assert.equal(summary.length, 1, `${args.join(' ')}: one summary`)
      assert.equal(summary[0]!.command, command)
    }
  })

  it('errors are JSON too, with the exit code', async () => {
    const r = await runSeb(['ls', path.join(work.dir, 'nothing-here'), '--json'], env)
    assert.equal(r.code, 10)
    const [e] = parseAll(r.stdout)
    assert.equal(e!.type, 'error')
    assert.equal(e!.exitCode, 10)
    assert.equal(e!.code, 'no-repository')
  })

  it('docs/json-output.md names every type, command and field of the schema', async () => {
    const doc = await fs.readFile(DOC, 'utf8')
    const missing = documentedNames().filter((n) => !doc.includes(`\`${n}\``))
    assert.deepEqual(missing, [], `not documented: ${missing.join(', ')}`)
  })
})
