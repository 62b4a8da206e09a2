// Issue 17, family 6: tampering with each manifest setting. The settings that decide where new backups
// go and what is kept — recipients, retention, pack size, compression, format and serial, the
// repository key — are in the manifest, signed by an owner (or, for a passphrase repository, by the key
// the passphrase derives). The attacker changes each one and either leaves the owner's certificate
// (which no longer matches) or signs the new bytes with its own OpenPGP key (or its own Ed25519 key).
// Every time, on the machine that pinned the manifest: backup and snapshots exit 14, nothing is written
// (so nothing is encrypted to the attacker), nothing is deleted. A brand-new machine with the owner's
// key refuses a manifest the attacker signed, even one that lists the owner among its recipients.
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { tempDir } from '../helpers/tree.js'
import {
  Attacker,
  Destination,
  forgeCommit,
  type Manifest,
  packOf,
  phishMembers,
  saveCommit,
  savePack,
  tamperManifest,
} from './attacker.js'
import { assertExit, assertNoForgery, assertNotShown, assertUnchanged, Exit, listing } from './checks.js'
import { addMail, args, Machine, makeOwner, makeRepo, type Repo, World } from './victim.js'

const owner = makeOwner()
const attacker = Attacker.create([owner.publicKey])
const work = tempDir('seb-sec-manifest-')
const m = new Machine(work.dir, owner)
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

/** The tampering, one setting at a time. */
const edits: [string, (x: Manifest) => Manifest][] = [
  [
    'recipients: the attacker key instead',
    (x) => ({ ...x, encryption: { type: 'recipients', recipients: [attacker.fingerprint] } }),
  ],
  [
    'recipients: the attacker key added',
    (x) => ({
      ...x,
      encryption: {
        type: 'recipients',
        recipients: [
          ...(x.encryption.type === 'recipients' ? x.encryption.recipients : []),
          attacker.fingerprint,
        ],
      },
    }),
  ],
  ['retentionDays: 0', (x) => ({ ...x, retentionDays: 0 })],
  ['packBytes: 1', (x) => ({ ...x, packBytes: 1 })],
  ['compression: none', (x) => ({ ...x, compression: 'none' })],
  ['format: 3', (x) => ({ ...x, format: 3 })],
  ['serial: + 1', (x) => ({ ...x, serial: x.serial + 1 })],
  ['signingKey: the attacker Ed25519 key', (x) => ({ ...x, signingKey: attacker.publicKeyBase64 })],
]

describe('tampering with the manifest', () => {
  let a: Repo
  let c: Repo
  let world: World
  let n = 0
  const target = () => path.join(work.dir, `restored-${++n}`)

  before(async () => {
    a = await makeRepo(m, { dest: path.join(work.dir, 'a'), src: path.join(work.dir, 'a-src'), backups: 2 })
    c = await makeRepo(m, {
      dest: path.join(work.dir, 'c'),
      src: path.join(work.dir, 'c-src'),
      backups: 2,
      passphrase: 'correct horse battery staple',
    })
    world = new World([a.dest, c.dest, m.data, m.cache])
    await world.save()
  })
  beforeEach(() => world.reset())

  /** refusedEverywhere: the pinned machine's backup and snapshots exit 14; the destination is unchanged. */
  const refusedEverywhere = async (repo: Repo) => {
    const attacked = listing(repo.dest)
    await addMail(repo, `after-manifest-${n++}`)
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), {
      key: repo.passFile ? 'owner' : 'public',
    })
    assertExit(b, Exit.Untrusted, 'backup')
    const s = await m.run(args(repo, 'snapshots', repo.dest))
    assertExit(s, Exit.Untrusted, 'snapshots')
    assertUnchanged(attacked, listing(repo.dest), 'backup and snapshots')
  }

  for (const [what, edit] of edits)
    for (const resign of ['keep', 'openpgp'] as const)
      it(`recipient repository, ${what}, ${resign === 'keep' ? "the owner's certificate left as it was" : 'signed with the attacker OpenPGP key'}: backup and snapshots exit 14, nothing written`, async () => {
        tamperManifest(new Destination(a.dest), attacker, edit, resign)
        await refusedEverywhere(a)
      })

  for (const [what, edit, resign] of [
    ['recipients: the attacker key (an OpenPGP certificate by the attacker)', edits[0]![1], 'openpgp'],
    ['retentionDays: 0, signed with the attacker Ed25519 key', edits[2]![1], 'ed25519'],
    ['packBytes: 1, the certificate left as it was', edits[3]![1], 'keep'],
    ['signingKey: the attacker key, signed with it', edits[7]![1], 'ed25519'],
  ] as const)
    it(`passphrase repository, ${what}: backup and snapshots exit 14, nothing written`, async () => {
      tamperManifest(new Destination(c.dest), attacker, edit, resign)
      await refusedEverywhere(c)
    })

  it('a brand-new machine with the owner key: a manifest listing the owner and the attacker, signed by the attacker, with the attacker repository key and a commit signed by it, is refused with 14; nothing forged restored', async () => {
    const d = new Destination(a.dest)
    tamperManifest(d, attacker, edits[1]![1], 'openpgp')
    tamperManifest(d, attacker, edits[7]![1], 'openpgp')
    const encrypt = (b: Buffer) => attacker.encryptTo(d.recipients(), b)
    const pack = packOf(phishMembers(10), encrypt)
    savePack(d, pack)
    saveCommit(
      d,
      forgeCommit({
        dest: d,
        repository: d.repository(),
        encrypt,
        pack,
        signer: (b) => attacker.signCommitBody(b),
      }),
    )
    const attacked = listing(a.dest)
    const out = target()
    const r = await m.run(args(a, 'restore', a.dest, out), {
      data: m.freshDir('data'),
      cache: m.freshDir('cache'),
    })
    assertExit(r, Exit.Untrusted, 'restore on a new machine')
    assertNotShown(r, 'restore on a new machine')
    await assertNoForgery(out, 'restore on a new machine')
    // The same on the machine that pinned the owner's manifest.
    const r2 = await m.run(args(a, 'restore', a.dest, target()), { cache: m.freshDir('cache') })
    assertExit(r2, Exit.Untrusted, 'restore')
    assertUnchanged(attacked, listing(a.dest), 'the restores')
    assert.ok(d.config().manifest.encryption.type === 'recipients')
  })
})
