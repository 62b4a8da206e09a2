// The format-2 commit record as JSON lines: a delta's and a checkpoint's lines, applied line by line,
// give exactly the state the same commits give as records; a line that seb would not write is refused
// before it changes anything, and a record cut short is refused.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BadCommit, type CommitRecord, emptyCommit } from '../../src/core/commit-codec.js'
import { CommitApplier, checkpointLines, deltaLines } from '../../src/core/commit-lines.js'
import { RepoState } from '../../src/core/repo-state.js'

const H = (c: string) => c.repeat(64)
const snap = (seq: number) => ({
  seq,
  id: `0000000${seq}`,
  time: new Date(seq * 86_400_000).toISOString(),
  host: 'h',
  source: '/m',
  files: 1,
  bytes: 1,
  uploaded: 1,
  packsWritten: 1,
})

function records(): CommitRecord[] {
  const one: CommitRecord = {
    ...emptyCommit('delta', 1, snap(1), snap(1).time),
    add: [
      ['INBOX', 'd', '', 0, 1000, 0o700],
      ['INBOX/cur/a:2,S', 'f', H('a'), 5, 1000.5, 0o600],
      ['INBOX/cur/b:2,S', 'f', H('b'), 6, 2000, 0o600],
      ['link', 'l', 'INBOX', 0, 3000, 0o777],
    ],
    packs: [
      [
        H('1'),
        900,
        11,
        [
          [H('a'), 5, 'INBOX/cur/a:2,S', 1],
          [H('b'), 6, 'INBOX/cur/b:2,S', 2],
        ],
      ],
    ],
  }
  const two: CommitRecord = {
    ...emptyCommit('delta', 2, snap(2), snap(2).time),
    del: ['INBOX/cur/a:2,S'],
    add: [
      ['INBOX/cur/a:2,RS', 'f', H('a'), 5, 1000.5, 0o600],
      ['Sent/cur/\udcff', 'f', H('c'), 7, 4000, 0o644],
    ],
    packs: [[H('2'), 400, 7, [[H('c'), 7, 'Sent/cur/\udcff', 0]]]],
  }
  const three: CommitRecord = {
    ...emptyCommit('delta', 3, null, snap(3).time),
    dropPacks: [H('2')],
    forget: [1],
  }
  return [one, two, three]
}

function apply(state: RepoState, lines: Iterable<string>, seq: number): void {
  const a = new CommitApplier(state, { repository: 'r'.repeat(32), seq })
  for (const l of lines) a.line(l)
  a.end()
}

const view = (s: RepoState) => ({
  seq: s.seq,
  checkpoint: s.checkpointSeq,
  live: [...s.live.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  history: [...s.history].sort((a, b) => (a.path < b.path ? -1 : a.from - b.from)),
  // A pack's seq is the commit that recorded it: a checkpoint records every pack again.
  packs: [...s.packs.values()].map(({ seq: _, ...p }) => p).sort((a, b) => (a.id < b.id ? -1 : 1)),
  blobs: [...s.blobs].sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  snapshots: s.snapshots,
})

describe('commit records as JSON lines', () => {
  const repo = 'r'.repeat(32)
  it('deltas applied line by line give the state the records give', () => {
    const byRecord = new RepoState()
    const byLines = new RepoState()
    for (const r of records()) {
      byRecord.applyCommit(r)
      apply(byLines, deltaLines(r, repo), r.seq)
    }
    assert.deepEqual(view(byLines), view(byRecord))
  })

  it('a checkpoint of the state, replayed, is the same state', () => {
    const s = new RepoState()
    for (const r of records()) s.applyCommit(r)
    const lines = [...checkpointLines(s, { repository: repo, seq: 4, time: snap(4).time, snapshot: snap(4) })]
    const back = new RepoState()
    back.seq = 3
    apply(back, lines, 4)
    assert.deepEqual({ ...view(back), seq: 3, checkpoint: 0 }, view(s))
    assert.equal(back.checkpointSeq, 4)
  })

  it('refuses what seb would not write, before it changes anything', () => {
    const [one] = records()
    const good = [...deltaLines(one!, repo)]
    const bad: [string, string[]][] = [
      ['another repository', [good[0]!.replace(repo, 'x'.repeat(32)), ...good.slice(1)]],
      [
        'an unsafe path',
        [good[0]!, JSON.stringify(['a', '../etc/passwd', 'f', H('a'), 1, 1, 0o600]), ...good.slice(1)],
      ],
      ['a bad hash', [good[0]!, JSON.stringify(['p', 'zz', 1, 1]), ...good.slice(1)]],
      ['a checkpoint line in a delta', [good[0]!, JSON.stringify(['v', 'a', 'd', '', 0, 0, 0, 1, 0])]],
      ['a cut record', good.slice(0, -1)],
      ['a wrong count', [...good.slice(0, -1), JSON.stringify(['e', 99])]],
      ['an unknown line', [good[0]!, JSON.stringify(['zz'])]],
      ['not JSON', [good[0]!, '{']],
    ]
    for (const [what, lines] of bad) {
      const s = new RepoState()
      assert.throws(() => apply(s, lines, 1), BadCommit, what)
    }
  })
})
