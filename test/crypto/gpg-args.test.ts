// gpg's argument lists (src/crypto/gpg-args.ts): every call ignores gpg.conf (--no-options), recipients
// are given by full fingerprint with --no-encrypt-to and --no-default-recipient, nothing is looked up
// over the network, and no secret is ever an argument (a passphrase goes on fd 3). Then one check with
// the real gpg: a gpg.conf full of lines that would change who can read a backup (group, encrypt-to,
// hidden-encrypt-to, default-recipient, auto-key-locate) changes nothing — the ciphertext is encrypted
// to the configured key only — while the same gpg.conf does change a plain `gpg --encrypt`.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  decryptArgs,
  detachSignArgs,
  type Encryption,
  encryptArgs,
  GPG_BASE,
  listArgs,
  verifyArgs,
} from '../../src/crypto/gpg-args.js'
import { sealBuffer } from '../../src/pack/seal.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { encryptionSubkeyId, gpgDecrypt, messageKeyIds, unzstd } from '../helpers/pack-oracle.js'
import { tempDir } from '../helpers/tree.js'

const ALICE = 'CA1429407A46B3188869A43773A751FCE6CBA542'
const BOB = '5776EEFCA1853B9EF5896B9A8A8C11B4C49C94EB'
const KEYS: Encryption = { type: 'recipients', recipients: [ALICE, BOB] }
const PASS: Encryption = { type: 'passphrase' }

/** ALL is every argument list seb builds. */
const ALL: [string, string[]][] = [
  ['encrypt to keys', encryptArgs(KEYS)],
  ['encrypt with a passphrase', encryptArgs(PASS)],
  ['decrypt (keys)', decryptArgs(KEYS)],
  ['decrypt (passphrase)', decryptArgs(PASS)],
  ['list public keys', listArgs(false, [ALICE])],
  ['list secret keys', listArgs(true, [ALICE])],
  ['detached signature', detachSignArgs(ALICE)],
  ['verify', verifyArgs('/tmp/commit.sig')],
]

/** argAfter returns what follows `flag` in `args` (undefined when absent). */
const argAfter = (args: string[], flag: string) => {
  const i = args.indexOf(flag)
  return i < 0 ? undefined : args[i + 1]
}

describe('gpg argument lists', () => {
  it('every call starts with --no-options (gpg.conf ignored), in batch mode, status lines on fd 2, no network lookups', () => {
    for (const [what, args] of ALL) {
      assert.equal(args[0], '--no-options', what)
      assert.deepEqual(args.slice(0, GPG_BASE.length), [...GPG_BASE], what)
      for (const flag of ['--batch', '--no-tty', '--no-auto-key-retrieve'])
        assert.ok(args.includes(flag), `${what}: ${flag}`)
      assert.equal(argAfter(args, '--status-fd'), '2', what)
      assert.equal(argAfter(args, '--auto-key-locate'), 'local', what)
      assert.equal(argAfter(args, '--keyserver-options'), 'no-auto-key-retrieve', what)
      assert.ok(!args.includes('--options') && !args.includes('--homedir'), what)
    }
  })

  it('encrypting to keys: each recipient by full fingerprint, --no-encrypt-to and --no-default-recipient, no compression by gpg', () => {
    const args = encryptArgs(KEYS)
    assert.equal(args.at(-1), '--encrypt')
    const recipients = args.flatMap((a, i) => (a === '--recipient' ? [args[i + 1]] : []))
    assert.deepEqual(recipients, [ALICE, BOB])
    for (const fpr of recipients) assert.match(fpr!, /^[0-9A-F]{40}$/)
    const firstRecipient = args.indexOf('--recipient')
    for (const flag of ['--no-encrypt-to', '--no-default-recipient'])
      assert.ok(args.indexOf(flag) >= 0 && args.indexOf(flag) < firstRecipient, flag)
    for (const flag of [
      '-r',
      '--hidden-recipient',
      '--encrypt-to',
      '--hidden-encrypt-to',
      '--default-recipient-self',
      '--symmetric',
    ])
      assert.ok(!args.includes(flag), flag)
    assert.equal(argAfter(args, '--trust-model'), 'always', 'the fingerprints were checked at init')
    assert.equal(argAfter(args, '--compress-algo'), 'none', 'zstd already compressed it')
    assert.equal(argAfter(args, '--output'), '-')
  })

  it('a passphrase: symmetric AES256, read from fd 3 through loopback pinentry, never an argument', () => {
    const enc = encryptArgs(PASS)
    assert.equal(enc.at(-1), '--symmetric')
    assert.equal(argAfter(enc, '--cipher-algo'), 'AES256')
    assert.ok(!enc.includes('--recipient') && !enc.includes('--encrypt'))
    for (const args of [enc, decryptArgs(PASS)]) {
      assert.equal(argAfter(args, '--passphrase-fd'), '3')
      assert.equal(argAfter(args, '--pinentry-mode'), 'loopback')
      assert.deepEqual(
        args.filter((a) => /passphrase/i.test(a)),
        ['--passphrase-fd'],
        'no --passphrase, --passphrase-file or passphrase text',
      )
    }
    for (const [what, args] of ALL.filter(([w]) => !w.includes('passphrase')))
      assert.ok(!args.some((a) => /passphrase|pinentry/.test(a)), what)
  })

  it('decrypting: --decrypt last, output to stdout; no recipients or trust settings', () => {
    for (const args of [decryptArgs(KEYS), decryptArgs(PASS)]) {
      assert.equal(args.at(-1), '--decrypt')
      assert.equal(argAfter(args, '--output'), '-')
      assert.ok(!args.includes('--recipient') && !args.includes('--trust-model'))
    }
  })

  it('names and files come after --, so a key id or file name that starts with "-" is never an option', () => {
    const list = listArgs(false, ['--export-secret-keys', ALICE])
    assert.deepEqual(list.slice(list.indexOf('--')), ['--', '--export-secret-keys', ALICE])
    assert.ok(
      list.includes('--with-colons') && list.includes('--fixed-list-mode') && list.includes('--list-keys'),
    )
    assert.ok(listArgs(true, []).includes('--list-secret-keys'))
    const verify = verifyArgs('-sig')
    assert.deepEqual(verify.slice(-4), ['--verify', '--', '-sig', '-'])
    assert.equal(argAfter(verify, '--trust-model'), 'always')
    const sign = detachSignArgs(ALICE)
    assert.equal(argAfter(sign, '--local-user'), ALICE)
    assert.ok(sign.includes('--detach-sign') && sign.includes('--armor'))
  })
})

