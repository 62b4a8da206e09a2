// The local cache's state file: what is saved loads back identical (index and local facts), the state
// files of seb 0.1 and 0.2 are still read (a rebuild would need the secret key), and a file cut short
// is refused.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { emptyCommit } from '../../src/core/commit-codec.js'
import { FactsTable } from '../../src/core/facts-table.js'
import type { LocalFacts } from '../../src/core/model.js'
import { RepoState } from '../../src/core/repo-state.js'
import { LocalCache } from '../../src/repo/cache.js'
import { tempDir } from '../helpers/tree.js'

const H = (c: string) => c.repeat(64)

function sampleState(): { state: RepoState; facts: FactsTable } {
  const state = new RepoState()
  state.applyCommit({
    ...emptyCommit('delta', 1, null, '2026-11-01T00:00:00.000Z'),
    packs: [
      [
        'p1'.padEnd(64, '0'),
        1000,
        2000,
        [
          [H('a'), 10, 'INBOX/cur/1:2,S', 0],
          [H('b'), 20, 'INBOX/cur/2:2,', 1],
        ],
      ],
      [
        'p2'.padEnd(64, '0'),
        500,
        700,
        [
          [H('c'), 30, 'Sent/cur/3', 0],
          [H('d'), 40, 'Sent/cur/caf\u00e9 \udce9', 1],
        ],
      ],
    ],
    add: [
      ['INBOX', 'd', '', 0, 1_700_000_000_000.123, 0o700],
      ['INBOX/cur/1:2,S', 'f', H('a'), 10, 1_700_000_000_001.5, 0o600],
      ['INBOX/cur/2:2,', 'f', H('b'), 20, 1_700_000_000_002, 0o600],
      ['Sent/cur/3', 'f', H('c'), 30, 1_700_000_000_003.25, 0o644],
      ['link', 'l', 'INBOX', 0, 1_700_000_000_004, 0o777],
      // A name that is not UTF-8 (a lone surrogate holds the byte, core/path-bytes.ts) and a non-ASCII one.
      ['Sent/cur/caf\u00e9 \udce9', 'f', H('d'), 40, 1_700_000_000_005, 0o600],
    ],
    snapshot: {
      seq: 1,
      id: 'aaaa0001',
      time: '2026-11-01T00:00:00.000Z',
      host: 'h',
      source: '/m',
      files: 4,
      bytes: 100,
      uploaded: 1500,
      packsWritten: 2,
    },
  })
  // A second commit closes a version, so history is not empty; a third rewrites a pack away (so the
  // tables have freed rows, and the state file is written from copies of their columns).
  state.applyCommit({ ...emptyCommit('delta', 2, null, '2026-11-02T00:00:00.000Z'), del: ['INBOX/cur/2:2,'] })
  state.applyCommit({
    ...emptyCommit('delta', 3, null, '2026-11-03T00:00:00.000Z'),
    packs: [['p3'.padEnd(64, '0'), 90, 20, [[H('a'), 10, 'INBOX/cur/1:2,S', 0]]]],
    dropPacks: ['p1'.padEnd(64, '0')],
  })
  state.checkpointSeq = 1
  const facts = FactsTable.of(
    new Map<string, LocalFacts>([
      ['INBOX/cur/1:2,S', { size: 10, mtimeMs: 1_700_000_000_001.5, ino: 11, ctimeMs: 1_700_000_000_009.75 }],
      ['Sent/cur/3', { size: 30, mtimeMs: 1_700_000_000_003.25, ino: 13, ctimeMs: 1_700_000_000_010 }],
      ['Sent/cur/caf\u00e9 \udce9', { size: 40, mtimeMs: 1_700_000_000_005, ino: 2 ** 40, ctimeMs: 1 }],
    ]),
  )
  return { state, facts }
}

