// Why: gpg's exit code says little (0 for an unencrypted message given to --decrypt; 2 for a wrong
// key, damage or a missing key alike) and its messages are for people, in the user's language. Its
// machine-readable status lines (`--status-fd`, doc/DETAILS in GnuPG) say exactly what happened: who
// a message was encrypted to, whether it was decrypted and its integrity checked, which recipient was
// refused and why, whose signature is valid. seb decides from these. Pure.

/** GpgStatus is what gpg reported on its status channel about one operation. */
export interface GpgStatus {
  /** long key ids the message was encrypted to (ENC_TO) */
  readonly encTo: string[]
  /** key ids gpg had no secret key for (NO_SECKEY) */
  readonly noSecretKey: string[]
  /** a symmetric (passphrase) encryption layer was met (NEED_PASSPHRASE_SYM / BEGIN_DECRYPTION with no ENC_TO) */
  symmetric: boolean
  beginDecryption: boolean
  /** gpg found a secret key or the session key (DECRYPTION_KEY, DECRYPTION_INFO): a failure after it is damage */
  hadKey: boolean
  /** decryption finished and its integrity check (MDC/AEAD) passed */
  decryptionOkay: boolean
  decryptionFailed: boolean
  /** the MDC check failed (the ciphertext was altered) */
  badMdc: boolean
  /** literal data packets met (PLAINTEXT): exactly one in a message seb wrote */
  plaintexts: number
  /**
   * refused recipients: reason code (doc/DETAILS: 4 revoked, 5 expired, 1 not found…) and who. gpg 2.2
   * says 0 ("no specific reason") for an expired or revoked key; a KEYEXPIRED or KEYREVOKED line just
   * before it gives the reason then (5 or 4).
   */
  readonly invalidRecipients: { reason: number; who: string }[]
  /** the key state last reported (KEYEXPIRED, KEYREVOKED) and not yet taken by an INV_RECP */
  keyState: 4 | 5 | null
  /** valid signatures: the signing key's fingerprint and its primary key's */
  readonly validSignatures: { fingerprint: string; primary: string }[]
  /** signature verdicts other than good: BADSIG, ERRSIG, EXPKEYSIG, REVKEYSIG, EXPSIG, NO_PUBKEY */
  readonly badSignatures: string[]
  goodSignature: boolean
  badPassphrase: boolean
  /** NODATA and ERROR/FAILURE lines, as written */
  readonly errors: string[]
}

/** STATUS_PREFIX starts every status line gpg writes to the status channel. */
export const STATUS_PREFIX = '[GNUPG:] '

/** newStatus is an empty status, to fill line by line with readStatusLine. */
export function newStatus(): GpgStatus {
  return {
    encTo: [],
    noSecretKey: [],
    symmetric: false,
    beginDecryption: false,
    hadKey: false,
    decryptionOkay: false,
    decryptionFailed: false,
    badMdc: false,
    plaintexts: 0,
    invalidRecipients: [],
    keyState: null,
    validSignatures: [],
    badSignatures: [],
    goodSignature: false,
    badPassphrase: false,
    errors: [],
  }
}

/**
 * readStatusLine adds one line to `s` and returns true when it was a status line (a line without the
 * prefix is a message for people, and is left to the caller).
 */
export function readStatusLine(s: GpgStatus, line: string): boolean {
  if (!line.startsWith(STATUS_PREFIX)) return false
  const [keyword, ...args] = line.slice(STATUS_PREFIX.length).trim().split(' ')
  switch (keyword) {
    case 'ENC_TO':
      if (args[0]) s.encTo.push(args[0].toUpperCase())
      break
    case 'NO_SECKEY':
      if (args[0]) s.noSecretKey.push(args[0].toUpperCase())
      break
    case 'NEED_PASSPHRASE_SYM':
      s.symmetric = true
      break
    case 'BEGIN_DECRYPTION':
      s.beginDecryption = true
      break
    case 'DECRYPTION_KEY':
    case 'DECRYPTION_INFO':
      s.hadKey = true
      break
    case 'DECRYPTION_OKAY':
      s.decryptionOkay = true
      break
    case 'DECRYPTION_FAILED':
      s.decryptionFailed = true
      break
    case 'BADMDC':
      s.badMdc = true
      break
    case 'PLAINTEXT':
      s.plaintexts++
      break
    case 'KEYEXPIRED':
      s.keyState = 5
      break
    case 'KEYREVOKED':
      s.keyState = 4
      break
    case 'INV_RECP': {
      const reason = Number(args[0])
      s.invalidRecipients.push({
        reason: reason === 0 && s.keyState ? s.keyState : reason,
        who: args[1] ?? '',
      })
      s.keyState = null
      break
    }
    case 'VALIDSIG':
      s.validSignatures.push({
        fingerprint: (args[0] ?? '').toUpperCase(),
        primary: (args[9] ?? args[0] ?? '').toUpperCase(),
      })
      break
    case 'GOODSIG':
      s.goodSignature = true
      break
    case 'BADSIG':
    case 'ERRSIG':
    case 'EXPKEYSIG':
    case 'REVKEYSIG':
    case 'EXPSIG':
    case 'NO_PUBKEY':
      s.badSignatures.push(`${keyword} ${args.join(' ')}`.trim())
      break
    case 'BAD_PASSPHRASE':
      s.badPassphrase = true
      break
    case 'NODATA':
    case 'ERROR':
    case 'FAILURE':
      s.errors.push(`${keyword} ${args.join(' ')}`.trim())
      break
  }
  return true
}

/** INVALID_RECIPIENT_REASONS names the INV_RECP reason codes seb explains (doc/DETAILS). */
export const INVALID_RECIPIENT_REASONS: Readonly<Record<number, string>> = {
  0: 'unusable: revoked, expired, or without an encryption subkey',
  1: 'not found in the keyring',
  2: 'ambiguous',
  3: 'not usable for encryption',
  4: 'revoked',
  5: 'expired',
  10: 'not trusted',
  13: 'disabled',
}
