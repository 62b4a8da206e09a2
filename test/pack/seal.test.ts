// Sealing (src/pack/seal.ts): zstd frames through `gpg --encrypt`, checked with the system gpg and zstd
// as the oracle: to the configured recipient only and without gpg's own compression, or with a
// passphrase that travels on file descriptor 3 and never appears in gpg's argv or environment. gpg's
// refusals come out as seb's errors: an unknown, revoked or expired recipient is a key problem (12).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createReadStream, promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type GpgContext, spawnGpg } from '../../src/crypto/gpg.js'
import { KeyError, SebError } from '../../src/errors.js'
import { sealBuffer, sealFrames, sealFramesToFile, startDecrypt } from '../../src/pack/seal.js'
import { FRAME_BYTES, FrameCompressor } from '../../src/pack/zstd.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { addExpiredKey, addRevokedKey } from '../helpers/gpg-unusable.js'
import { encryptionSubkeyId, gpgDecrypt, messageKeyIds, unzstd } from '../helpers/pack-oracle.js'
import { tempDir } from '../helpers/tree.js'

const PASSPHRASE = 'correct horse battery staple'

/** packets lists a message's OpenPGP packets as `gpg --list-packets` names them. */
function packets(file: string, home: string, passFile?: string): string {
  const pass = passFile ? ['--pinentry-mode', 'loopback', '--passphrase-file', passFile] : []
  return execFileSync('gpg', ['--batch', ...pass, '--list-packets', file], {
    env: { ...process.env, GNUPGHOME: home },
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString()
}

/** s2kCount is the passphrase hashing count of a symmetric message (its symkey packet). */
function s2kCount(listing: string): number {
  return Number(/count (\d+)/.exec(listing)?.[1])
}

/** cmdlineOf waits until `pid` runs gpg itself (after exec) and returns its argv and environment. */
async function cmdlineOf(pid: number): Promise<{ argv: string[]; environ: string }> {
  for (let i = 0; i < 200; i++) {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
    if (argv.includes('--no-options')) return { argv, environ: readFileSync(`/proc/${pid}/environ`, 'utf8') }
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`process ${pid} never became gpg`)
}

describe('seal (system gpg and zstd as the oracle)', () => {
  const g = makeGnupgHome()
  const alice = g.keys[0]!
  const work = tempDir()
  const passFile = path.join(work.dir, 'passphrase')
  const recipients: GpgContext = { encryption: { type: 'recipients', recipients: [alice.fingerprint] } }
  const symmetric: GpgContext = { encryption: { type: 'passphrase' }, passphrase: Buffer.from(PASSPHRASE) }
  const text = Buffer.from('From: a@example.invalid\nSubject: sealed\n\nhello\n'.repeat(3000))
  before(async () => {
    process.env.GNUPGHOME = g.home
    await fs.writeFile(passFile, `${PASSPHRASE}\n`, { mode: 0o600 })
    // The least passphrase hashing gpg allows (it calibrates to ~100 ms per message otherwise, several
    // times that on a busy machine): the same messages, faster to seal and open.
    await fs.appendFile(path.join(g.home, 'gpg-agent.conf'), 's2k-count 65536\n')
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: g.home } })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('sealFrames: several frames, to the recipient’s encryption subkey only, without gpg’s compression', async () => {
    const c = new FrameCompressor()
    const parts = [text, randomBytes(70_000), text.subarray(0, 999)]
    const cipher = await sealFrames(
      recipients,
      parts.map((p) => Buffer.from(c.frame([p]))),
    )
    assert.deepEqual(unzstd(gpgDecrypt(cipher, g.home)), Buffer.concat(parts))
    const file = path.join(work.dir, 'frames.gpg')
    await fs.writeFile(file, cipher)
    assert.deepEqual(messageKeyIds(file, g.home), [encryptionSubkeyId(alice.fingerprint, g.home)])
    const listed = packets(file, g.home)
    assert.match(listed, /encrypted data packet/)
    assert.doesNotMatch(listed, /compressed packet/, 'zstd already compressed it')
  })

  it('sealFramesToFile: a new owner-only file of the returned size, frames let go as written; never over an existing file', async () => {
    const c = new FrameCompressor()
    const frames: (Buffer | null)[] = [Buffer.from(c.frame([text])), Buffer.from(c.frame([text.subarray(7)]))]
    const file = path.join(work.dir, 'commit.gpg')
    const size = await sealFramesToFile(recipients, frames, file)
    const st = await fs.stat(file)
    assert.equal(size, st.size)
    assert.equal(st.mode & 0o777, 0o600)
    assert.deepEqual(frames, [null, null], 'each frame dropped from the list once written')
    assert.deepEqual(unzstd(gpgDecrypt(file, g.home)), Buffer.concat([text, text.subarray(7)]))

    await assert.rejects(sealFramesToFile(recipients, [Buffer.from(c.frame([text]))], file), {
      code: 'EEXIST',
    })
    assert.equal((await fs.stat(file)).size, size, 'left as it was')
  })

  it('sealBuffer: small and larger-than-a-frame plaintexts round-trip', async () => {
    for (const plain of [Buffer.from('seb init check'), randomBytes(FRAME_BYTES + 12345)]) {
      const cipher = await sealBuffer(recipients, plain)
      assert.deepEqual(unzstd(gpgDecrypt(cipher, g.home)), plain, `${plain.length} bytes`)
    }
  })

  it('sealBuffer of an empty plaintext is still a zstd stream that zstd -d reads', async () => {
    const cipher = await sealBuffer(recipients, Buffer.alloc(0))
    const compressed = gpgDecrypt(cipher, g.home)
    assert.ok(compressed.length > 0, 'an empty zstd frame, not zero bytes (which `zstd -d` refuses)')
    assert.deepEqual(unzstd(compressed), Buffer.alloc(0))
  })

  it('with a passphrase: a symmetric message the system gpg opens with it; seb’s own decryption too', async () => {
    const cipher = await sealBuffer(symmetric, text)
    const file = path.join(work.dir, 'symmetric.gpg')
    await fs.writeFile(file, cipher)
    assert.deepEqual(unzstd(gpgDecrypt(file, g.home, passFile)), text)
    const listed = packets(file, g.home, passFile)
    assert.match(listed, /symkey enc packet/)
    assert.equal(s2kCount(listed), 65536, 'the test home’s setting is used')
    assert.doesNotMatch(listed, /pubkey enc packet/)
    assert.deepEqual(messageKeyIds(file, g.home), [], 'to no key')

    const d = startDecrypt(symmetric, createReadStream(file))
    const out: Buffer[] = []
    for await (const c of d.child.stdout!) out.push(c as Buffer)
    await d.done
    assert.deepEqual(unzstd(Buffer.concat(out)), text)
  })

  it('the passphrase goes on fd 3: never in gpg’s argv (/proc/PID/cmdline) nor its environment', async () => {
    for (const op of ['encrypt', 'decrypt'] as const) {
      const p = spawnGpg(symmetric, op, 'pipe', 'pipe')
      const { argv, environ } = await cmdlineOf(p.child.pid!)
      assert.ok(!argv.some((a) => a.includes(PASSPHRASE)), `${op}: ${argv.join(' ')}`)
      assert.ok(!environ.includes(PASSPHRASE), `${op}: environment`)
      assert.ok(argv.join(' ').includes('--passphrase-fd 3'), op)
      p.kill()
      await p.done.catch(() => {})
    }
    // The same through sealBuffer, with a gpg that logs its arguments before it runs.
    const log = path.join(work.dir, 'argv.log')
    const wrapper = path.join(work.dir, 'gpg-logging')
    await fs.writeFile(wrapper, `#!/bin/sh\nprintf '%s\\n' "$@" >> '${log}'\nexec gpg "$@"\n`, {
      mode: 0o755,
    })
    const cipher = await sealBuffer({ ...symmetric, gpgPath: wrapper }, text)
    assert.deepEqual(unzstd(gpgDecrypt(cipher, g.home, passFile)), text)
    const logged = await fs.readFile(log, 'utf8')
    assert.match(logged, /--passphrase-fd\n3\n/)
    assert.ok(!logged.includes(PASSPHRASE))
  })

  it('a wrong passphrase: KeyError (exit 12); no passphrase at all: KeyError before gpg starts', async () => {
    const cipher = await sealBuffer(symmetric, text)
    const file = path.join(work.dir, 'wrong.gpg')
    await fs.writeFile(file, cipher)
    const d = startDecrypt(
      { encryption: { type: 'passphrase' }, passphrase: Buffer.from('wrong horse') },
      createReadStream(file),
    )
    d.child.stdout!.resume()
    await assert.rejects(d.done, (err: unknown) => {
      assert.ok(err instanceof KeyError, String(err))
      assert.equal(err.exitCode, 12)
      assert.match(err.message, /wrong passphrase/)
      return true
    })
    await assert.rejects(sealBuffer({ encryption: { type: 'passphrase' } }, text), (err: unknown) => {
      assert.ok(err instanceof KeyError, String(err))
      assert.match(err.message, /passphrase/)
      return true
    })
  })

  it('a recipient gpg cannot use (unknown, revoked, expired): KeyError, exit 12, naming the key', async () => {
    const unknown = '0123456789ABCDEF0123456789ABCDEF01234567'
    const revoked = addRevokedKey(g.home, 'revoked@example.invalid')
    const expired = addExpiredKey(g.home, 'expired@example.invalid')
    for (const fpr of [unknown, revoked, expired]) {
      const file = path.join(work.dir, `refused-${fpr}`)
      for (const seal of [
        () => sealBuffer({ encryption: { type: 'recipients', recipients: [fpr] } }, text),
        () => sealFramesToFile({ encryption: { type: 'recipients', recipients: [fpr] } }, [text], file),
      ])
        await assert.rejects(seal(), (err: unknown) => {
          assert.ok(err instanceof KeyError, `${fpr}: ${err}`)
          assert.equal(err.exitCode, 12)
          assert.match(err.message, new RegExp(`gpg cannot encrypt to ${fpr}`))
          return true
        })
    }
  })

  it('no gpg to run: one line saying so (gpg-missing), promptly', async () => {
    // Raced with a timer: a promise that never settles would otherwise end this file's event loop.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('sealBuffer never settled')), 1000)
    })
    await assert.rejects(
      Promise.race([
        sealBuffer({ ...recipients, gpgPath: path.join(work.dir, 'no-such-gpg') }, text),
        timeout,
      ]).finally(() => clearTimeout(timer)),
      (err: unknown) => {
        assert.ok(err instanceof SebError, String(err))
        assert.equal(err.code, 'gpg-missing')
        assert.match(err.message, /gpg: command not found/)
        return true
      },
    )
  })
})
