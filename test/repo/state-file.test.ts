import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, it } from 'node:test'
import { emptyCommit } from '../../src/core/commit-codec.js'
import { FactsTable } from '../../src/core/facts-table.js'
import { RepoState } from '../../src/core/repo-state.js'
import { BlobList, EntryList } from '../../src/core/wire-lists.js'
import { encodeState, readState, STATE_MAGIC } from '../../src/repo/state-file.js'

const H = (s: string) => createHash('sha256').update(s).digest('hex')

/** a state of `n` files in one pack, then `gone` of them deleted (a table with freed rows) */
function stateOf(n: number, gone: number, name = (i: number) => `INBOX/cur/${i}:2,S`) {
  const state = new RepoState()
  const add = new EntryList()
  const blobs = new BlobList()
  add.push('INBOX', 'd', '', 0, 1_700_000_000_000, 0o700)
  for (let i = 0; i < n; i++) {
    add.push(name(i), 'f', H(name(i)), 100 + i, 1_700_000_000_123.5 + i, 0o600)
    blobs.push(H(name(i)), 100 + i, name(i), i)
  }
  state.applyCommit({ ...emptyCommit('delta', 1, null), add, packs: [[H('pack'), 9999, 5555, blobs]] })
  if (gone) state.applyCommit({ ...emptyCommit('delta', 2, null), del: [...Array(gone).keys()].map(name) })
  const facts = new FactsTable()
  for (let i = 0; i < n; i++)
    facts.put(name(i), 100 + i, 1_700_000_000_123.5 + i, 1000 + i, 1_700_000_000_999 + i)
  return { state, facts }
}

async function roundTrip(state: RepoState, facts: FactsTable, lean = false) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seb-state-'))
  try {
    const file = path.join(dir, 'state.bin')
    await fs.writeFile(file, Buffer.concat([...encodeState('c', state, facts)]))
    const back = await readState(file, { lean })
    assert.ok(back)
    return { back, bytes: await fs.readFile(file) }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

const versions = (s: RepoState) => [...s.live.values()].sort((a, b) => (a.path < b.path ? -1 : 1))
const blobsOf = (s: RepoState) => [...s.blobs].sort((a, b) => (a[0] < b[0] ? -1 : 1))

describe('state file', () => {
  it('reads back what it wrote, paths after the columns, with freed rows and paths that are not live', async () => {
    for (const [n, gone] of [
      [0, 0],
      [1, 0],
      [10_000, 0],
      [10_000, 2_500],
    ] as const) {
      const { state, facts } = stateOf(n, gone)
      const { back, bytes } = await roundTrip(state, facts)
      assert.deepEqual(bytes.subarray(0, 8), STATE_MAGIC)
      assert.deepEqual(versions(back.state), versions(state))
      assert.deepEqual(blobsOf(back.state), blobsOf(state))
      assert.deepEqual([...back.facts].sort(), [...facts].sort())
      assert.deepEqual(back.state.history, state.history)
      assert.equal(back.state.seq, state.seq)
    }
  })

  it('lean: the same versions, blobs and history, without the facts and the normalized hashes', async () => {
    const { state, facts } = stateOf(1_000, 100)
    const norm = H('normalized')
    state.norms.set(norm, H(`INBOX/cur/${500}:2,S`))
    const whole = await roundTrip(state, facts)
    assert.equal(whole.back.state.twinBaseFor(norm), H(`INBOX/cur/${500}:2,S`))
    const { back } = await roundTrip(state, facts, true)
    assert.deepEqual(versions(back.state), versions(state))
    assert.deepEqual(blobsOf(back.state), blobsOf(state))
    assert.deepEqual(back.state.history, state.history)
    assert.equal(back.state.seq, state.seq)
    assert.deepEqual([...back.facts], [])
    assert.equal(back.state.twinBaseFor(norm), undefined)
  })

  it('reads paths of several 64 KiB pieces, a multi-byte character or a path cut at every boundary', async () => {
    // 3-byte characters after a varying prefix put every kind of cut at the pieces' boundaries.
    const { state, facts } = stateOf(20_000, 1_000, (i) => `Archiv/日本語-é/${'x'.repeat(i % 7)}${i}:2,S`)
    const { back } = await roundTrip(state, facts)
    assert.deepEqual(versions(back.state), versions(state))
    assert.deepEqual([...back.facts].sort(), [...facts].sort())
  })

  it('keeps names that are not UTF-8 exact (in the header)', async () => {
    const { state, facts } = stateOf(50, 5, (i) => `INBOX/cur/${i}\udc80\u00e9`)
    const { back } = await roundTrip(state, facts)
    assert.deepEqual(versions(back.state), versions(state))
    assert.deepEqual([...back.facts].sort(), [...facts].sort())
  })

  it('refuses a file cut short or with a byte too many', async () => {
    const { state, facts } = stateOf(100, 0)
    const bytes = Buffer.concat([...encodeState('c', state, facts)])
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'seb-state-'))
    try {
      const file = path.join(dir, 'state.bin')
      for (const b of [bytes.subarray(0, bytes.length - 1), Buffer.concat([bytes, Buffer.from('\0')])]) {
        await fs.writeFile(file, b)
        assert.equal(await readState(file), null)
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true })
    }
  })
})
