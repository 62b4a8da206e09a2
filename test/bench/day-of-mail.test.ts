// Why: the incremental benchmark's verdicts rest on mutateDay doing exactly what it reports (renames keep
// bytes and mtime, moves are written the way mbsync and offlineimap write them, deletions are gone); and the
// floor and seed baseline must measure real outcomes. Small scale, outcomes only, never timings.

import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type DayRecord, mutateDay } from '../../bench/day-of-mail.js'
import { dayFloor } from '../../bench/floor.js'
import { generateMaildir, isMessagePath, type TreeEntry, walkTree } from '../../bench/maildir-gen.js'
import { SeedPolicy } from '../../bench/seed-policy.js'

const stripTuid = (b: Buffer) => b.toString('latin1').replace(/^X-TUID: .{12}\n/m, '')

describe('day-of-mail', () => {
  let dir: string
  let root: string
  let beforeTree: Map<string, TreeEntry>
  const contents = new Map<string, Buffer>()
  let rec: DayRecord
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seb-day-test-'))
    root = join(dir, 'mail')
    await generateMaildir(root, { scale: 0.01, seed: 3 })
    beforeTree = new Map((await walkTree(root)).map((e) => [e.path, e]))
    for (const p of beforeTree.keys()) if (isMessagePath(p)) contents.set(p, await readFile(join(root, p)))
    rec = await mutateDay(root, { scale: 0.2, seed: 3, day: 0, mode: 'uniform' })
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('reports the work of a day', () => {
    assert.ok(rec.newBytes >= 0.2 * 5 * 1024 * 1024, `new bytes ${rec.newBytes}`)
    assert.equal(rec.flagRenames.length, 60)
    assert.ok(rec.moves.length >= 4, `moves ${rec.moves.length}`)
    assert.equal(rec.deleted.length + rec.trashed.length, 10)
    assert.ok(rec.read.length >= 1)
  })

  it('writes new messages that exist, with their reported bytes, and leaves tmp/ empty', async () => {
    let total = 0
    for (const p of rec.newMessageFiles) {
      assert.ok(!beforeTree.has(p), `${p} is new`)
      total += (await stat(join(root, p))).size
    }
    assert.equal(total, rec.newBytes)
    const after = await walkTree(root)
    assert.ok(!after.some((e) => e.path.split('/').includes('tmp')), 'nothing left in tmp/')
    const read = rec.newMessageFiles.filter((p) => p.includes('/cur/') && p.endsWith(':2,S'))
    assert.ok(read.length >= rec.newMessageFiles.length / 2, 'most new mail was read (cur/, :2,S)')
  })

  it('flag renames keep bytes and mtime, in the same directory, with sorted flags', async () => {
    for (const { from, to } of rec.flagRenames) {
      assert.ok(!existsSync(join(root, from)), `${from} gone`)
      const s = await stat(join(root, to))
      assert.equal(s.mtimeMs, beforeTree.get(from)!.mtimeMs)
      assert.ok((await readFile(join(root, to))).equals(contents.get(from)!))
      assert.equal(from.slice(0, from.lastIndexOf(':2,')), to.slice(0, to.lastIndexOf(':2,')))
      const flags = to.slice(to.lastIndexOf(':2,') + 3)
      assert.equal(flags, [...flags].sort().join(''))
      assert.notEqual(flags, from.slice(from.lastIndexOf(':2,') + 3))
    }
  })

  it('reading moves new/ → cur/ with S, bytes and mtime kept', async () => {
    for (const { from, to } of rec.read.filter((r) => beforeTree.has(r.from))) {
      assert.match(from, /\/new\//)
      assert.match(to, /\/cur\/.*:2,[A-Z]*S[A-Z]*$/)
      assert.equal((await stat(join(root, to))).mtimeMs, beforeTree.get(from)!.mtimeMs)
    }
  })

  it('folder moves are written as sync tools write them', async () => {
    const all = [...rec.moves, ...rec.trashed]
    assert.ok(all.some((m) => m.style === 'mbsync') && all.some((m) => m.style === 'offlineimap'))
    for (const m of all) {
      assert.ok(!existsSync(join(root, m.from)), `${m.from} removed`)
      assert.notEqual(m.from.split('/').slice(0, 2).join('/'), m.to.split('/').slice(0, 2).join('/'))
      const old = contents.get(m.from)!
      const now = await readFile(join(root, m.to))
      const s = await stat(join(root, m.to))
      if (m.style === 'offlineimap') {
        assert.ok(now.equals(old), 'offlineimap: identical bytes')
        assert.notEqual(s.mtimeMs, beforeTree.get(m.from)!.mtimeMs, 'offlineimap: new mtime')
        assert.match(m.to, /,FMD5=[0-9a-f]{32}:2,/)
      } else {
        assert.ok(!now.equals(old), 'mbsync: bytes differ')
        assert.equal(stripTuid(now), stripTuid(old), 'mbsync: only the X-TUID line differs')
        assert.equal(s.mtimeMs, beforeTree.get(m.from)!.mtimeMs, 'mbsync: same mtime')
      }
    }
    for (const t of rec.trashed) assert.match(t.to, /\/Trash\/cur\/.*:2,[A-Z]*T/)
  })

  it('deletions and the emptied Trash are gone', () => {
    for (const p of [...rec.deleted, ...rec.trashEmptied])
      assert.ok(!existsSync(join(root, p)), `${p} deleted`)
    assert.ok(rec.trashEmptied.length > 0)
    assert.ok(rec.trashEmptied.every((p) => /\/Trash\//.test(p)))
  })

  it('touches nothing it does not report', async () => {
    const reported = new Set([
      ...rec.flagRenames.map((r) => r.from),
      ...rec.read.map((r) => r.from),
      ...rec.moves.map((r) => r.from),
      ...rec.trashed.map((r) => r.from),
      ...rec.deleted,
      ...rec.trashEmptied,
      ...rec.stateFiles,
    ])
    const now = new Map((await walkTree(root)).map((e) => [e.path, e]))
    for (const [p, e] of beforeTree) {
      if (reported.has(p)) continue
      const n = now.get(p)
      assert.ok(n, `${p} still there`)
      assert.equal(n.mtimeMs, e.mtimeMs)
      assert.equal(n.size, e.size)
    }
  })

  it('is deterministic and the modes differ', async () => {
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    await generateMaildir(a, { scale: 0.005, seed: 5 })
    await generateMaildir(b, { scale: 0.005, seed: 5 })
    const ra = await mutateDay(a, { scale: 0.05, seed: 5, day: 2, mode: 'recent' })
    const rb = await mutateDay(b, { scale: 0.05, seed: 5, day: 2, mode: 'recent' })
    assert.deepEqual(ra, rb)
    assert.deepEqual(
      (await walkTree(a)).map((e) => [e.path, e.size, e.mtimeMs]),
      (await walkTree(b)).map((e) => [e.path, e.size, e.mtimeMs]),
    )
  })

  it('recent mode touches mostly recent mail, uniform mode older mail', async () => {
    const ages = async (mode: 'recent' | 'uniform') => {
      const r = join(dir, `m-${mode}`)
      await generateMaildir(r, { scale: 0.01, seed: 9 })
      const t = new Map((await walkTree(r)).map((e) => [e.path, e.mtimeMs]))
      const d = await mutateDay(r, { scale: 0.3, seed: 9, day: 0, mode })
      const ms = d.flagRenames.map((x) => t.get(x.from)!).sort((x, y) => x - y)
      return ms[Math.floor(ms.length / 2)]!
    }
    const recent = await ages('recent')
    const uniform = await ages('uniform')
    assert.ok(
      recent > uniform + 365 * 86400 * 1000,
      `median touched mtime: recent ${recent}, uniform ${uniform}`,
    )
  })
})

describe('floor and seed policy', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seb-floor-test-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('day floor compresses the new messages, about 2× for mail', async () => {
    const root = join(dir, 'f')
    await generateMaildir(root, { scale: 0.005, seed: 2 })
    const rec = await mutateDay(root, { scale: 0.2, seed: 2, day: 0 })
    const floor = await dayFloor(root, rec.newMessageFiles)
    assert.ok(floor > rec.newBytes / 4 && floor < rec.newBytes, `floor ${floor} for ${rec.newBytes}`)
    assert.equal(await dayFloor(root, []), 0)
  })

  it('seed policy rewrites whole 250-file packs on renames and deletions', async () => {
    const root = join(dir, 's')
    await generateMaildir(root, { scale: 0.01, seed: 4 })
    const seed = new SeedPolicy(root, { sizing: 'estimate' })
    const first = await seed.initial()
    const files = (await walkTree(root)).length
    assert.equal(first.packs, Math.ceil(files / 250))
    assert.equal(first.packsWritten, first.packs)
    const quiet = await seed.run()
    assert.equal(quiet.bytesUploaded, 0)
    assert.equal(quiet.packsRewritten, 0)
    await mutateDay(root, { scale: 0.2, seed: 4, day: 0, mode: 'uniform' })
    const day = await seed.run()
    assert.ok(day.packsRewritten >= 2, `rewritten ${day.packsRewritten}`)
    assert.ok(day.bytesUploaded > first.bytesUploaded / 4, 'old packs are re-uploaded')
  })
})
