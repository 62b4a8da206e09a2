// Issue 17, family 7: memory bombs. Whatever the destination holds, the seb process stays under
// 512 MiB of resident memory (GNU time's %M, the peak of the process) and ends with a documented code
// and one clear line: a commit that decompresses to 4 GiB (never decrypted: its signature is checked
// first), pack members that claim gigabytes (checked against the index's size before a byte is
// written), the member that goes to two paths replaced by a 4 GiB one (never held whole), absurd member
// ordinals, and oversized plaintext objects (a signature object, a lock, the config).
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { SECRET_NAME } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import {
  Attacker,
  commitName,
  Destination,
  forgeCommit,
  forgedSnapshot,
  header,
  memberBytes,
  packOf,
  phishMembers,
  saveCommit,
  savePack,
  sha256,
  zstdBomb,
} from './attacker.js'
import {
  assertExit,
  assertNoForgery,
  assertUnchanged,
  assertWarnsOnce,
  Exit,
  exists,
  listing,
} from './checks.js'
import {
  addMail,
  args,
  Machine,
  type Measured,
  makeOwner,
  makeRepo,
  mustRun,
  type Repo,
  type RunOptions,
  runMeasured,
  World,
} from './victim.js'

const owner = makeOwner()
const attacker = Attacker.create([owner.publicKey])
const work = tempDir('seb-sec-memory-')
const m = new Machine(work.dir, owner)
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

const GiB = 1024 ** 3
const LIMIT_KIB = 512 * 1024

/** bounded: the run ended by itself, under 512 MiB. */
function assertBounded(r: Measured, what: string): void {
  assert.ok(!r.killedForMemory, `${what}: killed past 1.5 GiB of resident memory`)
  assert.ok(!r.timedOut, `${what}: still running after the time limit`)
  assert.ok(r.maxRssKiB > 0, `${what}: no peak memory measured`)
  assert.ok(r.maxRssKiB < LIMIT_KIB, `${what}: peak RSS ${Math.round(r.maxRssKiB / 1024)} MiB`)
}

