import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { diffScan, fileAdds, type HashedFile, HashedFiles } from '../../src/core/diff.js'
import type { LocalFacts, ScanEntry, Version } from '../../src/core/model.js'

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

describe('diffScan', () => {
  it('a file is unchanged only if size, mtime, inode and ctime all match', () => {
    const e = file('a')
    const live = new Map([['a', version('a', H('1'))]])
    assert.equal(diffScan(live, new Map([['a', facts(e)]]), [e]).unchanged, 1)
    for (const change of [{ size: 11 }, { mtimeMs: 999 }, { ino: 2 }, { ctimeMs: 2001 }]) {
      const d = diffScan(live, new Map([['a', facts(e)]]), [file('a', change)])
      assert.equal(d.toHash.length, 1, JSON.stringify(change))
    }
  })

  it('without local facts (cache rebuilt) every file is read again', () => {
    const d = diffScan(new Map([['a', version('a', H('1'))]]), new Map(), [file('a')])
    assert.equal(d.toHash.length, 1)
  })

  it('lists deleted paths and new or changed folders and symlinks', () => {
    const live = new Map<string, Version>([
      ['gone', version('gone', H('1'))],
      ['d', version('d', '', { kind: 'd', mtimeMs: 5 })],
      ['l', version('l', 'old-target', { kind: 'l' })],
    ])
    const d = diffScan(live, new Map(), [
      { ...file('d'), kind: 'd', size: 0, mtimeMs: 6 },
      { ...file('l'), kind: 'l', size: 0, target: 'new-target' },
    ])
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
