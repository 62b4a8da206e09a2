// The non-negotiable: with seb gone, the system gpg, zstd and tar alone give every backed-up file back,
// byte-identical and with its mtime, by running exactly the procedure docs/design.md documents (the
// README and the guide show the same). Covered: a first backup over several packs, a file over 16 MiB
// (streamed, frames cut inside it), renamed, moved and copied mail with mtimes of their own, a file
// rewritten in place, a compacted repository, a key-rotated one, and a passphrase repository.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { compact } from '../../src/engine/compact.js'
import { init } from '../../src/engine/init.js'
import { rotateKeys } from '../../src/engine/key-rotate.js'
import { addRecipient } from '../../src/engine/keys.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { documentedProcedure, manualRestore, shellBlock } from '../helpers/manual-restore.js'
import { assertSameTree, readTree, tempDir } from '../helpers/tree.js'

const ignore = (r: string) => isExcludedByDefault(r)

describe('restore without seb (the documented gpg + zstd + tar procedure)', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'bob@example.invalid'])
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const cacheBase = path.join(work.dir, 'cache')
  const storage = new LocalStorage(dest)
  let made: string[] = []
  let n = 0
  const at = (rel: string) => path.join(src, rel)
  const restoreByHand = async (repo = dest, passphraseFile?: string) => {
    const out = path.join(work.dir, `manual${n++}`)
    await fs.mkdir(out)
    manualRestore(repo, out, g.home, passphraseFile)
    return out
  }
  /** every current file of the source is in the manual restore, byte- and mtime-identical */
  const assertSuperset = async (out: string, from = src) => {
    const expected = await readTree(from, { ignore })
    const actual = await readTree(out, { ignore })
    for (const [k, e] of expected) {
      const a = actual.get(k)
      assert.ok(a, `${k}: missing from the manual restore`)
      if (e.kind === 'f') {
        assert.ok(a.data!.equals(e.data!), `${k}: content differs`)
        assert.equal(a.mtimeUs, e.mtimeUs, `${k}: mtime differs`)
      }
    }
  }
  before(async () => {
    process.env.GNUPGHOME = g.home
    made = await makeMaildir(src)
    // A large attachment (over 16 MiB: streamed on the main thread, frames cut inside it).
    const big = at('Archive.2019/cur/1500000000.M1P1.big:2,S')
    await fs.writeFile(big, Buffer.concat([Buffer.from('Subject: big\n\n'), randomBytes(17 * 1024 * 1024)]))
    await fs.utimes(big, 1_500_000_000, 1_500_000_000)
    // Small packs, so that the first backup writes several.
    await init(storage, { recipients: [g.keys[0]!.fingerprint], packBytes: 64 * 1024, retentionDays: 0 })
    await backup({ source: src, storage, cacheBase })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('the procedure is one tar stream (no member is ever written through a symlink from another pack)', () => {
    const proc = documentedProcedure()
    assert.match(proc, /\} \| tar -x --ignore-zeros/)
    assert.match(proc, /--no-same-owner/)
  })

  it("the README's and the guide's procedure are design.md's, character for character", () => {
    const proc = documentedProcedure()
    assert.equal(shellBlock('README.md', '## Restore without seb'), proc)
    assert.equal(shellBlock('docs/guides/restore-without-seb.md', '## 3. Restore'), proc)
  })

  it('a first backup over several packs: every file, byte-identical with its mtime', async () => {
    const packs = (await fs.readdir(path.join(dest, 'packs'), { recursive: true })).filter(
      (p) => p.length > 60,
    )
    assert.ok(packs.length >= 4, `${packs.length} packs`)
    const out = await restoreByHand()
    await assertSameTree(src, out, { ignore: (r) => ignore(r) || r.startsWith('Sent/inbox-link') })
    assert.equal(await fs.readlink(path.join(out, 'Sent/inbox-link')), '../INBOX/cur')
  })

  it('renamed, moved and copied mail comes back under its current name with its own mtime', async () => {
    await fs.rename(at(made[1]!), at(made[1]!.replace(/:2,S$/, ':2,RS')))
    await fs.rename(at(made[2]!), at('INBOX/cur/moved,U=7:2,RS'))
    await fs.utimes(at('INBOX/cur/moved,U=7:2,RS'), 1_600_000_000.25, 1_600_000_000.25)
    await fs.copyFile(at(made[0]!), at('INBOX/new/copy'))
    await fs.utimes(at('INBOX/new/copy'), 1_400_000_000, 1_400_000_000)
    // A file rewritten in place, as mbsync does with its .mbsyncstate: the newer content must win.
    await fs.writeFile(at(made[3]!), 'rewritten in place\n')
    await fs.utimes(at(made[3]!), 1_900_000_000, 1_900_000_000)
    await backup({ source: src, storage, cacheBase })
    await assertSuperset(await restoreByHand())
  })

  it('a compacted repository (packs rewritten, deleted mail dropped) still restores by hand', async () => {
    await fs.rm(at(made[4]!))
    await fs.rm(at(made[5]!))
    await backup({ source: src, storage, cacheBase, autoCompact: false })
    const c = await compact({ storage, cacheBase, threshold: 0 })
    assert.ok(c.packsRewritten + c.packsDropped > 0, 'compaction did something')
    await assertSuperset(await restoreByHand())
  })

  it('a key-rotated repository restores by hand with the new key alone', async () => {
    await addRecipient({ storage, cacheBase }, g.keys[1]!.fingerprint)
    await rotateKeys({ storage, cacheBase })
    // Bob's key alone: a keyring without alice's secret key.
    const bobOnly = path.join(work.dir, 'bob-gnupg')
    await fs.mkdir(bobOnly, { mode: 0o700 })
    const env = { ...process.env, GNUPGHOME: g.home }
    const secret = execFileSync(
      'gpg',
      ['--batch', '--armor', '--export-secret-keys', g.keys[1]!.fingerprint],
      { env },
    )
    execFileSync('gpg', ['--batch', '--import'], {
      env: { ...process.env, GNUPGHOME: bobOnly },
      input: secret,
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    const out = path.join(work.dir, 'manual-bob')
    await fs.mkdir(out)
    manualRestore(dest, out, bobOnly)
    await assertSuperset(out)
  })

  it('a passphrase repository restores by hand with the passphrase', async () => {
    const pdest = path.join(work.dir, 'pdest')
    const pass = path.join(work.dir, 'pass')
    await fs.writeFile(pass, 'correct horse battery staple')
    const ps = new LocalStorage(pdest)
    const passphrase = await fs.readFile(pass)
    await init(ps, { passphrase })
    await backup({ source: src, storage: ps, cacheBase, passphrase })
    await assertSuperset(await restoreByHand(pdest, pass))
  })
})
