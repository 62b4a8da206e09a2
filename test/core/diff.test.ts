import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { diffScan, fileAdds, type HashedFile, HashedFiles, updateFacts } from '../../src/core/diff.js'
import { FactsTable } from '../../src/core/facts-table.js'
import type { LocalFacts, ScanEntry, Version } from '../../src/core/model.js'
import { ScanList } from '../../src/core/scan-list.js'
import { VersionTable } from '../../src/core/version-table.js'
import { seededRandom } from '../helpers/random.js'

const H = (c: string) => c.repeat(64)
const file = (path: string, over: Partial<ScanEntry> = {}): ScanEntry => ({
  path,
  kind: 'f',
  size: 10,
  mtimeMs: 1000,
  mode: 0o644,
  ino: 1,
  ctimeMs: 2000,
  ...over,
})
const version = (path: string, ref: string, over: Partial<Version> = {}): Version => ({
  path,
  kind: 'f',
  ref,
  size: 10,
  mtimeMs: 1000,
  mode: 0o644,
  from: 1,
  to: 0,
  ...over,
})
const read = (e: ScanEntry, hash: string, size: number): HashedFile => ({
  path: e.path,
  hash,
  size,
  mtimeMs: e.mtimeMs,
  mode: e.mode,
})
const facts = (e: ScanEntry): LocalFacts => ({
  size: e.size,
  mtimeMs: e.mtimeMs,
  ino: e.ino,
  ctimeMs: e.ctimeMs,
})

/** liveOf is a VersionTable holding `versions`. */
function liveOf(versions: readonly Version[]): VersionTable {
  const t = new VersionTable()
  for (const v of versions) t.set(v.path, v)
  return t
}

/** diff runs diffScan on plain inputs. */
function diff(live: readonly Version[], known: readonly [string, LocalFacts][], scan: readonly ScanEntry[]) {
  return diffScan(liveOf(live), FactsTable.of(known), ScanList.of(scan))
}

describe('diffScan', () => {
  it('a file is unchanged only if size, mtime, inode and ctime all match', () => {
    const e = file('a')
    const live = [version('a', H('1'))]
    assert.equal(diff(live, [['a', facts(e)]], [e]).unchanged, 1)
    for (const change of [{ size: 11 }, { mtimeMs: 999 }, { ino: 2 }, { ctimeMs: 2001 }]) {
      const d = diff(live, [['a', facts(e)]], [file('a', change)])
      assert.equal(d.toHash.length, 1, JSON.stringify(change))
    }
  })

  it('without local facts (cache rebuilt) every file is read again', () => {
    const d = diff([version('a', H('1'))], [], [file('a')])
    assert.equal(d.toHash.length, 1)
  })

  it('a file where the last commit had a folder or a symlink is read, with facts or not', () => {
    const e = file('a')
    for (const kind of ['d', 'l'] as const) {
      const d = diff([version('a', '', { kind })], [['a', facts(e)]], [e])
      assert.equal(d.toHash.length, 1, kind)
    }
  })

  it('lists deleted paths and new or changed folders and symlinks', () => {
    const live = [
      version('gone', H('1')),
      version('d', '', { kind: 'd', mtimeMs: 5 }),
      version('l', 'old-target', { kind: 'l' }),
    ]
    const d = diff(
      live,
      [],
      [
        { ...file('d'), kind: 'd', size: 0, mtimeMs: 6 },
        { ...file('l'), kind: 'l', size: 0, target: 'new-target' },
      ],
    )
    assert.deepEqual(d.deleted, ['gone'])
    assert.deepEqual(
      d.metaAdds.map((e) => [e[0], e[1], e[2]]),
      [
        ['d', 'd', ''],
        ['l', 'l', 'new-target'],
      ],
    )
  })
})

