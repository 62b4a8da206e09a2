// What a finished gpg means (src/crypto/gpg-failure.ts, classifyGpg), decided from what gpg 2.2 really
// said (gpg-recordings.ts): a key problem (KeyError, exit 12), damage (gpg-corrupt, which readers turn
// into exit 13), an object that is not this repository's (AuthenticityError, exit 14), or a refusal
// of an unencrypted message; each as one line that names the cause. Pure.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { classifyGpg, type DecryptExpectation, type GpgOp } from '../../src/crypto/gpg-failure.js'
import { newStatus, readStatusLine, STATUS_PREFIX } from '../../src/crypto/gpg-status.js'
import { AuthenticityError, KeyError, SebError } from '../../src/errors.js'
import { KEYS, RECORDED, replay } from './gpg-recordings.js'

const A = KEYS.alice
const HOME = '/home/user/.gnupg-for-seb'

/** RECIPIENTS is what a repository encrypting to Alice expects of its objects. */
const RECIPIENTS: DecryptExpectation = {
  encryption: { type: 'recipients', recipients: [A.fingerprint] },
  recipientKeyIds: new Set([A.primary, A.subkey]),
}
/** UNCHECKED is the same repository read with its recipients' key ids unset (key rotation does). */
const UNCHECKED: DecryptExpectation = { encryption: { type: 'recipients', recipients: [A.fingerprint] } }
const PASSPHRASE: DecryptExpectation = { encryption: { type: 'passphrase' } }

function verdict(op: GpgOp, name: keyof typeof RECORDED, expect?: DecryptExpectation): SebError | null {
  const { result, status } = replay(RECORDED[name])
  return classifyGpg(op, result, status, expect)
}

/** is checks a verdict's class, code, exit code and that its message names the cause. */
function is(
  err: SebError | null,
  kind: abstract new (...args: never[]) => SebError,
  code: string,
  exitCode: number,
  cause: RegExp,
): void {
  assert.ok(
    err instanceof kind,
    `expected ${kind.name} (${code}), got ${err?.constructor.name} (${err?.code}): ${err?.message}`,
  )
  assert.equal(err.code, code, err.message)
  assert.equal(err.exitCode, exitCode, err.message)
  assert.match(err.message, cause)
  assert.doesNotMatch(err.message, /\n/, 'one line')
}

