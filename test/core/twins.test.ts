// Twins in the index (docs/design.md): `t` lines and the `b` line's normalized hash, written and read
// line by line, through checkpoints and the state file; a twin's base kept by compaction while the twin
// is needed, and the twin dropped with its base; a base named by a 16-hex prefix; search headers
// handed out of the record, not kept in the state; messages selected by their headers.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { describe, it } from 'node:test'
import { type CommitRecord, emptyCommit, type WireHeaders } from '../../src/core/commit-codec.js'
import { CommitApplier, checkpointLines, deltaLines, shortBase } from '../../src/core/commit-lines.js'
import { planCompaction } from '../../src/core/compaction.js'
import { FactsTable } from '../../src/core/facts-table.js'
import { applyPatch, decodePatch, findNoise } from '../../src/core/header-noise.js'
import { isMessagePath, noiseFacts } from '../../src/core/mail-facts.js'
import { selectMessages, versionsForIds } from '../../src/core/message-select.js'
import { RepoState } from '../../src/core/repo-state.js'
import { NormTable } from '../../src/core/twin-index.js'
import { encodeState, readState } from '../../src/repo/state-file.js'
import { snapshotInfo } from '../helpers/snapshot-info.js'
import { tempDir } from '../helpers/tree.js'

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const P = (c: string) => c.repeat(64)
const snap = snapshotInfo

const msg = (tuid: string) =>
  Buffer.from(`From: a@example.org\nSubject: Hello there\nMessage-ID: <m1@x>\nX-TUID: ${tuid}\n\nbody\n`)
const base = msg('AAAAAAAAAAAA')
const moved = msg('BBBBBBBBBBBB')
const baseFacts = noiseFacts(base)!
const movedFacts = noiseFacts(moved)!
const H: WireHeaders = [sha(base), 'Hello there', 'a@example.org', '', null, 'm1@x']

function commits(): CommitRecord[] {
  return [
    {
      ...emptyCommit('delta', 1, snap(1)),
      packs: [[P('a'), 100, base.length, [[sha(base), base.length, 'INBOX/cur/1', 0, baseFacts.norm]]]],
      add: [['INBOX/cur/1', 'f', sha(base), base.length, 1000, 0o600]],
      headers: [H],
    },
    {
      ...emptyCommit('delta', 2, snap(2)),
      del: ['INBOX/cur/1'],
      add: [['Archive/cur/2', 'f', sha(moved), moved.length, 1000, 0o600]],
      twins: [[sha(moved), moved.length, sha(base), movedFacts.patch]],
    },
  ]
}

function replayLines(lines: Iterable<string>, state: RepoState, seq: number, got: WireHeaders[]): void {
  const a = new CommitApplier(state, { repository: 'r', seq }, (h) => {
    if (h) got.push(h)
    else got.length = 0
  })
  for (const l of lines) a.line(l)
  a.end()
}