function snapshotOf(s: RepoState) {
  return {
    seq: s.seq,
    checkpointSeq: s.checkpointSeq,
    packs: [...s.packs.values()],
    blobs: [...s.blobs].sort(),
    live: [...s.live.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
    history: s.history,
    snapshots: s.snapshots,
  }
}

describe('local cache state file', () => {
  const work = tempDir()
  after(work.cleanup)

  it('loads back exactly what was saved, at the saved commit', async () => {
    const cache = new LocalCache(work.dir, 'r1')
    const { state, facts } = sampleState()
    await cache.save('0000000002-abc', state, facts)
    const loaded = await cache.load()
    assert.ok(loaded)
    assert.equal(loaded.commit, '0000000002-abc')
    assert.equal(loaded.base, '0000000002-abc')
    assert.deepEqual(snapshotOf(loaded.state), snapshotOf(state))
    assert.deepEqual([...loaded.facts].sort(), [...facts].sort())
  })

  it('a pending delta becomes the cache only once promoted; one never made is dropped', async () => {
    const cache = new LocalCache(work.dir, 'r2')
    const { state, facts } = sampleState()
    await cache.save('0000000001-aaa', state, facts)
    const record = {
      ...emptyCommit('delta', state.seq + 1, null, '2026-11-02T00:00:00.000Z'),
      del: ['Sent/cur/3'],
    }
    const update = { table: facts, set: [], drop: ['Sent/cur/3'] }
    await cache.prepare(
      { kind: 'line', commit: '0000000002-bbb', base: '0000000001-aaa', record, facts: update },
      '0000000001-aaa',
    )
    const before = await cache.load()
    assert.equal(before!.commit, '0000000001-aaa')
    assert.deepEqual(before!.pending, { commit: '0000000002-bbb', base: '0000000001-aaa' })
    assert.equal(await cache.promote('0000000002-ccc'), false)
    assert.equal(await cache.promote('0000000002-bbb'), true)
    const after = await cache.load()
    assert.equal(after!.commit, '0000000002-bbb')
    assert.equal(after!.state.live.has('Sent/cur/3'), false)
    assert.equal(after!.pending, null)
    await cache.prepare(
      {
        kind: 'line',
        commit: '0000000003-ddd',
        base: '0000000001-aaa',
        record: { ...record, seq: state.seq + 2, del: [] },
        facts: update,
      },
      '0000000002-bbb',
    )
    await cache.dropPending()
    assert.equal((await cache.load())!.pending, null)
  })

  it('a pending whole state replaces the state file once promoted', async () => {
    const cache = new LocalCache(work.dir, 'r4')
    const { state, facts } = sampleState()
    await cache.save('0000000001-aaa', state, facts)
    const table = (await cache.load())!.facts
    state.applyCommit({
      ...emptyCommit('delta', state.seq + 1, null, '2026-11-02T00:00:00.000Z'),
      del: ['INBOX/cur/1:2,S'],
    })
    await cache.prepare(
      { kind: 'state', commit: '0000000002-eee', after: '0000000001-aaa', state, facts: table },
      '0000000001-aaa',
    )
    assert.equal((await cache.load())!.commit, '0000000001-aaa')
    assert.equal(await cache.promote('0000000002-eee'), true)
    const loaded = (await cache.load())!
    assert.equal(loaded.commit, '0000000002-eee')
    assert.deepEqual(snapshotOf(loaded.state), snapshotOf(state))
    assert.deepEqual((await fs.readdir(cache.dir)).sort(), ['state.bin'])
  })

  it('refuses a state file cut short (the cache is then rebuilt)', async () => {
    const cache = new LocalCache(work.dir, 'r3')
    const { state, facts } = sampleState()
    await cache.save('0000000002-abc', state, facts)
    const file = path.join(cache.dir, 'state.bin')
    const bytes = await fs.readFile(file)
    await fs.writeFile(file, bytes.subarray(0, bytes.length - 20))
    assert.equal(await cache.load(), null)
    await fs.writeFile(file, bytes.subarray(0, 30))
    assert.equal(await cache.load(), null)
    await fs.writeFile(file, Buffer.concat([bytes, Buffer.alloc(8)]))
    assert.equal(await cache.load(), null)
  })
})
