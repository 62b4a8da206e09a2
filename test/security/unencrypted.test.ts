// Issue 17, family 2: unencrypted OpenPGP. `gpg --decrypt` exits 0 on a message made with `gpg --store`
// (a literal data packet, no encryption), so an attacker without any key — the passphrase repository's
// attacker included — could put anything into a restore. seb reads gpg's status lines and refuses any
// object that was not encrypted (to the recipients, or with the passphrase). Packs: restore exits 13,
// restores the rest and nothing of the substitute. Commits: whatever their signature object (the
// attacker's key, or none), readers ignore them, verify and backup refuse a signature that fails.
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { SECRET_NAME } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { Attacker, Destination, forgeCommit, packOf, phishMembers, saveCommit, savePack } from './attacker.js'
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
const work = tempDir('seb-sec-store-')
const m = new Machine(work.dir, owner)
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

for (const kind of ['recipients', 'passphrase'] as const)
  describe(`gpg --store objects in a ${kind} repository`, () => {
    let repo: Repo
    let world: World
    let original: Listing
    let n = 0
    const dest = () => new Destination(repo.dest)
    const target = () => path.join(work.dir, `${kind}-restored-${++n}`)
    const expectedEncryption = () => (kind === 'passphrase' ? 'passphrase' : { keyIds: owner.encKeyIds })
    const backupKey = kind === 'passphrase' ? 'owner' : 'public'

    before(async () => {
      repo = await makeRepo(m, {
        dest: path.join(work.dir, `${kind}-dest`),
        src: path.join(work.dir, `${kind}-src`),
        passphrase: kind === 'passphrase' ? 'correct horse battery staple' : undefined,
        backups: 2,
      })
      world = new World([repo.dest, m.data, m.cache])
      await world.save()
      original = listing(repo.dest)
    })
    beforeEach(() => world.reset())

    for (const compress of kind === 'recipients' ? [false, true] : [false])
      it(`a real pack replaced by gpg --store${compress ? ' (compressed)' : ''} of the phishing pack: restore exits 13, restores the rest and nothing forged; verify --read-data fails; backup deletes nothing`, async () => {
        const d = dest()
        const victim = d.packs()[0]!
        savePack(
          d,
          packOf(phishMembers(40), (b) => attacker.store(b, { compress }), victim),
        )
        const attacked = listing(repo.dest)
        const out = target()
        const r = await m.run(args(repo, 'restore', repo.dest, out), { cache: m.freshDir('cache') })
        assertExit(r, Exit.Damaged, 'restore', 'report')
        assertNotShown(r, 'restore')
        await assertNoForgery(out, 'restore')
        assert.ok(await exists(path.join(out, repo.added[0]!)), 'the second backup restored')
        const v = await m.run(args(repo, 'verify', repo.dest, '--read-data'), { cache: m.freshDir('cache') })
        assertExit(v, [Exit.Damaged, Exit.Untrusted], 'verify --read-data', 'report')
        assertNotShown(v, 'verify')
        assertUnchanged(attacked, listing(repo.dest), 'restore and verify')
        await addMail(repo, `after-store-pack-${kind}`)
        const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: backupKey })
        assertExit(b, Exit.Ok, 'backup')
        const now = listing(repo.dest)
        assertKept(original, now, 'backup', [d.packPath(victim)])
        assertEncryptedOnlyTo(repo.dest, written(attacked, now), attacker.home, expectedEncryption())
      })

    it('a gpg --store commit after the head with a gpg --store pack, its signature object by the attacker key: readers ignore it with one warning; verify and backup exit 14 and change nothing', async () => {
      const d = dest()
      const store = (b: Buffer) => attacker.store(b)
      const pack = packOf(phishMembers(10), store)
      savePack(d, pack)
      const c = forgeCommit({
        dest: d,
        repository: d.repository(),
        encrypt: store,
        pack,
        signer: (body) => attacker.signCommitBody(body),
      })
      saveCommit(d, c)
      const attacked = listing(repo.dest)
      const out = target()
      const r = await m.run(args(repo, 'restore', repo.dest, out), { cache: m.freshDir('cache') })
      assertExit(r, Exit.Ok, 'restore')
      assertWarnsOnce(r, c.name, 'restore')
      await assertNoForgery(out, 'restore')
      assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)))
      const l = await m.run(args(repo, 'ls', repo.dest), { cache: m.freshDir('cache') })
      assertExit(l, Exit.Ok, 'ls')
      assertNotShown(l, 'ls')
      const v = await m.run(args(repo, 'verify', repo.dest))
      assertExit(v, Exit.Untrusted, 'verify', 'report')
      assertNamed(v, c.name, 'verify')
      await addMail(repo, `after-store-commit-${kind}`)
      const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: backupKey })
      assertExit(b, Exit.Untrusted, 'backup')
      assertUnchanged(attacked, listing(repo.dest), 'the commands')
    })

    it('a gpg --store commit after the head with no signature object: restore and ls show nothing forged; the next backup deletes nothing and encrypts as the repository says', async () => {
      const d = dest()
      const store = (b: Buffer) => attacker.store(b)
      const pack = packOf(phishMembers(10), store)
      savePack(d, pack)
      const c = forgeCommit({ dest: d, repository: d.repository(), encrypt: store, pack, signer: null })
      saveCommit(d, c)
      const attacked = listing(repo.dest)
      const out = target()
      const r = await m.run(args(repo, 'restore', repo.dest, out), { cache: m.freshDir('cache') })
      assertExit(r, Exit.Ok, 'restore')
      assertNotShown(r, 'restore')
      await assertNoForgery(out, 'restore')
      assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)))
      const l = await m.run(args(repo, 'find', repo.dest, '*'), { cache: m.freshDir('cache') })
      assertExit(l, Exit.Ok, 'find')
      assertNotShown(l, 'find')
      await addMail(repo, `after-unsigned-store-${kind}`)
      const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: backupKey })
      assertExit(b, Exit.Ok, 'backup')
      const now = listing(repo.dest)
      assertKept(original, now, 'backup')
      assertEncryptedOnlyTo(repo.dest, written(attacked, now), attacker.home, expectedEncryption())
    })
  })