describe('twins in the index', () => {
  it('the noise facts of two twins agree, and the patch rebuilds the variant from the base', () => {
    assert.equal(baseFacts.norm, movedFacts.norm)
    assert.ok(applyPatch(base, findNoise(base), decodePatch(movedFacts.patch)).equals(moved))
    assert.equal(isMessagePath('INBOX/cur/1'), true)
    assert.equal(isMessagePath('INBOX/tmp/1'), false)
    assert.equal(isMessagePath('INBOX/dovecot-uidlist'), false)
  })

  it('records replayed as lines give the twin, the normalized hash and the headers', () => {
    const s = new RepoState()
    const headers: WireHeaders[] = []
    commits().forEach((c, i) => {
      const twins = c.twins?.map(
        ([h, n, b, p]) =>
          [h, n, shortBase(s, b), p] as typeof c.twins extends (infer T)[] | undefined ? T : never,
      )
      replayLines(deltaLines({ ...c, twins }, 'r'), s, i + 1, headers)
    })
    assert.equal(s.twins.get(sha(moved))?.base, sha(base))
    assert.equal(s.twinBaseFor(movedFacts.norm), sha(base))
    assert.equal(s.hasContent(sha(moved)), true)
    assert.deepEqual(headers, [H])
    // The base's row is kept by compaction: the twin needs it although no version names it.
    assert.equal(planCompaction(s, []).drop.length, 0)
    assert.ok(s.referencedHashes().has(sha(base)))
    // A checkpoint carries all of it.
    const t = new RepoState()
    const got: WireHeaders[] = []
    replayLines(checkpointLines(s, { repository: 'r', seq: 3, time: 'now', snapshot: null }, [H]), t, 3, got)
    assert.deepEqual([...t.twins], [...s.twins])
    assert.equal(t.twinBaseFor(movedFacts.norm), sha(base))
    assert.deepEqual(got, [H])
  })

  it('a base prefix that names no stored content, or a bad patch, is refused', () => {
    const s = new RepoState()
    s.applyCommit(commits()[0]!)
    const a = new CommitApplier(s, { repository: 'r', seq: 2 })
    a.line(JSON.stringify({ seb: 2, repository: 'r', kind: 'delta', seq: 2, time: 't', snapshot: null }))
    assert.throws(
      () => a.line(JSON.stringify(['t', sha(moved), 1, '0123456789abcdef', ''])),
      /no stored content/,
    )
    assert.throws(() => a.line(JSON.stringify(['t', sha(moved), 1, sha(base), '5LSubject: x'])), /bad twin/)
    assert.throws(
      () => a.line(JSON.stringify(['h', sha(moved), 'x', 'y', 'z', 'soon', 'id'])),
      /bad search headers/,
    )
  })

  it('a twin goes when its base is dropped', () => {
    const s = new RepoState()
    for (const c of commits()) s.applyCommit(c)
    s.applyCommit({ ...emptyCommit('delta', 3, null), dropPacks: [P('a')] })
    assert.equal(s.twins.size, 0)
    assert.equal(s.norms.size, 0)
  })

  it('the state file keeps twins and normalized hashes', async () => {
    const s = new RepoState()
    for (const c of commits()) s.applyCommit(c)
    const w = tempDir()
    try {
      const file = path.join(w.dir, 'state.bin')
      const pieces = encodeState('c2', s, new FactsTable())
      await fs.writeFile(file, Buffer.concat([...pieces]))
      const back = (await readState(file))!
      assert.deepEqual([...back.state.twins], [...s.twins])
      assert.equal(back.state.twinBaseFor(movedFacts.norm), sha(base))
    } finally {
      w.cleanup()
    }
  })

  it('NormTable grows, finds and retains', () => {
    const t = new NormTable()
    for (let i = 0; i < 3000; i++) t.set(sha(`n${i}`), sha(`b${i}`))
    assert.equal(t.size, 3000)
    assert.equal(t.get(sha('n1234')), sha('b1234'))
    t.retain((b) => b !== sha('b7'))
    assert.equal(t.size, 2999)
    assert.equal(t.get(sha('n7')), undefined)
    assert.equal(t.get(sha('n8')), sha('b8'))
  })

  it('NormTable byBase answers both ways, through growth, retain and clear; the first pair of a norm or a base stays', () => {
    const t = new NormTable(true)
    for (let i = 0; i < 3000; i++) t.set(sha(`n${i}`), sha(`b${i}`))
    for (const i of [0, 1023, 1024, 2999]) {
      assert.equal(t.get(sha(`n${i}`)), sha(`b${i}`))
      assert.equal(t.normFor(sha(`b${i}`)), sha(`n${i}`))
    }
    assert.equal(t.normFor(sha('n5')), undefined)
    assert.equal(t.normFor('not a hash'), undefined)
    t.set(sha('n5'), sha('other'))
    t.set(sha('another norm'), sha('b5'))
    assert.equal(t.get(sha('n5')), sha('b5'))
    assert.equal(t.normFor(sha('b5')), sha('n5'))
    assert.equal(t.get(sha('another norm')), sha('b5'))
    t.retain((b) => b !== sha('b7'))
    assert.equal(t.normFor(sha('b7')), undefined)
    assert.equal(t.normFor(sha('b8')), sha('n8'))
    assert.equal(t.normFor(sha('b5')), sha('n5'))
    t.clear()
    assert.equal(t.normFor(sha('b8')), undefined)
    assert.equal(new NormTable().normFor(sha('b8')), undefined)
  })

  it("messages are found by their (twin's base's) headers, with the snapshots holding them", () => {
    const s = new RepoState()
    for (const c of commits()) s.applyCommit(c)
    const byHash = new Map([[H[0], H]])
    const found = selectMessages(s, byHash, { subject: 'hello', from: 'a@example.org' })
    assert.deepEqual(
      found.map((m) => [m.folder, m.path, m.first.seq, m.last.seq]),
      [
        ['Archive', 'Archive/cur/2', 2, 2],
        ['INBOX', 'INBOX/cur/1', 1, 1],
      ],
    )
    const picked = versionsForIds(found, ['<m1@x>'], null)
    assert.equal(picked.seq, 2)
    assert.deepEqual(
      picked.versions.map((v) => v.path),
      ['Archive/cur/2'],
    )
    assert.deepEqual(versionsForIds(found, ['nope@x'], null).missing, ['nope@x'])
    assert.equal(selectMessages(s, byHash, { subject: 'hell' }).length, 0)
  })
})
