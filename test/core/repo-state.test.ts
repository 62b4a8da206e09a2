import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CommitRecord, decodeCommit, emptyCommit, encodeCommit } from '../../src/core/commit-codec.js'
import { RepoState } from '../../src/core/repo-state.js'
import { snapshotInfo } from '../helpers/snapshot-info.js'

const H = (c: string) => c.repeat(64)
const P = (c: string) => c.repeat(64)
const snap = snapshotInfo
const delta = (seq: number, over: Partial<CommitRecord>): CommitRecord => ({
  ...emptyCommit('delta', seq, snap(seq)),
  ...over,
})

describe('RepoState', () => {
  const commits = [
    delta(1, {
      packs: [
        [
          P('a'),
          100,
          30,
          [
            [H('1'), 10, 'x', 0],
            [H('2'), 20, 'y', 1],
          ],
        ],
      ],
      add: [
        ['x', 'f', H('1'), 10, 1, 0o644],
        ['y', 'f', H('2'), 20, 1, 0o644],
      ],
    }),
    delta(2, { add: [['z', 'f', H('1'), 10, 1, 0o644]], del: ['x'] }), // rename x → z
    delta(3, { del: ['y'] }),
  ]

  it('replays deltas into snapshots that can each be read back', () => {
    const s = new RepoState()
    for (const c of commits) s.applyCommit(c)
    assert.deepEqual(
      s.snapshotVersions(1).map((v) => v.path),
      ['x', 'y'],
    )
    assert.deepEqual(
      s.snapshotVersions(2).map((v) => v.path),
      ['y', 'z'],
    )
    assert.deepEqual(
      s.snapshotVersions(3).map((v) => v.path),
      ['z'],
    )
    assert.deepEqual([...s.referencedHashes()].sort(), [H('1'), H('2')])
  })

  it('a checkpoint of the state replays to the same state', () => {
    const s = new RepoState()
    for (const c of commits) s.applyCommit(c)
    const cp: CommitRecord = { ...emptyCommit('checkpoint', 3, snap(3)), ...s.checkpointLists() }
    const t = new RepoState()
    t.applyCommit(decodeCommit(encodeCommit(cp)))
    for (const seq of [1, 2, 3]) assert.deepEqual(t.snapshotVersions(seq), s.snapshotVersions(seq))
    assert.deepEqual([...t.blobs].sort(), [...s.blobs].sort())
    t.applyCommit(delta(4, { add: [['w', 'f', H('2'), 20, 1, 0o644]] }))
    assert.deepEqual(
      t.snapshotVersions(4).map((v) => v.path),
      ['w', 'z'],
    )
  })

  it('refuses a delta out of sequence', () => {
    const s = new RepoState()
    assert.throws(() => s.applyCommit(delta(2, {})), /does not follow/)
  })

  it('dropping a pack removes the content located in it; forgetting a snapshot drops what only it saw', () => {
    const s = new RepoState()
    for (const c of commits) s.applyCommit(c)
    s.applyCommit(
      delta(4, { packs: [[P('b'), 50, 10, [[H('1'), 10, 'x', 0]]]], dropPacks: [P('a')], forget: [1, 2] }),
    )
    assert.deepEqual([...s.packs.keys()], [P('b')])
    assert.equal(s.blobs.get(H('1'))?.pack, P('b'))
    assert.equal(s.blobs.has(H('2')), false)
    assert.deepEqual(
      s.snapshots.map((x) => x.seq),
      [3, 4],
    )
    assert.equal(s.history.length, 0)
  })
})

describe('decodeCommit', () => {
  it('rejects unsafe paths and malformed records', () => {
    const bad = (over: Partial<CommitRecord>) => encodeCommit(delta(1, over))
    assert.throws(() => decodeCommit(bad({ add: [['../evil', 'f', H('1'), 1, 1, 0o644]] })), /unsafe path/)
    assert.throws(
      () => decodeCommit(bad({ add: [['/etc/passwd', 'f', H('1'), 1, 1, 0o644]] })),
      /unsafe path/,
    )
    assert.throws(() => decodeCommit(bad({ del: ['a/../../b'] })), /bad deleted path/)
    assert.throws(() => decodeCommit(Buffer.from('{"seb":3}')), /format version 3/)
    assert.throws(() => decodeCommit(Buffer.from('not json')), /not JSON/)
  })

  it('rejects content hashes and pack ids that are not 64 lowercase hex digits', () => {
    const bad = (over: Partial<CommitRecord>) => encodeCommit(delta(1, over))
    for (const h of [H('A'), H('g'), '1'.repeat(63), '1'.repeat(65), null, 7])
      assert.throws(
        () => decodeCommit(bad({ add: [['a', 'f', h as string, 1, 1, 0o644]] })),
        /bad content hash|bad ref/,
        String(h),
      )
    const blob: [string, number, string, number] = [H('1'), 1, 'm/1', 1]
    for (const id of [P('Z'), null, '0'.repeat(64).slice(1)]) {
      assert.throws(() => decodeCommit(bad({ packs: [[id as string, 1, 1, [blob]]] })), /bad pack/)
      assert.throws(() => decodeCommit(bad({ dropPacks: [id as string] })), /bad dropped pack/)
    }
    assert.throws(
      () => decodeCommit(bad({ packs: [[P('2'), 1, 1, [[null as unknown as string, 1, 'm', 1]]]] })),
      /bad blob/,
    )
    assert.ok(decodeCommit(bad({ packs: [[P('2'), 1, 1, [blob]]], add: [['a', 'f', H('1'), 1, 1, 0o644]] })))
    assert.ok(decodeCommit(bad({ add: [['a', 'f', '0123456789abcdef'.repeat(4), 1, 1, 0o644]] })))
  })
})
