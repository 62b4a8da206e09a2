// Issue 17, family 3: splicing objects of another repository made by seb itself. The attacker holds
// several of the owner's destinations: B, another repository of the same key; C, a passphrase
// repository; D, a passphrase repository with the same passphrase as C. Their objects are real seb
// objects — they decrypt with the owner's key or passphrase — but their commits are signed by another
// repository key and name another repository, and their manifests carry another repository id. So
// spliced packs restore nothing (13), spliced commits are ignored by readers and refused by writers
// (14), and a spliced config is another repository at a location the machine knows (14 for every
// command). Nothing of B, C or D is ever restored or listed in A; nothing of A is deleted.
import assert from 'node:assert/strict'
import { cpSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { SECRET_NAME } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { Attacker, Destination } from './attacker.js'
import {
  assertExit,
  assertKept,
  assertNamed,
  assertNoForgery,
  assertNotShown,
  assertUnchanged,
  assertWarnsOnce,
  Exit,
  exists,
  type Listing,
  listing,
} from './checks.js'
import { addMail, args, Machine, makeOwner, makeRepo, type Repo, World } from './victim.js'

const owner = makeOwner()
const attacker = Attacker.create([owner.publicKey])
const work = tempDir('seb-sec-splice-')
const m = new Machine(work.dir, owner)
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

const B_MARK = 'SPLICEDB'
const C_MARK = 'SPLICEDC'
const D_MARK = 'SPLICEDD'
const PASS = 'correct horse battery staple'

describe('splicing objects of the owner other repositories', () => {
  let a: Repo
  let b: Repo
  let c: Repo
  let d: Repo
  let world: World
  const original = new Map<string, Listing>()
  let n = 0
  const target = () => path.join(work.dir, `restored-${++n}`)
  const markers = [B_MARK, C_MARK, D_MARK]

  /** copyObjects copies a repository's objects of one folder into another (what the attacker splices). */
  const copyObjects = (from: Repo, to: Repo, dir: 'commits' | 'sigs' | 'packs') => {
    const copied: string[] = []
    if (!new Destination(from.dest).exists(dir))
      throw new Error(`${from.dest}: no ${dir}/: the attack needs a format-2 repository (docs/design.md)`)
    const walk = (rel: string) => {
      for (const e of readdirSync(path.join(from.dest, rel), { withFileTypes: true })) {
        const r = `${rel}/${e.name}`
        if (e.isDirectory()) walk(r)
        else {
          cpSync(path.join(from.dest, r), path.join(to.dest, r))
          copied.push(r)
        }
      }
    }
    walk(dir)
    return copied
  }
  const names = (r: Repo, dir: 'commits' | 'sigs') => new Destination(r.dest).names(dir)

  before(async () => {
    const mk = (name: string, o: { passphrase?: string; backups: number; marker: string }) =>
      makeRepo(m, { dest: path.join(work.dir, name), src: path.join(work.dir, `${name}-src`), ...o })
    a = await mk('a', { backups: 2, marker: 'real' })
    b = await mk('b', { backups: 1, marker: B_MARK })
    c = await mk('c', { backups: 2, marker: C_MARK, passphrase: PASS })
    d = await mk('d', { backups: 1, marker: D_MARK, passphrase: PASS })
    world = new World([a.dest, b.dest, c.dest, d.dest, m.data, m.cache])
    await world.save()
    for (const r of [a, b, c, d]) original.set(r.dest, listing(r.dest))
  })
  beforeEach(() => world.reset())

  /**
   * readersIgnore: restore (cache lost) and ls ignore each spliced commit with one warning line. The
   * victim's own marker is not forged: `foreign` lists the others'.
   */
  const readersIgnore = async (
    r: Repo,
    spliced: readonly string[],
    restoredMail: string,
    foreign: readonly string[] = markers,
  ) => {
    const out = target()
    const res = await m.run(args(r, 'restore', r.dest, out), { cache: m.freshDir('cache') })
    assertExit(res, Exit.Ok, 'restore')
    for (const s of spliced) assertWarnsOnce(res, s, 'restore')
    assertNotShown(res, 'restore', foreign)
    await assertNoForgery(out, 'restore', foreign)
    assert.ok(await exists(path.join(out, restoredMail)), `${restoredMail} restored`)
    const l = await m.run(args(r, 'ls', r.dest))
    assertExit(l, Exit.Ok, 'ls')
    assertNotShown(l, 'ls', foreign)
  }
  /** writersRefuse: verify names each spliced commit (14); backup refuses (14) and writes nothing. */
  const writersRefuse = async (r: Repo, spliced: readonly string[]) => {
    const before = listing(r.dest)
    const v = await m.run(args(r, 'verify', r.dest))
    assertExit(v, Exit.Untrusted, 'verify', 'report')
    for (const s of spliced) assertNamed(v, s, 'verify')
    await addMail(r, 'after-splice')
    const bk = await m.run(args(r, 'backup', r.src, r.dest), { key: r.passFile ? 'owner' : 'public' })
    assertExit(bk, Exit.Untrusted, 'backup')
    assertUnchanged(before, listing(r.dest), 'verify and backup')
    assertKept(original.get(r.dest)!, listing(r.dest), 'verify and backup')
  }

  it("A's newest pack replaced by B's newest (same key, made by seb): restore exits 13 and restores A's other mail and nothing of B; backup deletes nothing of A", async () => {
    const packA = new Destination(a.dest).packs().at(-1)!
    const packB = new Destination(b.dest).packs().at(-1)!
    const dA = new Destination(a.dest)
    dA.write(dA.packPath(packA), new Destination(b.dest).read(new Destination(b.dest).packPath(packB)))
    const attacked = listing(a.dest)
    const out = target()
    const r = await m.run(args(a, 'restore', a.dest, out), { cache: m.freshDir('cache') })
    assertExit(r, Exit.Damaged, 'restore', 'report')
    await assertNoForgery(out, 'restore', markers)
    assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)), 'the first backup restored')
    assertUnchanged(attacked, listing(a.dest), 'restore')
    await addMail(a, 'after-pack-splice')
    const bk = await m.run(args(a, 'backup', a.src, a.dest), { key: 'public' })
    assertExit(bk, Exit.Ok, 'backup')
    assertKept(original.get(a.dest)!, listing(a.dest), 'backup', [dA.packPath(packA)])
  })

  it("B's commits, signatures and packs copied into A (another repository key, another id): readers ignore each with one warning; verify and backup exit 14", async () => {
    for (const dir of ['packs', 'commits', 'sigs'] as const) copyObjects(b, a, dir)
    const spliced = names(b, 'sigs')
    assert.equal(spliced.length, 1)
    await readersIgnore(a, spliced, a.added[0]!)
    await writersRefuse(a, spliced)
  })

  it("C's commits, signatures and packs (a passphrase repository) copied into A: readers ignore each with one warning; verify and backup exit 14", async () => {
    for (const dir of ['packs', 'commits', 'sigs'] as const) copyObjects(c, a, dir)
    const spliced = names(c, 'sigs')
    await readersIgnore(a, spliced, a.added[0]!)
    await writersRefuse(a, spliced)
  })

  it("D's commits, signatures and packs copied into C (same passphrase, so they decrypt; another repository key): readers ignore each with one warning; verify and backup exit 14", async () => {
    for (const dir of ['packs', 'commits', 'sigs'] as const) copyObjects(d, c, dir)
    const spliced = names(d, 'sigs')
    await readersIgnore(c, spliced, c.added[0]!, [B_MARK, D_MARK])
    await writersRefuse(c, spliced)
  })

  for (const [what, from, to] of [
    ["B's config (signed by the owner, another repository id) at A", () => b, () => a],
    ["C's config (a passphrase repository's manifest) at A", () => c, () => a],
    ["D's config (same passphrase, another id) at C", () => d, () => c],
  ] as const)
    it(`${what}: every command exits 14 on the machine that saw the other repository there; nothing changes`, async () => {
      const victim = to()
      cpSync(path.join(from().dest, 'config'), path.join(victim.dest, 'config'))
      const attacked = listing(victim.dest)
      await addMail(victim, 'after-config-splice')
      for (const [cmd, a2, o] of [
        ['snapshots', ['snapshots', victim.dest], {}],
        ['restore', ['restore', victim.dest, target()], { cache: m.freshDir('cache') }],
        ['verify', ['verify', victim.dest], {}],
        ['backup', ['backup', victim.src, victim.dest], { key: victim.passFile ? 'owner' : 'public' }],
      ] as const) {
        const r = await m.run(args(victim, ...a2), o)
        assertExit(r, Exit.Untrusted, cmd, cmd === 'verify' ? 'report' : 'line')
        assertNotShown(r, cmd, markers)
      }
      assertUnchanged(attacked, listing(victim.dest), 'the commands')
    })
})
