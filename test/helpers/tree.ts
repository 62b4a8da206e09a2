// Why: declarative source trees for tests, and the one comparison every restore test relies on:
// same paths (no missing, no extra), same bytes, same mtime, same mode, same symlink targets.
import assert from 'node:assert/strict'
import { promises as fs, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** TreeSpec maps relative paths to content: a string/Buffer (file), {link} (symlink), {dir} (folder). */
export type TreeSpec = Record<
  string,
  | string
  | Buffer
  | { link: string }
  | { dir: true }
  | { data: string | Buffer; mtime?: number; mode?: number }
>

/** tempDir makes a temporary folder; cleanup removes it. */
export function tempDir(prefix = 'seb-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** createTree writes a spec below `root`; files get a fixed old mtime unless given. */
export async function createTree(root: string, spec: TreeSpec): Promise<void> {
  for (const [rel, v] of Object.entries(spec)) {
    const p = path.join(root, rel)
    await fs.mkdir(path.dirname(p), { recursive: true })
    if (typeof v === 'string' || Buffer.isBuffer(v)) {
      await fs.writeFile(p, v)
      await fs.utimes(p, 1_500_000_000, 1_500_000_000)
    } else if ('link' in v) await fs.symlink(v.link, p)
    else if ('dir' in v) await fs.mkdir(p, { recursive: true })
    else {
      await fs.writeFile(p, v.data)
      if (v.mode !== undefined) await fs.chmod(p, v.mode)
      const t = v.mtime ?? 1_500_000_000
      await fs.utimes(p, t, t)
    }
  }
}

/** TreeEntry is what compareTrees looks at for one path. */
interface TreeEntry {
  kind: 'f' | 'd' | 'l'
  mode: number
  mtimeUs: number
  data?: Buffer
  target?: string
}

/** readTree lists a tree (names as raw bytes, hex-escaped when not UTF-8) with content and metadata. */
export async function readTree(
  root: string,
  options: { ignore?: (rel: string) => boolean } = {},
): Promise<Map<string, TreeEntry>> {
  const out = new Map<string, TreeEntry>()
  const walk = async (dir: Buffer, rel: string) => {
    for (const name of (await fs.readdir(dir, { encoding: 'buffer' })) as Buffer[]) {
      const p = Buffer.concat([dir, Buffer.from('/'), name])
      const r = rel ? `${rel}/${name.toString('latin1')}` : name.toString('latin1')
      if (options.ignore?.(r)) continue
      const st = await fs.lstat(p, { bigint: true })
      const base = { mode: Number(st.mode) & 0o7777, mtimeUs: Number(st.mtimeNs / 1000n) }
      if (st.isDirectory()) {
        out.set(r, { kind: 'd', ...base })
        await walk(p, r)
      } else if (st.isSymbolicLink())
        out.set(r, {
          kind: 'l',
          ...base,
          target: ((await fs.readlink(p, { encoding: 'buffer' })) as Buffer).toString('latin1'),
        })
      else out.set(r, { kind: 'f', ...base, data: await fs.readFile(p) })
    }
  }
  await walk(Buffer.from(root), '')
  return out
}

/**
 * assertSameTree checks that `actual` holds exactly the entries of `expected`: same paths, bytes,
 * modes and mtimes (to the microsecond; folder mtimes only when checkDirTimes).
 */
export async function assertSameTree(
  expected: string,
  actual: string,
  options: { ignore?: (rel: string) => boolean; checkDirTimes?: boolean; checkModes?: boolean } = {},
): Promise<void> {
  const a = await readTree(expected, options)
  const b = await readTree(actual, options)
  const missing = [...a.keys()].filter((k) => !b.has(k))
  const extra = [...b.keys()].filter((k) => !a.has(k))
  assert.deepEqual(
    { missing, extra },
    { missing: [], extra: [] },
    'restored tree has other paths than the source',
  )
  for (const [k, e] of a) {
    const r = b.get(k)!
    assert.equal(r.kind, e.kind, `${k}: kind`)
    if (e.kind === 'f') {
      assert.ok(r.data!.equals(e.data!), `${k}: content differs`)
      assert.equal(r.mtimeUs, e.mtimeUs, `${k}: mtime differs`)
    }
    if (e.kind === 'l') assert.equal(r.target, e.target, `${k}: link target`)
    if (e.kind === 'd' && options.checkDirTimes)
      assert.equal(r.mtimeUs, e.mtimeUs, `${k}: folder mtime differs`)
    if (options.checkModes !== false && e.kind !== 'l') assert.equal(r.mode, e.mode, `${k}: mode differs`)
  }
}
