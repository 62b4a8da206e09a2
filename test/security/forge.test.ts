// Issue 17, family 1: forging by encrypting to the public key. The attacker has the recipients' public
// keys (the manifest names them), so it can make packs and commits that gpg decrypts without a
// complaint. A pack is authentic only through the SHA-256 the authenticated index gives for its
// contents; a commit only through a signature object by the repository key. So: a substituted pack
// restores nothing of its own (exit 13, the rest restored); a forged commit — with a signature object
// by the attacker's own Ed25519 key, or none — is ignored by readers (one warning line naming it, exit
// 0), reported by verify (exit 14), and makes backup and compact refuse (exit 14, nothing written or
// deleted); a forged signature object for a real commit is a rolled-back head on the machine that saw
// it (exit 14) and an ignored object on a new machine.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { makeSshHome } from '../e2e/env.js'
import { SECRET_NAME } from '../helpers/maildir.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { tempDir } from '../helpers/tree.js'
import {
  Attacker,
  Destination,
  forgeCommit,
  packOf,
  phishMembers,
  resignSig,
  saveCommit,
  savePack,
  sha256,
} from './attacker.js'
import {
  assertEncryptedOnlyTo,
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
  written,
} from './checks.js'
import { addMail, args, Machine, makeOwner, makeRepo, type Repo, World } from './victim.js'

const owner = makeOwner()
const attacker = Attacker.create([owner.publicKey])
const work = tempDir('seb-sec-forge-')
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