describe('memory bombs', () => {
  let repo: Repo
  let world: World
  let n = 0
  const dest = () => new Destination(repo.dest)
  const encrypt = (b: Buffer) => attacker.encryptTo(dest().recipients(), b)
  const target = () => path.join(work.dir, `restored-${++n}`)
  const measured = (mm: Machine, a: string[], o: RunOptions & { timeoutMs?: number } = {}) =>
    runMeasured(mm, args(repo, ...a), o)
  let twoPaths: string[] = []

  before(async () => {
    repo = await makeRepo(m, {
      dest: path.join(work.dir, 'dest'),
      src: path.join(work.dir, 'src'),
      backups: 1,
    })
    // The second backup stores one content that goes to two paths: a copied message.
    const body = 'From: list@example.org\nSubject: the same message twice\n\ncopied into two folders\n'
    twoPaths = [await addMail(repo, 'copy-a', body), await addMail(repo, 'copy-b', body)]
    await mustRun(m, args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    world = new World([repo.dest, m.data, m.cache])
    await world.save()
  })
  beforeEach(() => world.reset())

  /** commitBomb is a commit whose record member claims, and decompresses to, 4 GiB of '['. */
  const commitBomb = (seq: number): Buffer => {
    const line = Buffer.from(
      `${JSON.stringify({ seb: 2, repository: dest().repository(), kind: 'delta', seq, time: new Date().toISOString(), snapshot: forgedSnapshot(seq, 1) })}\n`,
    )
    const name = `.seb-index/${String(seq).padStart(10, '0')}.jsonl`
    return zstdBomb(
      Buffer.concat([header({ name, typeflag: '0', size: line.length + 4 * GiB }), line]),
      0x5b,
      4 * GiB,
    )
  }

  for (const signed of [true, false])
    it(`a commit after the head that decompresses to 4 GiB (a zstd bomb), ${signed ? 'its signature object by the attacker key' : 'with no signature object'}: restore and ${signed ? 'verify' : 'backup'} stay under 512 MiB`, async () => {
      const d = dest()
      const head = d.head()
      const pack = packOf(phishMembers(2), encrypt)
      const c = forgeCommit({
        dest: d,
        repository: d.repository(),
        encrypt,
        pack,
        signer: signed ? (b) => attacker.signCommitBody(b) : null,
        stream: commitBomb(head.seq + 1),
      })
      assert.ok(c.commit.length < 200 * 1024)
      saveCommit(d, c)
      const out = target()
      const r = await measured(m, ['restore', repo.dest, out], { cache: m.freshDir('cache') })
      assertBounded(r, 'restore')
      assertExit(r, Exit.Ok, 'restore')
      if (signed) assertWarnsOnce(r, c.name, 'restore')
      assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)))
      if (signed) {
        const v = await measured(m, ['verify', repo.dest], { cache: m.freshDir('cache') })
        assertBounded(v, 'verify')
        assertExit(v, Exit.Untrusted, 'verify', 'report')
      } else {
        await addMail(repo, 'after-commit-bomb')
        const b = await measured(m, ['backup', repo.src, repo.dest], { key: 'public' })
        assertBounded(b, 'backup')
        assertExit(b, Exit.Ok, 'backup')
      }
    })

  it('packs whose member claims 6 GiB (and is a 6 GiB zstd bomb) or, in a pax header, 1 TiB: restore exits 13 and verify --read-data fails, both under 512 MiB', async () => {
    const d = dest()
    const [first, second] = d.packs()
    const huge = (size: number) =>
      zstdBomb(header({ name: 'INBOX/cur/huge', typeflag: '0', size }), 0x41, size)
    d.write(d.packPath(first!), encrypt(huge(6 * GiB)))
    const pax = memberBytes({
      name: 'INBOX/cur/pax-huge',
      data: Buffer.alloc(0),
      size: 0,
      pax: { size: String(1024 * GiB) },
    })
    d.write(d.packPath(second!), encrypt(zstdBomb(pax, 0x42, GiB)))
    const out = target()
    const r = await measured(m, ['restore', repo.dest, out], {
      cache: m.freshDir('cache'),
      timeoutMs: 120_000,
    })
    assertBounded(r, 'restore')
    assertExit(r, Exit.Damaged, 'restore', 'report')
    await assertNoForgery(out, 'restore')
    const v = await measured(m, ['verify', repo.dest, '--read-data'], {
      cache: m.freshDir('cache'),
      timeoutMs: 120_000,
    })
    assertBounded(v, 'verify --read-data')
    assertExit(v, [Exit.Damaged, Exit.Untrusted], 'verify --read-data', 'report')
  })

  it('the pack whose one member goes to two paths replaced by a 4 GiB member: restore exits 13 under 512 MiB and restores the rest', async () => {
    const d = dest()
    const newest = d.packs().at(-1)!
    d.write(
      d.packPath(newest),
      encrypt(zstdBomb(header({ name: twoPaths[0]!, typeflag: '0', size: 4 * GiB }), 0x43, 4 * GiB)),
    )
    const out = target()
    const r = await measured(m, ['restore', repo.dest, out], {
      cache: m.freshDir('cache'),
      timeoutMs: 120_000,
    })
    assertBounded(r, 'restore')
    assertExit(r, Exit.Damaged, 'restore', 'report')
    for (const p of twoPaths) {
      const st = await fs.lstat(path.join(out, p)).catch(() => null)
      assert.ok(!st || st.size < 1024 ** 2, `${p}: ${st?.size} bytes written`)
    }
    assert.ok(await exists(path.join(out, 'INBOX/cur', SECRET_NAME)), 'the first backup restored')
  })

  for (const signed of [true, false])
    it(`absurd member ordinals (2^53 − 1, −1, 1e300) in a forged commit ${signed ? 'signed with the attacker key' : 'with no signature object'}: restore stays under 512 MiB, restores nothing forged`, async () => {
      const d = dest()
      const pack = packOf(phishMembers(2), encrypt)
      savePack(d, pack)
      const fake = (i: number) => sha256(`fake ${i}`)
      const c = forgeCommit({
        dest: d,
        repository: d.repository(),
        encrypt,
        pack,
        kind: 'delta',
        signer: signed ? (b) => attacker.signCommitBody(b) : null,
        extraLines: [
          ['b', fake(1), 5, 'INBOX/cur/a', 2 ** 53 - 1],
          ['b', fake(2), 5, 'INBOX/cur/b', -1],
          ['b', fake(3), 5, 'INBOX/cur/c', 1e300],
        ],
      })
      saveCommit(d, c)
      const out = target()
      const r = await measured(m, ['restore', repo.dest, out], { cache: m.freshDir('cache') })
      assertBounded(r, 'restore')
      assertExit(r, Exit.Ok, 'restore')
      if (signed) assertWarnsOnce(r, c.name, 'restore')
      await assertNoForgery(out, 'restore')
    })

  it('oversized plaintext objects (600 MiB, sparse): a signature object after the head is ignored by restore and refused by backup (14); a lock blocks backup (11); a config is refused (14); all under 512 MiB', async () => {
    const d = dest()
    const big = async (rel: string) => {
      await fs.mkdir(path.dirname(path.join(repo.dest, rel)), { recursive: true })
      await fs.writeFile(path.join(repo.dest, rel), '{"body":"')
      await fs.truncate(path.join(repo.dest, rel), 600 * 1024 ** 2)
    }
    const sigName = commitName(d.head().seq + 1)
    await big(`sigs/${sigName}`)
    const attacked = listing(repo.dest)
    const r = await measured(m, ['restore', repo.dest, target()], { cache: m.freshDir('cache') })
    assertBounded(r, 'restore')
    assertExit(r, Exit.Ok, 'restore')
    assertWarnsOnce(r, sigName, 'restore')
    await addMail(repo, 'after-big-sig')
    const b = await measured(m, ['backup', repo.src, repo.dest], { key: 'public' })
    assertBounded(b, 'backup')
    assertExit(b, Exit.Untrusted, 'backup')
    assertUnchanged(attacked, listing(repo.dest), 'restore and backup')

    await world.reset()
    await big(`locks/${'e'.repeat(32)}`)
    const l = await measured(m, ['backup', repo.src, repo.dest], { key: 'public' })
    assertBounded(l, 'backup with a huge lock')
    assertExit(l, Exit.Locked, 'backup with a huge lock')

    await world.reset()
    await fs.writeFile(path.join(repo.dest, 'config'), '{"seb":"repository","version":2,"manifest":"')
    await fs.truncate(path.join(repo.dest, 'config'), 600 * 1024 ** 2)
    const s = await measured(m, ['snapshots', repo.dest])
    assertBounded(s, 'snapshots with a huge config')
    assertExit(s, Exit.Untrusted, 'snapshots with a huge config')
  })
})
