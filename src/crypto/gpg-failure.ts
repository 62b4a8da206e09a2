// Why: what a finished gpg means, decided from its result and status lines only (a pure function, so
// every case is tested without gpg): a key problem (exit 12), damage (13), an object that is not this
// repository's (14), or another failure, each as one line that names the cause. A decryption that
// exited 0 is not trusted on that alone: gpg also "decrypts" a message that was never encrypted
// (`gpg --store`), and one encrypted to some other key in the user's keyring.
import { AuthenticityError, KeyError, SebError } from '../errors.js'
import { type ProcessResult, shortMessage } from '../util/subprocess.js'
import type { Encryption } from './gpg-args.js'
import { type GpgStatus, INVALID_RECIPIENT_REASONS } from './gpg-status.js'

/** GpgOp is what gpg was asked to do. */
export type GpgOp = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'list'

/** DecryptExpectation is what a message seb wrote must show when decrypted. */
export interface DecryptExpectation {
  readonly encryption: Encryption
  /**
   * long key ids (primary and subkeys) of the configured recipients: a message encrypted to none of
   * them was not written for this repository. Unset: not checked.
   */
  readonly recipientKeyIds?: ReadonlySet<string>
  /**
   * long key ids of the keys a message may also be encrypted to: former recipients (objects written
   * before `seb key remove` until `seb key rotate`). When set, any other key makes a message foreign.
   */
  readonly formerKeyIds?: ReadonlySet<string>
}

/** gpgMissing is the error when no gpg binary can be run. */
export function gpgMissing(): SebError {
  return new SebError(
    'gpg-missing',
    'gpg: command not found; install GnuPG (Debian/Ubuntu: apt-get install gnupg)',
  )
}

/** GNUPG_HOME_TEXT names the keyring in messages. */
export function gnupgHome(): string {
  return process.env.GNUPGHOME ? `GNUPGHOME=${process.env.GNUPGHOME}` : '~/.gnupg'
}

const CAUSE =
  /error|fail|no secret|bad|invalid|expired|revoked|not found|skipped|manipulated|unusable|no valid/i

/**
 * classifyGpg returns the error a finished gpg stands for, or null when it did what was asked. For a
 * decryption, success needs gpg's own integrity verdict (DECRYPTION_OKAY), exactly one literal data
 * packet, and encryption the repository uses: to its recipients' keys only, or with its passphrase.
 */
export function classifyGpg(
  op: GpgOp,
  r: ProcessResult,
  status: GpgStatus,
  expect?: DecryptExpectation,
): SebError | null {
  if (r.spawnError?.code === 'ENOENT') return gpgMissing()
  if (r.cancelled) return new SebError('cancelled', `gpg ${op} was stopped`)
  if (r.spawnError) return new SebError('gpg', `gpg: ${r.spawnError.message}`)
  if (r.signal) return new SebError('gpg', `gpg ${op} was stopped by ${r.signal}`)
  const cause = () => shortMessage(r, (l) => CAUSE.test(l), `gpg ${op}`)
  if (op === 'encrypt') {
    if (status.invalidRecipients.length) {
      const who = status.invalidRecipients
        .map((i) => `${i.who} (${INVALID_RECIPIENT_REASONS[i.reason] ?? `reason ${i.reason}`})`)
        .join(', ')
      return new KeyError(
        `gpg cannot encrypt to ${who} in ${gnupgHome()}: import or renew the key, or change the recipients with 'seb key'`,
      )
    }
    return r.failed ? new SebError('gpg', cause()) : null
  }
  if (op !== 'decrypt') return r.failed ? new SebError('gpg', cause()) : null
  // gpg exits 0 on a message cut short in its first packets: it met no encrypted data and no literal
  // data at all. That is damage (whatever key id the stump names), not a foreign or an unencrypted one.
  if (!r.failed && !status.beginDecryption && status.plaintexts === 0)
    return new SebError('gpg-corrupt', 'gpg cannot decrypt: the message ends early (truncated)')
  const enc = expect?.encryption
  if (enc?.type === 'recipients' && status.symmetric)
    return new AuthenticityError(
      "not written for this repository: encrypted with a passphrase, not to the repository's recipients",
    )
  if (enc?.type === 'passphrase' && status.encTo.length)
    return new AuthenticityError(
      `not written for this repository: encrypted to key ${status.encTo.join(', ')} instead of with the repository's passphrase`,
    )
  const ours = expect?.recipientKeyIds
  if (ours && status.encTo.length) {
    const former = expect?.formerKeyIds
    const foreign = former ? status.encTo.filter((k) => !ours.has(k) && !former.has(k)) : []
    if (foreign.length || (!former && !status.encTo.some((k) => ours.has(k))))
      return new AuthenticityError(
        `not written for this repository: encrypted to key ${(foreign.length ? foreign : status.encTo).join(', ')}, which is not one of its recipients`,
      )
  }
  const wrongPassphrase =
    status.badPassphrase ||
    status.errors.some((e) => e.includes('BAD_PASSPHRASE')) ||
    (status.symmetric && status.decryptionFailed && status.plaintexts === 0 && !status.badMdc)
  if (wrongPassphrase) return new KeyError('gpg cannot decrypt: wrong passphrase')
  // Encrypted to keys, and gpg never got a session key: none of those secret keys is here.
  const noData = status.errors.some((e) => e.startsWith('NODATA'))
  if (!status.decryptionOkay && status.encTo.length && !status.hadKey && !noData)
    return new KeyError(
      `gpg cannot decrypt: no secret key for this repository in ${gnupgHome()} (key ${status.encTo.join(', ')}); restoring and reading the index need the owner's secret key`,
    )
  if (status.badMdc || status.decryptionFailed)
    return new SebError('gpg-corrupt', `gpg cannot decrypt: the data is damaged (${cause()})`)
  if (r.failed) {
    if (noData)
      return new SebError(
        'gpg-corrupt',
        'gpg cannot decrypt: no valid OpenPGP data (damaged or not an OpenPGP message)',
      )
    return new SebError('gpg-corrupt', `gpg cannot decrypt: ${cause()}`)
  }
  if (!status.beginDecryption || !status.decryptionOkay)
    return new SebError(
      'gpg-unencrypted',
      'not an encrypted message: every object seb writes is encrypted, so this one was not written by seb (refused)',
    )
  if (status.plaintexts !== 1)
    return new SebError(
      'gpg-corrupt',
      `gpg cannot decrypt: ${status.plaintexts} literal data packets where seb writes one`,
    )
  return null
}