describe('classifyGpg (recorded gpg 2.2 runs)', () => {
  const saved = process.env.GNUPGHOME
  before(() => {
    process.env.GNUPGHOME = HOME
  })
  after(() => {
    if (saved === undefined) delete process.env.GNUPGHOME
    else process.env.GNUPGHOME = saved
  })

  it('good runs are no error: encryption, signing, verifying, and decrypting what the repository wrote', () => {
    assert.equal(verdict('encrypt', 'encryptGood'), null)
    assert.equal(verdict('encrypt', 'encryptPassphrase'), null)
    assert.equal(verdict('sign', 'signGood'), null)
    assert.equal(verdict('verify', 'verifyGood'), null)
    assert.equal(verdict('decrypt', 'decryptGood', RECIPIENTS), null)
    assert.equal(verdict('decrypt', 'decryptGood', UNCHECKED), null)
    assert.equal(verdict('decrypt', 'decryptGood'), null)
    assert.equal(verdict('decrypt', 'decryptPassphraseGood', PASSPHRASE), null)
    // Encrypted to one of ours and another key (formerKeyIds unset: extra recipients are not checked).
    assert.equal(verdict('decrypt', 'decryptTwoRecipients', RECIPIENTS), null)
  })

  it('no secret key: KeyError (12) naming the key id and the keyring', () => {
    is(verdict('decrypt', 'decryptNoSecretKey', RECIPIENTS), KeyError, 'key', 12, /no secret key/)
    const err = verdict('decrypt', 'decryptNoSecretKey', RECIPIENTS)!
    assert.match(err.message, new RegExp(A.subkey))
    assert.match(err.message, new RegExp(`GNUPGHOME=${HOME}`))
    is(verdict('decrypt', 'decryptNoSecretKey', UNCHECKED), KeyError, 'key', 12, /no secret key/)
  })

  it('a wrong passphrase: KeyError (12) saying so', () => {
    is(verdict('decrypt', 'decryptPassphraseWrong', PASSPHRASE), KeyError, 'key', 12, /wrong passphrase/)
  })

  it('encrypted to another key: AuthenticityError (14) naming it, whether or not its secret key is at hand', () => {
    for (const name of ['decryptForeignWithSecret', 'decryptForeignWithoutSecret'] as const) {
      const err = verdict('decrypt', name, RECIPIENTS)
      is(err, AuthenticityError, 'untrusted', 14, /not written for this repository/)
      assert.match(err!.message, new RegExp(KEYS.bob.subkey), name)
    }
  })

  it('a passphrase repository given a message encrypted to a key: AuthenticityError (14) naming the key', () => {
    const err = verdict('decrypt', 'decryptKeyMessageWithPassphrase', PASSPHRASE)
    is(err, AuthenticityError, 'untrusted', 14, /instead of with the repository's passphrase/)
    assert.match(err!.message, new RegExp(A.subkey))
  })

  it('a recipients repository given a passphrase-encrypted message: refused as not its own (14), not "wrong passphrase"', () => {
    // gpg asked for a passphrase the repository does not have; there is none to be wrong.
    is(
      verdict('decrypt', 'decryptSymmetricWithoutPassphrase', RECIPIENTS),
      AuthenticityError,
      'untrusted',
      14,
      /not written for this repository/,
    )
  })

  it('a flipped byte (BADMDC): damage, saying the message was manipulated', () => {
    is(
      verdict('decrypt', 'decryptFlippedByte', RECIPIENTS),
      SebError,
      'gpg-corrupt',
      1,
      /damaged.*manipulated/,
    )
  })

  it('a message cut short where gpg fails: damage', () => {
    is(verdict('decrypt', 'decryptTruncatedInData', RECIPIENTS), SebError, 'gpg-corrupt', 1, /read error/)
    is(
      verdict('decrypt', 'decryptTruncatedHalf', RECIPIENTS),
      SebError,
      'gpg-corrupt',
      1,
      /no valid OpenPGP data/,
    )
  })

  it('a message cut short inside its first packets, where gpg exits 0: damage too (not "unencrypted", a foreign key or a missing key)', () => {
    const cases = [
      ['decryptTruncatedInKeyId', RECIPIENTS],
      ['decryptTruncatedInKeyId', UNCHECKED],
      ['decryptTruncatedInSessionKey', RECIPIENTS],
      ['decryptTruncatedAfterSessionKey', RECIPIENTS],
    ] as const
    const got = cases.map(([name, expect]) => {
      const err = verdict('decrypt', name, expect)
      return [name, expect === RECIPIENTS ? 'key ids set' : 'key ids unset', err?.code ?? null, err?.exitCode]
    })
    assert.deepEqual(
      got,
      cases.map(([name, expect]) => [
        name,
        expect === RECIPIENTS ? 'key ids set' : 'key ids unset',
        'gpg-corrupt',
        1,
      ]),
    )
  })

  it('no bytes, or not OpenPGP at all: damage, "no valid OpenPGP data"', () => {
    for (const name of ['decryptEmpty', 'decryptGarbage'] as const)
      is(verdict('decrypt', name, RECIPIENTS), SebError, 'gpg-corrupt', 1, /no valid OpenPGP data/)
  })

  it('an unencrypted message (gpg --store) that gpg "decrypts" with exit 0: refused', () => {
    for (const expect of [RECIPIENTS, UNCHECKED, PASSPHRASE, undefined])
      is(
        verdict('decrypt', 'decryptStore', expect),
        SebError,
        'gpg-unencrypted',
        1,
        /not an encrypted message/,
      )
  })

  it('an unknown recipient: KeyError (12) naming the key, why, and the keyring', () => {
    const err = verdict('encrypt', 'encryptUnknown')
    is(err, KeyError, 'key', 12, /not found in the keyring/)
    assert.match(err!.message, new RegExp(`gpg cannot encrypt to ${KEYS.unknown.fingerprint} `))
    assert.match(err!.message, new RegExp(`GNUPGHOME=${HOME}`))
  })

  it('a revoked or an expired recipient: KeyError (12) whose message says which (gpg 2.2 reports both as INV_RECP 0)', () => {
    const revoked = verdict('encrypt', 'encryptRevoked')
    const expired = verdict('encrypt', 'encryptExpired')
    is(revoked, KeyError, 'key', 12, new RegExp(KEYS.carol.fingerprint))
    is(expired, KeyError, 'key', 12, new RegExp(KEYS.dave.fingerprint))
    assert.match(revoked!.message, /revoked|unusable/, revoked!.message)
    assert.match(expired!.message, /expired/, expired!.message)
  })

  it('a bad signature, or none that can be checked: a gpg error quoting gpg’s reason', () => {
    is(verdict('verify', 'verifyBad'), SebError, 'gpg', 1, /BAD signature/)
    is(verdict('verify', 'verifyNoPubkey'), SebError, 'gpg', 1, /No public key/)
  })

  it('how the process ended comes first: not installed, cancelled, killed, not started', () => {
    const status = newStatus()
    const base = replay(RECORDED.decryptGood).result
    const enoent = Object.assign(new Error('spawn gpg ENOENT'), { code: 'ENOENT' })
    const eacces = Object.assign(new Error('spawn gpg EACCES'), { code: 'EACCES' })
    is(
      classifyGpg('decrypt', { ...base, spawnError: enoent, exitCode: -2, failed: true }, status),
      SebError,
      'gpg-missing',
      1,
      /gpg: command not found; install GnuPG/,
    )
    is(
      classifyGpg('encrypt', { ...base, cancelled: true, signal: 'SIGKILL', failed: true }, status),
      SebError,
      'cancelled',
      1,
      /gpg encrypt was stopped/,
    )
    is(
      classifyGpg('decrypt', { ...base, signal: 'SIGSEGV', exitCode: null, failed: true }, status),
      SebError,
      'gpg',
      1,
      /stopped by SIGSEGV/,
    )
    is(
      classifyGpg('list', { ...base, spawnError: eacces, failed: true }, status),
      SebError,
      'gpg',
      1,
      /EACCES/,
    )
  })

  it('a decryption needs exactly one literal data packet, and gpg’s own BAD_PASSPHRASE line means a wrong passphrase', () => {
    const { result, status } = replay(RECORDED.decryptGood)
    readStatusLine(status, `${STATUS_PREFIX}PLAINTEXT 62 1796296689 `)
    is(
      classifyGpg('decrypt', result, status, RECIPIENTS),
      SebError,
      'gpg-corrupt',
      1,
      /2 literal data packets/,
    )
    const wrong = replay(RECORDED.decryptPassphraseWrong)
    const older = newStatus()
    for (const line of [
      `${STATUS_PREFIX}NEED_PASSPHRASE_SYM 9 3 2`,
      `${STATUS_PREFIX}BAD_PASSPHRASE 0000000000000000`,
      `${STATUS_PREFIX}DECRYPTION_FAILED`,
    ])
      readStatusLine(older, line)
    is(classifyGpg('decrypt', wrong.result, older, PASSPHRASE), KeyError, 'key', 12, /wrong passphrase/)
  })
})
