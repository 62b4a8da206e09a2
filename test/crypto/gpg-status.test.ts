// gpg's status lines (src/crypto/gpg-status.ts) parsed from what gpg 2.2 really wrote, recorded with
// seb's own argument lists (gpg-recordings.ts): who a message was encrypted to, whether gpg had the key,
// whether decryption and its integrity check passed, refused recipients, signature verdicts. Pure.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  INVALID_RECIPIENT_REASONS,
  newStatus,
  readStatusLine,
  STATUS_PREFIX,
} from '../../src/crypto/gpg-status.js'
import { KEYS, RECORDED, replay } from './gpg-recordings.js'

const A = KEYS.alice
const parse = (name: keyof typeof RECORDED) => replay(RECORDED[name]).status

describe('gpg status lines (recorded from gpg 2.2)', () => {
  it('a good decryption: encrypted to the subkey, key found, decrypted, integrity checked, one literal packet', () => {
    assert.deepEqual(parse('decryptGood'), {
      ...newStatus(),
      encTo: [A.subkey],
      beginDecryption: true,
      hadKey: true,
      decryptionOkay: true,
      plaintexts: 1,
    })
  })

  it('two recipients: both key ids, in the order gpg met them', () => {
    const s = parse('decryptTwoRecipients')
    assert.deepEqual(s.encTo, [A.subkey, KEYS.bob.subkey])
    assert.ok(s.decryptionOkay)
  })

  it('no secret key: the key id, no key found, decryption failed (gpg 2.2 under --quiet writes no NO_SECKEY)', () => {
    const s = parse('decryptNoSecretKey')
    assert.deepEqual(s.encTo, [A.subkey])
    assert.equal(s.hadKey, false)
    assert.equal(s.decryptionFailed, true)
    assert.equal(s.decryptionOkay, false)
    assert.deepEqual(s.noSecretKey, [])
    assert.equal(s.plaintexts, 0)
  })

  it('a passphrase: symmetric, and no recipients; a wrong one is an ERROR line naming BAD_PASSPHRASE', () => {
    const good = parse('decryptPassphraseGood')
    assert.equal(good.symmetric, true)
    assert.deepEqual(good.encTo, [])
    assert.equal(good.decryptionOkay, true)
    const wrong = parse('decryptPassphraseWrong')
    assert.equal(wrong.symmetric, true)
    assert.equal(wrong.decryptionFailed, true)
    assert.equal(wrong.badPassphrase, false, 'gpg 2.2 sends no BAD_PASSPHRASE line of its own here')
    assert.deepEqual(wrong.errors, ['ERROR symkey_decrypt.maybe_error 11_BAD_PASSPHRASE'])
  })

  it('a flipped byte: BADMDC and a failed decryption, after the literal data began', () => {
    const s = parse('decryptFlippedByte')
    assert.equal(s.badMdc, true)
    assert.equal(s.decryptionFailed, true)
    assert.equal(s.decryptionOkay, false)
    assert.equal(s.hadKey, true)
    assert.equal(s.plaintexts, 1)
  })

  it('cut short or not OpenPGP: NODATA (and FAILURE) lines, as written', () => {
    assert.deepEqual(parse('decryptTruncatedHalf').errors, ['NODATA 3'])
    assert.deepEqual(parse('decryptTruncatedInSessionKey').errors, ['NODATA 3'])
    assert.deepEqual(parse('decryptEmpty').errors, ['NODATA 2', 'FAILURE decrypt 4294967295'])
    assert.deepEqual(parse('decryptGarbage').errors, ['NODATA 1', 'NODATA 2', 'FAILURE decrypt 4294967295'])
    const inKeyId = parse('decryptTruncatedInKeyId')
    assert.deepEqual(inKeyId.encTo, ['9C78FFFFFFFFFFFF'], 'gpg names a key id it never read whole')
    assert.equal(inKeyId.beginDecryption, false)
  })

  it('gpg --store output: one literal data packet, and no decryption at all', () => {
    assert.deepEqual(parse('decryptStore'), { ...newStatus(), plaintexts: 1 })
  })

  it('refused recipients: unknown (reason 1); gpg 2.2 says reason 0 for revoked and expired keys, and the KEYEXPIRED line before makes the expired one 5', () => {
    assert.deepEqual(parse('encryptUnknown').invalidRecipients, [
      { reason: 1, who: KEYS.unknown.fingerprint },
    ])
    assert.deepEqual(parse('encryptRevoked').invalidRecipients, [{ reason: 0, who: KEYS.carol.fingerprint }])
    assert.deepEqual(parse('encryptExpired').invalidRecipients, [{ reason: 5, who: KEYS.dave.fingerprint }])
    assert.deepEqual(parse('encryptRevoked').errors, ['FAILURE encrypt 53'])
    assert.deepEqual(parse('encryptGood'), newStatus(), 'a good encryption says nothing seb reads')
  })

  it('signatures: a good one is GOODSIG and VALIDSIG with the signing and primary fingerprints; bad ones are listed', () => {
    const good = parse('verifyGood')
    assert.equal(good.goodSignature, true)
    assert.deepEqual(good.validSignatures, [{ fingerprint: A.fingerprint, primary: A.fingerprint }])
    assert.deepEqual(good.badSignatures, [])
    const bad = parse('verifyBad')
    assert.equal(bad.goodSignature, false)
    assert.deepEqual(bad.validSignatures, [])
    assert.deepEqual(bad.badSignatures, [`BADSIG ${A.primary} Test <alice@example.invalid>`])
    const noKey = parse('verifyNoPubkey')
    assert.deepEqual(noKey.badSignatures, [
      `ERRSIG ${A.primary} 22 8 00 1796296691 9 ${A.fingerprint}`,
      `NO_PUBKEY ${A.primary}`,
    ])
  })

  it('a subkey’s signature: VALIDSIG’s tenth field is the primary key', () => {
    const s = newStatus()
    readStatusLine(
      s,
      `${STATUS_PREFIX}VALIDSIG ${KEYS.bob.fingerprint} 2026-12-03 1796296691 0 4 0 22 8 00 ${A.fingerprint}`,
    )
    assert.deepEqual(s.validSignatures, [{ fingerprint: KEYS.bob.fingerprint, primary: A.fingerprint }])
  })

  it('readStatusLine: true for status lines (known or not), false for messages, which change nothing; key ids upper-cased', () => {
    const s = newStatus()
    assert.equal(readStatusLine(s, 'gpg: decryption failed: No secret key'), false)
    assert.equal(readStatusLine(s, '[GNUPG:]ENC_TO 0123'), false, 'the prefix has its space')
    assert.equal(readStatusLine(s, `${STATUS_PREFIX}KEY_CONSIDERED ${A.fingerprint} 0`), true)
    assert.deepEqual(s, newStatus())
    assert.equal(readStatusLine(s, `${STATUS_PREFIX}ENC_TO 9c78dc30ed812154 18 0`), true)
    assert.equal(readStatusLine(s, `${STATUS_PREFIX}NO_SECKEY 9c78dc30ed812154`), true)
    assert.equal(readStatusLine(s, `${STATUS_PREFIX}BAD_PASSPHRASE 9c78dc30ed812154`), true)
    assert.deepEqual(s.encTo, [A.subkey])
    assert.deepEqual(s.noSecretKey, [A.subkey])
    assert.equal(s.badPassphrase, true)
    assert.equal(replay(RECORDED.decryptGood).result.stderrLines.length, 0, 'a good run leaves no message')
  })

  it('the reasons seb names: revoked (4), expired (5), not found (1)', () => {
    assert.equal(INVALID_RECIPIENT_REASONS[1], 'not found in the keyring')
    assert.equal(INVALID_RECIPIENT_REASONS[4], 'revoked')
    assert.equal(INVALID_RECIPIENT_REASONS[5], 'expired')
  })
})
