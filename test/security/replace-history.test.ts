// Issue 17, family 4: replacing the whole history. Everything the attacker puts back is genuine and
// signed — an older copy of this very destination, or all of another repository of the same owner — so
// only the machine's pins (the newest commit it has seen, the repository id it saw at this location)
// can tell. On the machine that saw the newer head, every command exits 14 and nothing is written or
// deleted; `--accept-rollback` takes the older copy deliberately.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { SECRET_NAME } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import {
  assertExit,
  assertNoForgery,
  assertNotShown,
  assertUnchanged,
  Exit,
  exists,
  listing,
} from './checks.js'
import {
  addMail,
  args,
  Machine,
  makeOwner,
  makeRepo,
  mustRun,
  type Repo,
  type RunOptions,
  World,
} from './victim.js'

const owner = makeOwner()
const work = tempDir('seb-sec-history-')
const m = new Machine(work.dir, owner)
after(() => {
  owner.cleanup()
  work.cleanup()
})

const B_MARK = 'OTHERREPO'

describe('replacing the whole history', () => {
  let a: Repo
  let b: Repo
  let world: World
  let n = 0
  const older = path.join(work.dir, 'a-two-backups-ago')
  const target = () => path.join(work.dir, `restored-${++n}`)

  before(async () => {
    a = await makeRepo(m, { dest: path.join(work.dir, 'a'), src: path.join(work.dir, 'a-src'), backups: 1 })
    // The attacker keeps a copy of the destination, then the owner backs up twice more.
    await fs.cp(a.dest, older, { recursive: true })
    for (const i of [1, 2]) {
      a.added.push(await addMail(a, `later-${i}`))
      await mustRun(m, args(a, 'backup', a.src, a.dest), { key: 'public' })
    }
    b = await makeRepo(m, {
      dest: path.join(work.dir, 'b'),
      src: path.join(work.dir, 'b-src'),
      backups: 3,
      marker: B_MARK,
    })
    world = new World([a.dest, m.data, m.cache])
    await world.save()
  })
  beforeEach(() => world.reset())

  /** everyCommandRefuses runs each command on the machine that saw the real head: 14, nothing changed. */
  const everyCommandRefuses = async (markers: string[]) => {
    const attacked = listing(a.dest)
    await addMail(a, `after-replace-${n}`)
    const runs: [string, string[], RunOptions][] = [
      ['snapshots', ['snapshots', a.dest], {}],
      ['ls', ['ls', a.dest], {}],
      ['find', ['find', a.dest, '*'], {}],
      ['restore (cache lost)', ['restore', a.dest, target()], { cache: m.freshDir('cache') }],
      ['verify', ['verify', a.dest], {}],
      ['backup', ['backup', a.src, a.dest], { key: 'public' }],
      ['compact', ['compact', a.dest], {}],
    ]
    for (const [what, a2, o] of runs) {
      const r = await m.run(args(a, ...a2), o)
      assertExit(r, Exit.Untrusted, what, what === 'verify' ? 'report' : 'line')
      assertNotShown(r, what, markers)
    }
    assertUnchanged(attacked, listing(a.dest), 'the refused commands')
  }

  it('the destination put back as it was two backups ago (all of it signed by the repository key): every command exits 14 on the machine that saw the newer head; nothing changes', async () => {
    await fs.rm(a.dest, { recursive: true })
    await fs.cp(older, a.dest, { recursive: true })
    await everyCommandRefuses([])
  })

  it('with --accept-rollback the owner restores the older copy deliberately: the snapshot it holds, nothing newer', async () => {
    await fs.rm(a.dest, { recursive: true })
    await fs.cp(older, a.dest, { recursive: true })
    const out = target()
    const r = await m.run(args(a, 'restore', a.dest, out, '--accept-rollback'), {
      cache: m.freshDir('cache'),
    })
    assertExit(r, Exit.Ok, 'restore --accept-rollback')
    assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)))
    for (const rel of a.added.slice(0, 2)) assert.ok(!(await exists(path.join(out, rel))), `${rel} is newer`)
  })

  it("another repository's everything (same owner and key, made by seb) at this location: every command exits 14; nothing of it is listed or restored; nothing changes", async () => {
    await fs.rm(a.dest, { recursive: true })
    await fs.cp(b.dest, a.dest, { recursive: true })
    await everyCommandRefuses([B_MARK])
    for (const e of await fs.readdir(work.dir))
      if (e.startsWith('restored-')) await assertNoForgery(path.join(work.dir, e), 'restore', [B_MARK])
  })
})
