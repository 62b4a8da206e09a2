// Why: seb judges gpg by its status lines, and gpg-status.ts and gpg-failure.ts are pure so that every
// case can be tested without gpg; but the cases must be what gpg really says, not what its manual
// suggests (gpg 2.2 reports a revoked or expired recipient as INV_RECP 0, not 4 or 5; NO_SECKEY never
// comes under --quiet; a message cut inside its first packet "decrypts" with exit code 0). These are
// recordings of gpg 2.2.40 (libgcrypt 1.10.1, Debian) run with seb's own argument lists (gpg-args.ts:
// encryptArgs, decryptArgs, detachSignArgs, verifyArgs) in a throwaway GNUPGHOME, LANG=C: each one's
// exit code and everything it wrote on stderr (status lines and messages), in order.
//
// To record them again: make four ed25519/cv25519 keys (Alice, Bob, Carol, Dave) with
// `gpg --quick-gen-key`, import Carol's revocation certificate from openpgp-revocs.d, expire Dave's
// key and subkeys with `gpg --quick-set-expire FPR seconds=1 '*'` and wait, then run each case with
// the argument lists above and stderr captured. Fingerprints and pointers in messages will differ.
import type { GpgStatus } from '../../src/crypto/gpg-status.js'
import { newStatus, readStatusLine } from '../../src/crypto/gpg-status.js'
import { type ProcessResult, STDERR_LINES } from '../../src/util/subprocess.js'

/** Recording is one gpg run: its exit code and its stderr lines, in order. */
export interface Recording {
  readonly exitCode: number
  readonly stderr: readonly string[]
}

/** KEYS are the recording home's keys: fingerprints, and the long key ids gpg names in status lines. */
export const KEYS = {
  alice: {
    fingerprint: 'CA1429407A46B3188869A43773A751FCE6CBA542',
    primary: '73A751FCE6CBA542',
    /** the encryption subkey: what ENC_TO names */
    subkey: '9C78DC30ED812154',
  },
  bob: {
    fingerprint: '5776EEFCA1853B9EF5896B9A8A8C11B4C49C94EB',
    primary: '8A8C11B4C49C94EB',
    subkey: '7C636B280D497476',
  },
  /** revoked */
  carol: { fingerprint: '36953FF3051B77244F6A00565BF352981A3552FC' },
  /** expired */
  dave: { fingerprint: 'BE3CCBE167E45A37566E861EF7F64BAB95AE0A06' },
  unknown: { fingerprint: '0123456789ABCDEF0123456789ABCDEF01234567' },
} as const