describe('diffScan against the plain rules (random trees, rows freed and reused)', () => {
  /** model is diffScan as first written, over Maps and entry objects: the oracle. */
  function model(live: Map<string, Version>, known: Map<string, LocalFacts>, scan: ScanEntry[]) {
    const toHash: string[] = []
    const metaAdds: string[] = []
    let unchanged = 0
    const seen = new Set<string>()
    for (const e of scan) {
      seen.add(e.path)
      const prev = live.get(e.path)
      if (e.kind === 'f') {
        const f = known.get(e.path)
        const same =
          prev?.kind === 'f' &&
          f &&
          f.size === e.size &&
          f.mtimeMs === e.mtimeMs &&
          f.ino === e.ino &&
          f.ctimeMs === e.ctimeMs
        if (same) unchanged++
        else toHash.push(e.path)
        continue
      }
      const ref = e.kind === 'l' ? (e.target ?? '') : ''
      if (
        prev &&
        prev.kind === e.kind &&
        prev.ref === ref &&
        prev.mtimeMs === e.mtimeMs &&
        prev.mode === e.mode
      )
        unchanged++
      else metaAdds.push(e.path)
    }
    const deleted = [...live.keys()].filter((p) => !seen.has(p))
    return { toHash, metaAdds, deleted: deleted.sort(), unchanged }
  }

  it('gives what the plain rules give', () => {
    const rand = seededRandom(11)
    for (let round = 0; round < 20; round++) {
      const table = new VersionTable()
      const live = new Map<string, Version>()
      const known = new Map<string, LocalFacts>()
      const kinds = ['f', 'f', 'f', 'l', 'd'] as const
      for (let i = 0; i < 400; i++) {
        const path = `INBOX/cur/${rand(300)}`
        if (rand(6) === 0) {
          table.delete(path)
          live.delete(path)
          continue
        }
        const kind = kinds[rand(5)]!
        const v = version(path, kind === 'f' ? H(String(rand(9))) : kind === 'l' ? `t${rand(3)}` : '', {
          kind,
          mtimeMs: 1000 + rand(3),
          mode: rand(2) ? 0o644 : 0o600,
        })
        table.set(path, v)
        live.set(path, v)
      }
      const scan: ScanEntry[] = []
      for (let i = 0; i < 300; i++) {
        if (rand(3) === 0) continue
        const path = `INBOX/cur/${i}`
        const kind = kinds[rand(5)]!
        const e = file(path, {
          kind,
          size: kind === 'f' ? 10 + rand(2) : 0,
          mtimeMs: 1000 + rand(3),
          mode: rand(2) ? 0o644 : 0o600,
          ino: rand(2),
          ctimeMs: 2000 + rand(2),
          ...(kind === 'l' ? { target: `t${rand(3)}` } : {}),
        })
        scan.push(e)
        if (kind === 'f' && rand(4))
          known.set(
            path,
            facts(
              file(path, { size: 10 + rand(2), ino: rand(2), ctimeMs: 2000 + rand(2), mtimeMs: e.mtimeMs }),
            ),
          )
      }
      const got = diffScan(table, FactsTable.of(known), ScanList.of(scan))
      const want = model(live, known, scan)
      assert.deepEqual(
        {
          toHash: got.toHash.map((e) => e.path),
          metaAdds: got.metaAdds.map((e) => e[0]),
          deleted: [...got.deleted].sort(),
          unchanged: got.unchanged,
        },
        want,
        `round ${round}`,
      )
      assert.ok(want.toHash.length && want.deleted.length && want.unchanged, 'every outcome occurs')
    }
  })
})

describe('updateFacts', () => {
  it("keeps an unchanged file's facts, replaces a read file's, drops gone, unreadable and no-longer-file paths", () => {
    const old = (size: number): LocalFacts => ({ size, mtimeMs: 1, ino: 1, ctimeMs: 1 })
    const table = FactsTable.of([
      ['a', old(1)],
      ['b', old(2)],
      ['c', old(3)],
      ['d', old(4)],
      ['e', old(5)],
    ])
    const scan = ScanList.of([
      file('a', { size: 1, mtimeMs: 1, ino: 1, ctimeMs: 1 }),
      file('b', { size: 20 }),
      file('d', { size: 4 }),
      { ...file('e'), kind: 'd', size: 0 },
      file('f', { size: 60 }),
    ])
    const u = updateFacts(table, scan, new Set(['b', 'f']), new Set(['d']), (p) => `${p}`)
    assert.equal(u.table, table, 'changed in place')
    assert.deepEqual([...u.drop].sort(), ['c', 'd', 'e'])
    assert.deepEqual(u.set, ['b', 'f'])
    assert.deepEqual([...table].sort(), [
      ['a', old(1)],
      ['b', { size: 20, mtimeMs: 1000, ino: 1, ctimeMs: 2000 }],
      ['f', { size: 60, mtimeMs: 1000, ino: 1, ctimeMs: 2000 }],
    ])
    // Nothing read, nothing gone: nothing changes.
    const again = updateFacts(table, scan, new Set(), new Set(), (p) => p)
    assert.deepEqual([again.set, again.drop], [[], []])
  })
})

describe('fileAdds', () => {
  it("counts a new path holding a deleted path's content as a rename, once per deleted path", () => {
    const live = new Map([['old', version('old', H('a'))]])
    const r = fileAdds(live, [read(file('new1'), H('a'), 10), read(file('new2'), H('a'), 10)], ['old'])
    assert.deepEqual(r.counts, { added: 1, changed: 0, renamed: 1, deleted: 0, unchanged: 0 })
    assert.equal(r.adds.length, 2)
  })

  it('a re-read file with the same content, mtime and mode adds nothing', () => {
    const live = new Map([['a', version('a', H('a'))]])
    const r = fileAdds(live, [read(file('a', { ctimeMs: 5 }), H('a'), 10)], [])
    assert.equal(r.adds.length, 0)
    assert.equal(r.counts.unchanged, 1)
  })

  it('a changed mode or mtime with the same content is a change (metadata only)', () => {
    const live = new Map([['a', version('a', H('a'))]])
    const r = fileAdds(live, [read(file('a', { mode: 0o600 }), H('a'), 10)], [])
    assert.equal(r.counts.changed, 1)
  })
})

describe('HashedFiles', () => {
  it('gives back every file as pushed, in order, past its first growth', () => {
    const list = new HashedFiles()
    const files = Array.from({ length: 2500 }, (_, i) =>
      read(
        file(`cur/${i}`, { mtimeMs: 1_700_000_000_123.25 + i, mode: i % 2 ? 0o600 : 0o644 }),
        H('a'),
        i * 7,
      ),
    )
    for (const f of files) list.push(f)
    assert.equal(list.length, files.length)
    assert.deepEqual([...list], files)
    assert.deepEqual(list.at(1234), files[1234])
    assert.deepEqual(
      list.pathList(),
      files.map((f) => f.path),
    )
    list.clear()
    assert.equal(list.length, 0)
    assert.deepEqual([...list], [])
  })
})