describe('forging by encrypting to the public key (local destination)', () => {
  const m = new Machine(work.dir, owner)
  let repo: Repo
  let world: World
  let original: Listing
  let n = 0
  const dest = () => new Destination(repo.dest)
  const encrypt = (b: Buffer) => attacker.encryptTo(dest().recipients(), b)
  const target = () => path.join(work.dir, `restored-${++n}`)
  const ownerKeys = { keyIds: owner.encKeyIds }

  before(async () => {
    repo = await makeRepo(m, {
      dest: path.join(work.dir, 'dest'),
      src: path.join(work.dir, 'src'),
      backups: 2,
    })
    world = new World([repo.dest, m.data, m.cache])
    await world.save()
    original = listing(repo.dest)
  })
  beforeEach(() => world.reset())

  /** restored checks a restore brought back the real mail of `upTo` backups and nothing forged. */
  const assertRealMail = async (dir: string, o: { secret: boolean; added: number }) => {
    assert.equal(await exists(path.join(dir, 'INBOX/cur', SECRET_NAME)), o.secret, `${SECRET_NAME} restored`)
    for (const [i, rel] of repo.added.entries()) {
      const there = await exists(path.join(dir, rel))
      assert.equal(there, i < o.added, `${rel} restored: ${there}`)
      if (there)
        assert.ok(
          (await fs.readFile(path.join(dir, rel))).equals(await fs.readFile(path.join(repo.src, rel))),
        )
    }
  }

  it('a real pack replaced by one encrypted to the owner key (the phishing message at every ordinal, links to /etc/shadow): restore exits 13 with the rest restored and nothing forged; ls and find show nothing forged; verify --read-data fails; the next backup deletes nothing and encrypts to the owner only', async () => {
    const d = dest()
    const victim = d.packs()[0]!
    savePack(d, packOf(phishMembers(80), encrypt, victim))
    const attacked = listing(repo.dest)

    const out = target()
    const r = await m.run(args(repo, 'restore', repo.dest, out), { cache: m.freshDir('cache') })
    assertExit(r, Exit.Damaged, 'restore', 'report')
    assertNotShown(r, 'restore')
    await assertNoForgery(out, 'restore')
    // The second backup's mail is in the second pack: restored, byte for byte.
    await assertRealMail(out, { secret: false, added: 1 })

    for (const a of [
      ['ls', repo.dest],
      ['find', repo.dest, '*'],
      ['snapshots', repo.dest],
    ]) {
      const l = await m.run(args(repo, ...a))
      assertExit(l, Exit.Ok, a[0]!)
      assertNotShown(l, a[0]!)
    }
    const v = await m.run(args(repo, 'verify', repo.dest, '--read-data'), { cache: m.freshDir('cache') })
    assertExit(v, [Exit.Damaged, Exit.Untrusted], 'verify --read-data', 'report')
    assertNotShown(v, 'verify')
    assertUnchanged(attacked, listing(repo.dest), 'the readers')

    await addMail(repo, 'after-pack-forgery')
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    assertExit(b, Exit.Ok, 'backup')
    const now = listing(repo.dest)
    assertKept(original, now, 'backup', [d.packPath(victim)])
    assert.ok(written(attacked, now).length >= 2, 'the backup wrote a pack and a commit')
    assertEncryptedOnlyTo(repo.dest, written(attacked, now), attacker.home, ownerKeys)
  })

  for (const signed of [true, false])
    it(`a forged checkpoint after the head ${signed ? 'with a signature object by the attacker Ed25519 key' : 'with no signature object'} (the phishing message, a link to /etc/shadow, every real file gone): restore, ls, find and snapshots show nothing forged and the real head; ${signed ? 'verify exits 14 naming it; backup and compact exit 14 and change nothing' : 'the next backup builds on the real head and deletes nothing of it'}`, async () => {
      const d = dest()
      const pack = packOf(phishMembers(10), encrypt)
      savePack(d, pack)
      const c = forgeCommit({
        dest: d,
        repository: d.repository(),
        encrypt,
        pack,
        signer: signed ? (body) => attacker.signCommitBody(body) : null,
      })
      saveCommit(d, c)
      const attacked = listing(repo.dest)

      // The machine that made the repository, its cache lost: it must read the commits again.
      const out = target()
      const r = await m.run(args(repo, 'restore', repo.dest, out), { cache: m.freshDir('cache') })
      assertExit(r, Exit.Ok, 'restore')
      if (signed) assertWarnsOnce(r, c.name, 'restore')
      assertNotShown(r, 'restore')
      await assertNoForgery(out, 'restore')
      await assertRealMail(out, { secret: true, added: 1 })

      for (const a of [
        ['ls', repo.dest],
        ['find', repo.dest, '*'],
        ['snapshots', repo.dest],
      ]) {
        const l = await m.run(args(repo, ...a))
        assertExit(l, Exit.Ok, a[0]!)
        if (signed) assertWarnsOnce(l, c.name, a[0]!)
        assertNotShown(l, a[0]!)
        if (a[0] === 'ls')
          assert.match(l.stdout, new RegExp(SECRET_NAME.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      }

      // A brand-new machine with the owner's key: no pin, no cache, the same refusal.
      const fresh = { data: m.freshDir('data'), cache: m.freshDir('cache') }
      const out2 = target()
      const r2 = await m.run(args(repo, 'restore', repo.dest, out2), fresh)
      assertExit(r2, Exit.Ok, 'restore on a new machine')
      if (signed) assertWarnsOnce(r2, c.name, 'restore on a new machine')
      await assertNoForgery(out2, 'restore on a new machine')
      await assertRealMail(out2, { secret: true, added: 1 })

      if (signed) {
        const v = await m.run(args(repo, 'verify', repo.dest))
        assertExit(v, Exit.Untrusted, 'verify', 'report')
        assertNamed(v, c.name, 'verify')
        assertNotShown(v, 'verify')
        await addMail(repo, 'after-forged-commit')
        const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
        assertExit(b, Exit.Untrusted, 'backup')
        const k = await m.run(args(repo, 'compact', repo.dest, '--threshold', '0'))
        assertExit(k, Exit.Untrusted, 'compact')
        assertUnchanged(attacked, listing(repo.dest), 'verify, backup and compact')
      } else {
        assertUnchanged(attacked, listing(repo.dest), 'the readers')
        const rel = await addMail(repo, 'after-unsigned-commit')
        const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
        assertExit(b, Exit.Ok, 'backup')
        const now = listing(repo.dest)
        assertKept(original, now, 'backup')
        assertEncryptedOnlyTo(repo.dest, written(attacked, now), attacker.home, ownerKeys)
        // What it committed continues the real history: everything real is there, nothing forged.
        const out3 = target()
        const r3 = await m.run(args(repo, 'restore', repo.dest, out3), { cache: m.freshDir('cache') })
        assertExit(r3, Exit.Ok, 'restore after the backup')
        await assertNoForgery(out3, 'restore after the backup')
        await assertRealMail(out3, { secret: true, added: 1 })
        assert.ok(await exists(path.join(out3, rel)), 'the new backup restored')
      }
    })

  it('a forged signature object for the real head (its very body, signed with the attacker key): exit 14 on the machine that saw that head, nothing changed; a new machine ignores it with one warning and restores the snapshot before', async () => {
    const d = dest()
    const head = d.head()
    resignSig(d, head.name, (body) => attacker.signCommitBody(body))
    const attacked = listing(repo.dest)

    for (const [what, a, o] of [
      ['restore (cache lost)', ['restore', repo.dest, target()], { cache: m.freshDir('cache') }],
      ['ls (cache lost)', ['ls', repo.dest], { cache: m.freshDir('cache') }],
      ['verify', ['verify', repo.dest], { cache: m.freshDir('cache') }],
    ] as const) {
      const r = await m.run(args(repo, ...a), o)
      assertExit(r, Exit.Untrusted, what, a[0] === 'verify' ? 'report' : 'line')
    }
    // With its cache, the machine may or may not read that signature again (it verified it before);
    // either way it does not write on a history it cannot authenticate, nor delete anything.
    await addMail(repo, 'after-forged-sig')
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    assertExit(b, [Exit.Ok, Exit.Untrusted], 'backup')
    const now = listing(repo.dest)
    if (b.code === Exit.Untrusted) assertUnchanged(attacked, now, 'backup')
    assertKept(original, now, 'backup', [`sigs/${head.name}`])
    assertEncryptedOnlyTo(repo.dest, written(attacked, now), attacker.home, ownerKeys)

    await world.reset()
    resignSig(dest(), head.name, (body) => attacker.signCommitBody(body))
    const out = target()
    const r = await m.run(args(repo, 'restore', repo.dest, out), {
      data: m.freshDir('data'),
      cache: m.freshDir('cache'),
    })
    assertExit(r, Exit.Ok, 'restore on a new machine')
    assertWarnsOnce(r, head.name, 'restore on a new machine')
    await assertRealMail(out, { secret: true, added: 0 })
  })

  it('the head commit replaced by a forged one and its signature object rewritten to name it (size, SHA-256), signed with the attacker key: exit 14 on the machine that saw the head; a new machine restores the snapshot before, nothing forged', async () => {
    const d = dest()
    const head = d.head()
    const pack = packOf(phishMembers(10), encrypt)
    savePack(d, pack)
    const forged = forgeCommit({
      dest: d,
      repository: d.repository(),
      encrypt,
      pack,
      signer: null,
      seq: head.seq,
      prevChain: '0'.repeat(64),
    })
    d.write(`commits/${head.name}`, forged.commit)
    resignSig(
      d,
      head.name,
      (body) => attacker.signCommitBody(body),
      (b) => ({
        ...b,
        size: forged.commit.length,
        sha256: sha256(forged.commit),
      }),
    )
    const attacked = listing(repo.dest)
    for (const [what, a, o] of [
      ['restore (cache lost)', ['restore', repo.dest, target()], { cache: m.freshDir('cache') }],
      ['snapshots (cache lost)', ['snapshots', repo.dest], { cache: m.freshDir('cache') }],
      ['verify (cache lost)', ['verify', repo.dest], { cache: m.freshDir('cache') }],
    ] as const) {
      const r = await m.run(args(repo, ...a), o)
      assertExit(r, Exit.Untrusted, what, a[0] === 'verify' ? 'report' : 'line')
      assertNotShown(r, what)
    }
    assertUnchanged(attacked, listing(repo.dest), 'the refused commands')
    const out = target()
    const r = await m.run(args(repo, 'restore', repo.dest, out), {
      data: m.freshDir('data'),
      cache: m.freshDir('cache'),
    })
    assertExit(r, Exit.Ok, 'restore on a new machine')
    assertWarnsOnce(r, head.name, 'restore on a new machine')
    await assertNoForgery(out, 'restore on a new machine')
    await assertRealMail(out, { secret: true, added: 0 })
  })
})

describe('forging over SFTP: the attacker writes on the server disk', () => {
  let server: Sshd
  const m = new Machine(work.dir, owner, 'sftp-machine')
  let repo: Repo
  let root = ''
  before(async () => {
    server = await startSshd()
    makeSshHome(m.home, server)
    root = path.join(server.dataDir, 'mail-repo')
    repo = await makeRepo(m, {
      dest: `sftp://${server.user}@127.0.0.1:${server.port}${root}`,
      src: path.join(work.dir, 'sftp-src'),
      backups: 2,
    })
  })
  after(() => server?.stop())

  it('a forged pack and a checkpoint signed with the attacker key: restore ignores it with one warning and restores nothing forged; backup exits 14 and changes nothing on the server', async () => {
    const d = new Destination(root)
    const original = listing(root)
    const encrypt = (b: Buffer) => attacker.encryptTo(d.recipients(), b)
    const pack = packOf(phishMembers(10), encrypt)
    savePack(d, pack)
    const c = forgeCommit({
      dest: d,
      repository: d.repository(),
      encrypt,
      pack,
      signer: (body) => attacker.signCommitBody(body),
    })
    saveCommit(d, c)
    const attacked = listing(root)
    const out = path.join(work.dir, 'sftp-restored')
    const r = await m.run(args(repo, 'restore', repo.dest, out), { cache: m.freshDir('cache') })
    assertExit(r, Exit.Ok, 'restore')
    assertWarnsOnce(r, c.name, 'restore')
    await assertNoForgery(out, 'restore')
    assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)))
    await addMail(repo, 'sftp-after')
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    assertExit(b, Exit.Untrusted, 'backup')
    assertUnchanged(attacked, listing(root), 'backup')
    assertKept(original, listing(root), 'backup')
  })
})