describe('gpg.conf cannot change who can read a backup (real gpg)', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'bob@example.invalid', 'carol@example.invalid'])
  const [alice, bob, carol] = g.keys as [(typeof g.keys)[0], (typeof g.keys)[0], (typeof g.keys)[0]]
  const work = tempDir()
  before(async () => {
    process.env.GNUPGHOME = g.home
    await fs.writeFile(
      path.join(g.home, 'gpg.conf'),
      [
        `group ${alice.fingerprint} = ${bob.fingerprint}`,
        `group alice@example.invalid = ${bob.fingerprint}`,
        `encrypt-to ${bob.fingerprint}`,
        `hidden-encrypt-to ${carol.fingerprint}`,
        `default-recipient ${bob.fingerprint}`,
        'auto-key-locate wkd,keyserver',
        'keyserver hkp://127.0.0.1:9',
        'trust-model always',
        '',
      ].join('\n'),
    )
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('the ciphertext is encrypted to the configured key only, while a plain gpg --encrypt obeys the same gpg.conf', async () => {
    const plain = Buffer.from('mail only Alice may read\n')
    const sealed = path.join(work.dir, 'sealed.gpg')
    await fs.writeFile(
      sealed,
      await sealBuffer({ encryption: { type: 'recipients', recipients: [alice.fingerprint] } }, plain),
    )
    const sub = (k: typeof alice) => encryptionSubkeyId(k.fingerprint, g.home)
    assert.deepEqual(messageKeyIds(sealed, g.home), [sub(alice)])
    assert.deepEqual(unzstd(gpgDecrypt(sealed, g.home)), plain)

    // The control: without --no-options the group replaces Alice by Bob, encrypt-to adds Bob, and
    // hidden-encrypt-to adds Carol under a zero key id.
    const control = path.join(work.dir, 'control.gpg')
    execFileSync('gpg', ['--batch', '--recipient', alice.fingerprint, '--output', control, '--encrypt'], {
      input: plain,
      env: { ...process.env, GNUPGHOME: g.home },
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    const got = messageKeyIds(control, g.home)
    assert.ok(!got.includes(sub(alice)), `the group took Alice out: ${got}`)
    assert.ok(got.includes(sub(bob)), `encrypt-to added Bob: ${got}`)
    assert.ok(got.includes('0000000000000000'), `hidden-encrypt-to added a hidden recipient: ${got}`)
  })
})
