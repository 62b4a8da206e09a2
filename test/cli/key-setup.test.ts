// seb key setup: a second machine that will back up with public keys only cannot tell the owner's
// settings from a forger's on its first contact, so it refuses until it has been readied once with
// the owner's secret key; afterwards it backs up with the public key only, and what it wrote restores.
// With several owners, a machine holding one owner's secret key accepts settings signed by another
// only when the user names that owner's fingerprint (--trust-owner).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

/** importInto copies keys (public, or secret with `secret`) from one GNUPGHOME to another. */
function importInto(home: string, from: string, fpr: string, secret = false) {
  const data = execFileSync(
    'gpg',
    ['--batch', '--armor', secret ? '--export-secret-keys' : '--export', fpr],
    {
      env: { ...process.env, GNUPGHOME: from },
    },
  )
  execFileSync('gpg', ['--batch', '--import'], {
    env: { ...process.env, GNUPGHOME: home },
    input: data,
    stdio: ['pipe', 'ignore', 'ignore'],
  })
}

describe('seb key setup', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'bob@example.invalid'])
  const [alice, bob] = g.keys as [(typeof g.keys)[0], (typeof g.keys)[0]]
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const ownerEnv = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'owner-cache'),
    SEB_DATA_DIR: path.join(work.dir, 'owner-data'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  const pub = publicOnlyHome(alice)
  /** the second machine: its own cache and data folder, alice's public key only */
  const second = {
    GNUPGHOME: pub.home,
    SEB_CACHE_DIR: path.join(work.dir, 'second-cache'),
    SEB_DATA_DIR: path.join(work.dir, 'second-data'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  before(async () => {
    await makeMaildir(src, 20)
    assert.equal((await runSeb(['init', dest, '--recipient', alice.fingerprint], ownerEnv)).code, 0)
    const b = await runSeb(['backup', src, dest], ownerEnv)
    assert.equal(b.code, 0, b.stderr)
  })
  after(() => {
    work.cleanup()
    pub.cleanup()
    g.cleanup()
  })

  it('a public-key-only machine refuses a repository it has never seen (12) and changes nothing', async () => {
    const before = await fs.readdir(path.join(dest, 'commits'))
    await fs.writeFile(path.join(src, 'INBOX/cur/first-contact:2,S'), 'Subject: x\n\nfirst contact\n')
    const r = await runSeb(['backup', src, dest], second)
    assert.equal(r.code, 12, r.stderr)
    assert.match(r.stderr, /^seb: .*cannot tell its owner's settings from forged ones.*run 'seb key setup /)
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1)
    assert.deepEqual(await fs.readdir(path.join(dest, 'commits')), before)
  })

  it("readied once with the owner's secret key, it backs up with the public key only; all of it restores", async () => {
    const setup = await runSeb(['key', 'setup', dest], { ...second, GNUPGHOME: g.home })
    assert.equal(setup.code, 0, setup.stderr)
    assert.match(setup.stdout, /^this machine is ready for repository [0-9a-f]+ \(1 snapshots\)/)
    await fs.writeFile(path.join(src, 'INBOX/cur/from-second:2,S'), 'Subject: y\n\nfrom the second machine\n')
    const b = await runSeb(['backup', src, dest], second)
    assert.equal(b.code, 0, b.stderr)
    const target = path.join(work.dir, 'restored')
    const r = await runSeb(['restore', dest, target], ownerEnv)
    assert.equal(r.code, 0, r.stderr)
    // (tmp/ holds deliveries in progress, excluded by default)
    await assertSameTree(src, target, { ignore: (rel) => rel.includes('/tmp/') })
  })

  it('settings signed by another owner: refused without --trust-owner, accepted with it', async () => {
    // alice adds bob as an owner (she signs the settings)...
    const add = await runSeb(['key', 'add', dest, bob.fingerprint], ownerEnv)
    assert.equal(add.code, 0, add.stderr)
    // ...and re-encrypts what was written before, so that bob can read the index.
    const rotate = await runSeb(['key', 'rotate', dest], ownerEnv)
    assert.equal(rotate.code, 0, rotate.stderr)
    // ...and bob readies his own machine, which has his secret key and alice's public key.
    const bobHome = mkdtempSync(path.join(os.tmpdir(), 'seb-gnupg-bob-'))
    importInto(bobHome, g.home, bob.fingerprint, true)
    importInto(bobHome, g.home, alice.fingerprint)
    const bobEnv = {
      GNUPGHOME: bobHome,
      SEB_CACHE_DIR: path.join(work.dir, 'bob-cache'),
      SEB_DATA_DIR: path.join(work.dir, 'bob-data'),
      XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
    }
    try {
      const refused = await runSeb(['key', 'setup', dest], bobEnv)
      assert.equal(refused.code, 12, refused.stderr)
      assert.match(refused.stderr, /cannot tell its owner's settings from forged ones/)
      const bad = await runSeb(['key', 'setup', dest, '--trust-owner', 'alice'], bobEnv)
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /^seb: --trust-owner alice: not a key fingerprint/)
      const ok = await runSeb(
        ['key', 'setup', dest, '--trust-owner', alice.fingerprint.toLowerCase()],
        bobEnv,
      )
      assert.equal(ok.code, 0, ok.stderr)
      const b = await runSeb(['backup', src, dest], bobEnv)
      assert.equal(b.code, 0, b.stderr)
    } finally {
      await fs.rm(bobHome, { recursive: true, force: true })
    }
  })
})