/** RECORDED holds gpg 2.2.40's answer to each case. */
export const RECORDED = {
  /** encrypted to Alice */
  encryptGood: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] BEGIN_ENCRYPTION 2 9',
      '[GNUPG:] END_ENCRYPTION',
    ],
  },
  /** encrypted with a passphrase */
  encryptPassphrase: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] NEED_PASSPHRASE_SYM 9 3 2',
      '[GNUPG:] BEGIN_ENCRYPTION 2 9',
      '[GNUPG:] END_ENCRYPTION',
    ],
  },
  /** to a fingerprint not in the keyring */
  encryptUnknown: {
    exitCode: 2,
    stderr: [
      'gpg: 0123456789ABCDEF0123456789ABCDEF01234567: skipped: No public key',
      '[GNUPG:] INV_RECP 1 0123456789ABCDEF0123456789ABCDEF01234567',
      '[GNUPG:] FAILURE encrypt 9',
      'gpg: [stdin]: encryption failed: No public key',
    ],
  },
  /** to Carol's key, revoked (its revocation certificate imported) */
  encryptRevoked: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] KEY_CONSIDERED 36953FF3051B77244F6A00565BF352981A3552FC 3',
      'gpg: 36953FF3051B77244F6A00565BF352981A3552FC: skipped: Unusable public key',
      '[GNUPG:] INV_RECP 0 36953FF3051B77244F6A00565BF352981A3552FC',
      '[GNUPG:] FAILURE encrypt 53',
      'gpg: [stdin]: encryption failed: Unusable public key',
    ],
  },
  /** to Dave's key, expired (--quick-set-expire seconds=1, then waited) */
  encryptExpired: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] KEYEXPIRED 1796296680',
      '[GNUPG:] KEY_CONSIDERED BE3CCBE167E45A37566E861EF7F64BAB95AE0A06 3',
      'gpg: BE3CCBE167E45A37566E861EF7F64BAB95AE0A06: skipped: Unusable public key',
      '[GNUPG:] INV_RECP 0 BE3CCBE167E45A37566E861EF7F64BAB95AE0A06',
      '[GNUPG:] FAILURE encrypt 53',
      'gpg: [stdin]: encryption failed: Unusable public key',
    ],
  },
  /** a message to Alice, with Alice's secret key */
  decryptGood: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] PLAINTEXT 62 1796296689 ',
      '[GNUPG:] DECRYPTION_OKAY',
      '[GNUPG:] GOODMDC',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Alice and Bob, with both secret keys */
  decryptTwoRecipients: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
      '[GNUPG:] ENC_TO 7C636B280D497476 18 0',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] PLAINTEXT 62 1796296689 ',
      '[GNUPG:] DECRYPTION_OKAY',
      '[GNUPG:] GOODMDC',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Alice in a home holding only her public key */
  decryptNoSecretKey: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_FAILED',
      'gpg: decryption failed: No secret key',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Bob only, with Bob's secret key at hand */
  decryptForeignWithSecret: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] ENC_TO 7C636B280D497476 18 0',
      '[GNUPG:] KEY_CONSIDERED 5776EEFCA1853B9EF5896B9A8A8C11B4C49C94EB 0',
      '[GNUPG:] KEY_CONSIDERED 5776EEFCA1853B9EF5896B9A8A8C11B4C49C94EB 0',
      '[GNUPG:] DECRYPTION_KEY FF8A613AED1355C44546516B7C636B280D497476 5776EEFCA1853B9EF5896B9A8A8C11B4C49C94EB u',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] PLAINTEXT 62 1796296738 ',
      '[GNUPG:] DECRYPTION_OKAY',
      '[GNUPG:] GOODMDC',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Bob only, without Bob's secret key */
  decryptForeignWithoutSecret: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] ENC_TO 7C636B280D497476 18 0',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_FAILED',
      'gpg: decryption failed: No secret key',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a symmetric message, the right passphrase on fd 3 */
  decryptPassphraseGood: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] NEED_PASSPHRASE_SYM 9 3 2',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] PLAINTEXT 62 1796296691 ',
      '[GNUPG:] DECRYPTION_OKAY',
      '[GNUPG:] GOODMDC',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a symmetric message, a wrong passphrase on fd 3 */
  decryptPassphraseWrong: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] NEED_PASSPHRASE_SYM 9 3 2',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] ERROR symkey_decrypt.maybe_error 11_BAD_PASSPHRASE',
      '[GNUPG:] DECRYPTION_FAILED',
      'gpg: decryption failed: Bad session key',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Alice, decrypted as a passphrase repository does (passphrase on fd 3) */
  decryptKeyMessageWithPassphrase: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] PLAINTEXT 62 1796296689 ',
      '[GNUPG:] DECRYPTION_OKAY',
      '[GNUPG:] GOODMDC',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a symmetric message, decrypted as a recipients repository does (no passphrase) */
  decryptSymmetricWithoutPassphrase: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] NEED_PASSPHRASE_SYM 9 3 2',
      '[GNUPG:] PINENTRY_LAUNCHED 1991 curses 1.2.1 - xterm - - 0/0 -',
      'gpg: problem with the agent: Inappropriate ioctl for device',
      '[GNUPG:] ERROR get_passphrase 32870',
      '[GNUPG:] CANCELED_BY_USER',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_FAILED',
      'gpg: decryption failed: No secret key',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Alice with one bit flipped 30 bytes before its end (the MDC fails) */
  decryptFlippedByte: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
      '[GNUPG:] BEGIN_DECRYPTION',
      '[GNUPG:] DECRYPTION_INFO 2 9 0',
      '[GNUPG:] PLAINTEXT 62 1796296689 ',
      'gpg: WARNING: encrypted message has been manipulated!',
      '[GNUPG:] BADMDC',
      '[GNUPG:] DECRYPTION_FAILED',
      '[GNUPG:] END_DECRYPTION',
    ],
  },
  /** a message to Alice cut 40 bytes short (inside the encrypted data) */
  decryptTruncatedInData: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
      'gpg: block_filter 0x000056219d8f82b0: read error (size=7656,a->size=1000)',
      'gpg: block_filter: pending bytes!',
    ],
  },
  /** a message to Alice cut to half its length */
  decryptTruncatedHalf: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
      'gpg: block_filter 0x000055a0ea0ab2b0: read error (size=8919,a->size=1751)',
      'gpg: encrypted_mdc packet with unknown version 255',
      '[GNUPG:] NODATA 3',
      'gpg: block_filter: pending bytes!',
    ],
  },
  /** a message to Alice cut to its first 5 bytes (inside the key id of its first packet) */
  decryptTruncatedInKeyId: {
    exitCode: 0,
    stderr: ['[GNUPG:] ENC_TO 9C78FFFFFFFFFFFF 255 0'],
  },
  /** a message to Alice cut to its first 60 bytes (inside the encrypted session key) */
  decryptTruncatedInSessionKey: {
    exitCode: 0,
    stderr: ['[GNUPG:] NODATA 3'],
  },
  /** a message to Alice cut right after its session key packet (96 bytes: no encrypted data at all) */
  decryptTruncatedAfterSessionKey: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] ENC_TO 9C78DC30ED812154 18 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] DECRYPTION_KEY 92C874DE69F8FB2E6C74199D9C78DC30ED812154 CA1429407A46B3188869A43773A751FCE6CBA542 u',
    ],
  },
  /** no bytes at all */
  decryptEmpty: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] NODATA 2',
      '[GNUPG:] FAILURE decrypt 4294967295',
      'gpg: decrypt_message failed: Unknown system error',
    ],
  },
  /** text that is not OpenPGP */
  decryptGarbage: {
    exitCode: 2,
    stderr: [
      'gpg: no valid OpenPGP data found.',
      '[GNUPG:] NODATA 1',
      '[GNUPG:] NODATA 2',
      '[GNUPG:] FAILURE decrypt 4294967295',
      'gpg: decrypt_message failed: Unknown system error',
    ],
  },
  /** a `gpg --store` message (literal data, not encrypted) */
  decryptStore: {
    exitCode: 0,
    stderr: ['[GNUPG:] PLAINTEXT 62 1796296690 '],
  },
  /** a detached signature by Alice */
  signGood: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 2',
      '[GNUPG:] BEGIN_SIGNING H8',
      '[GNUPG:] SIG_CREATED D 22 8 00 1796296691 CA1429407A46B3188869A43773A751FCE6CBA542',
    ],
  },
  /** Alice's detached signature over the data it signed */
  verifyGood: {
    exitCode: 0,
    stderr: [
      '[GNUPG:] NEWSIG',
      'gpg: Signature made Thu Dec  3 11:18:11 2026 UTC',
      'gpg:                using EDDSA key CA1429407A46B3188869A43773A751FCE6CBA542',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] SIG_ID NIKITZj28KnFgrw4pE8cOU/bHPA 2026-12-03 1796296691',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] GOODSIG 73A751FCE6CBA542 Test <alice@example.invalid>',
      'gpg: Good signature from "Test <alice@example.invalid>" [unknown]',
      '[GNUPG:] VALIDSIG CA1429407A46B3188869A43773A751FCE6CBA542 2026-12-03 1796296691 0 4 0 22 8 00 CA1429407A46B3188869A43773A751FCE6CBA542',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
    ],
  },
  /** Alice's detached signature over other data */
  verifyBad: {
    exitCode: 1,
    stderr: [
      '[GNUPG:] NEWSIG',
      'gpg: Signature made Thu Dec  3 11:18:11 2026 UTC',
      'gpg:                using EDDSA key CA1429407A46B3188869A43773A751FCE6CBA542',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] KEY_CONSIDERED CA1429407A46B3188869A43773A751FCE6CBA542 0',
      '[GNUPG:] BADSIG 73A751FCE6CBA542 Test <alice@example.invalid>',
      'gpg: BAD signature from "Test <alice@example.invalid>" [unknown]',
      '[GNUPG:] FAILURE gpg-exit 33554433',
    ],
  },
  /** Alice's detached signature in a home without her public key */
  verifyNoPubkey: {
    exitCode: 2,
    stderr: [
      '[GNUPG:] NEWSIG',
      'gpg: Signature made Thu Dec  3 11:18:11 2026 UTC',
      'gpg:                using EDDSA key CA1429407A46B3188869A43773A751FCE6CBA542',
      '[GNUPG:] ERRSIG 73A751FCE6CBA542 22 8 00 1796296691 9 CA1429407A46B3188869A43773A751FCE6CBA542',
      '[GNUPG:] NO_PUBKEY 73A751FCE6CBA542',
      "gpg: Can't check signature: No public key",
    ],
  },
} as const satisfies Record<string, Recording>

/**
 * replay feeds a recording through what spawnGpg does with a live gpg (crypto/gpg.ts): each stderr line
 * to readStatusLine, the others kept (the last STDERR_LINES) in the process result (util/subprocess.ts).
 */
export function replay(r: Recording): { result: ProcessResult; status: GpgStatus } {
  const status = newStatus()
  const lines: string[] = []
  for (const line of r.stderr) {
    if (readStatusLine(status, line)) continue
    lines.push(line)
    if (lines.length > STDERR_LINES) lines.shift()
  }
  return {
    status,
    result: {
      command: 'gpg',
      exitCode: r.exitCode,
      signal: null,
      cancelled: false,
      spawnError: null,
      stderrLines: lines,
      failed: r.exitCode !== 0,
    },
  }
}
