// seb key: recipients are listed with their user ids; add/remove change who new data is encrypted
// to (never removing the last); rotate re-encrypts every pack and commit so that only the current
// recipients can read the repository, and picks up where an interrupted run stopped.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

/** recipientKeyIds lists the key ids an OpenPGP message is encrypted to (no secret key needed). */
function recipientKeyIds(file: string, home: string): string[] {
  let out = ''
  try {
    out = execFileSync('gpg', ['--batch', '--list-packets', '--list-only', file], {
      env: { ...process.env, GNUPGHOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString()
  } catch (err) {
    out = String((err as { stdout?: Buffer }).stdout ?? '')
  }
  return [...out.matchAll(/keyid ([0-9A-F]{16})/g)].map((m) => m[1]!).sort()
}

/** encryptionSubkeyId returns the key id of a key's encryption subkey. */
function encryptionSubkeyId(fpr: string, home: string): string {
  const out = execFileSync('gpg', ['--with-colons', '--list-keys', fpr], {
    env: { ...process.env, GNUPGHOME: home },
  }).toString()
  const sub = out.split('\n').find((l) => l.startsWith('sub:') && l.split(':')[11]!.includes('e'))!
  return sub.split(':')[4]!
}

async function objects(dest: string): Promise<string[]> {
  const out: string[] = []
  for (const d of await fs.readdir(path.join(dest, 'packs')))
    for (const p of await fs.readdir(path.join(dest, 'packs', d))) out.push(path.join(dest, 'packs', d, p))
  for (const c of await fs.readdir(path.join(dest, 'commits'))) out.push(path.join(dest, 'commits', c))
  // the repository key's secret half, encrypted like everything else
  out.push(path.join(dest, 'keys', 'signing'))
  return out
}

describe('seb key', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'bob@example.invalid'])
  const [alice, bob] = g.keys as [(typeof g.keys)[0], (typeof g.keys)[0]]
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  before(async () => {
    await makeMaildir(src, 30)
    assert.equal((await runSeb(['init', dest, '--recipient', alice.fingerprint], env)).code, 0)
    // Three runs: three packs.
    for (let i = 0; i < 3; i++) {
      await fs.writeFile(
        path.join(src, `INBOX/cur/extra-${i}:2,S`),
        `Subject: extra ${i}\n\n${'x'.repeat(1000 * (i + 1))}\n`,
      )
      const b = await runSeb(['backup', src, dest], env)
      assert.equal(b.code, 0, b.stderr)
    }
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('key list: the fingerprint with its user id', async () => {
    const r = await runSeb(['key', 'list', dest], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      `${alice.fingerprint}  Test <alice@example.invalid>  (secret key here)\n1 recipient\n`,
    )
  })

  it('key add: the config lists both; new objects are encrypted to both, old ones still to alice only', async () => {
    const r = await runSeb(['key', 'add', dest, 'bob@example.invalid'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      new RegExp(`^added ${bob.fingerprint} \\(Test <bob@example.invalid>\\); 2 recipients\\n`),
    )
    assert.match(r.stdout, /run: seb key rotate/)
    const config = JSON.parse(JSON.parse(await fs.readFile(path.join(dest, 'config'), 'utf8')).manifest)
    assert.deepEqual(config.encryption.recipients, [alice.fingerprint, bob.fingerprint])
    // Adding again changes nothing.
    const again = await runSeb(['key', 'add', dest, bob.fingerprint], env)
    assert.equal(again.code, 0)
    assert.match(again.stdout, /already a recipient; nothing changed/)
    const list = await runSeb(['key', 'list', dest], env)
    assert.match(list.stdout, new RegExp(`^${bob.fingerprint}  Test <bob@example.invalid>`, 'm'))
    const before = new Set(await objects(dest))
    await fs.writeFile(path.join(src, 'INBOX/cur/after-add:2,S'), 'Subject: after add\n\nhello bob\n')
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
    const both = [
      encryptionSubkeyId(alice.fingerprint, g.home),
      encryptionSubkeyId(bob.fingerprint, g.home),
    ].sort()
    const fresh = (await objects(dest)).filter((o) => !before.has(o))
    assert.ok(fresh.length >= 2)
    for (const o of fresh) assert.deepEqual(recipientKeyIds(o, g.home), both, o)
    for (const o of before)
      if (o.includes('/packs/'))
        assert.deepEqual(recipientKeyIds(o, g.home), [encryptionSubkeyId(alice.fingerprint, g.home)])
  })

  it('key add of an unknown key: key error (12), config unchanged', async () => {
    const before = await fs.readFile(path.join(dest, 'config'))
    const r = await runSeb(['key', 'add', dest, 'nobody@example.invalid'], env)
    assert.equal(r.code, 12)
    assert.match(r.stderr, /^seb: recipient nobody@example.invalid: no public key found/)
    assert.deepEqual(await fs.readFile(path.join(dest, 'config')), before)
  })

  it('key remove, then key rotate (interrupted by a damaged pack, then resumed): only bob can read anything', async () => {
    const r = await runSeb(['key', 'remove', dest, 'alice@example.invalid'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      new RegExp(`^removed ${alice.fingerprint} \\(Test <alice@example.invalid>\\); 1 recipient left\\n`),
    )
    // The last recipient cannot be removed.
    const last = await runSeb(['key', 'remove', dest, bob.fingerprint.slice(-16)], env)
    assert.equal(last.code, 1)
    assert.match(last.stderr, /is the only recipient/)
    // A pack that cannot be decrypted stops the rotation (exit 13) after the others are done.
    const packs = (await objects(dest)).filter((o) => o.includes('/packs/'))
    assert.equal(packs.length, 4)
    // The newest pack (written after key add) is the last the rotation reaches.
    const mtimes = await Promise.all(packs.map(async (p) => ({ p, t: (await fs.stat(p)).mtimeMs })))
    const lastPack = mtimes.sort((a, b) => a.t - b.t)[3]!.p
    const good = await fs.readFile(lastPack)
    await fs.writeFile(lastPack, Buffer.concat([good.subarray(0, 40), Buffer.alloc(good.length - 40, 0x55)]))
    const broken = await runSeb(['key', 'rotate', dest], env)
    assert.equal(broken.code, 13, broken.stderr)
    assert.match(broken.stderr, /pack [0-9a-f]{64} is damaged/)
    await fs.writeFile(lastPack, good)
    const resumed = await runSeb(['key', 'rotate', dest, '--json'], env)
    assert.equal(resumed.code, 0, resumed.stderr)
    const s = JSON.parse(resumed.stdout.trim().split('\n').pop()!)
    assert.equal(s.packsSkipped, 3)
    assert.equal(s.packsRotated, 1)
    assert.equal(s.indexUpdated, true)
    // Every object now is for bob alone.
    const bobOnly = [encryptionSubkeyId(bob.fingerprint, g.home)]
    for (const o of await objects(dest)) assert.deepEqual(recipientKeyIds(o, g.home), bobOnly, o)
    // A rerun has nothing left to do.
    const again = await runSeb(['key', 'rotate', dest, '--json'], env)
    const s2 = JSON.parse(again.stdout.trim().split('\n').pop()!)
    assert.equal(s2.packsRotated, 0)
    assert.equal(s2.commitsRotated, 0)
    // The index's pack sizes match the new objects, and everything decrypts with bob's key alone.
    execFileSync('gpg', ['--batch', '--yes', '--delete-secret-keys', alice.fingerprint], {
      env: { ...process.env, GNUPGHOME: g.home },
      stdio: 'ignore',
    })
    const v = await runSeb(['verify', dest, '--read-data'], {
      ...env,
      SEB_CACHE_DIR: path.join(work.dir, 'cache-bob'),
    })
    assert.equal(v.code, 0, v.stderr + v.stdout)
    const target = path.join(work.dir, 'restored')
    const rs = await runSeb(['restore', dest, target], {
      ...env,
      SEB_CACHE_DIR: path.join(work.dir, 'cache-bob2'),
    })
    assert.equal(rs.code, 0, rs.stderr)
    assert.equal(
      await fs.readFile(path.join(target, 'INBOX/cur/after-add:2,S'), 'utf8'),
      'Subject: after add\n\nhello bob\n',
    )
  })

  it('a passphrase repository: key add/remove/rotate say they do not apply (2); key list says so', async () => {
    const pd = path.join(work.dir, 'pass-repo')
    const pf = path.join(work.dir, 'pass.txt')
    await fs.writeFile(pf, 'correct horse\n', { mode: 0o600 })
    assert.equal((await runSeb(['init', pd, '--passphrase-file', pf], env)).code, 0)
    for (const args of [
      ['add', pd, bob.fingerprint],
      ['remove', pd, bob.fingerprint],
      ['rotate', pd],
    ]) {
      const r = await runSeb(['key', ...args], env)
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, /not applicable: this repository is encrypted with a passphrase/)
    }
    const l = await runSeb(['key', 'list', pd], env)
    assert.equal(l.code, 0)
    assert.match(l.stdout, /encrypted with a passphrase, not to GnuPG keys/)
  })
})
