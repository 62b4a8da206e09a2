// Why: creating a repository: resolve the recipients to full fingerprints in the user's keyring (or
// take a passphrase), prove gpg can encrypt with them, then write the config — the only plaintext.
import type { Encryption, GpgContext } from '../crypto/gpg.js'
import { resolveRecipients } from '../crypto/keyring.js'
import { NotFoundError, RepositoryNotFoundError, SebError, UsageError } from '../errors.js'
import { sealBuffer } from '../pack/seal.js'
import { newConfig, type RepoConfig, readConfig, writeConfig } from '../repo/config.js'
import type { Storage } from '../storage/storage.js'

/** InitOptions choose how the new repository is encrypted. */
export interface InitOptions {
  readonly recipients?: readonly string[]
  readonly passphrase?: Buffer
  readonly retentionDays?: number
  /** target uncompressed content per pack (tests use small packs to get many) */
  readonly packBytes?: number
}

/** init creates a repository at `storage`; it refuses when one is already there. */
export async function init(storage: Storage, o: InitOptions): Promise<RepoConfig> {
  const existing = await readConfig(storage).catch((err: unknown) => {
    if (err instanceof RepositoryNotFoundError || err instanceof NotFoundError) return null
    throw err
  })
  if (existing)
    throw new SebError(
      'exists',
      `${storage.location}: already a seb repository (id ${existing.id}); nothing changed`,
    )
  let encryption: Encryption
  if (o.recipients?.length) {
    if (o.passphrase) throw new UsageError('give either --recipient or --passphrase-file, not both')
    const keys = await resolveRecipients(o.recipients)
    encryption = { type: 'recipients', recipients: [...new Set(keys.map((k) => k.fingerprint))] }
  } else if (o.passphrase) {
    if (!o.passphrase.length) throw new UsageError('the passphrase file is empty')
    encryption = { type: 'passphrase' }
  } else {
    throw new UsageError(
      'seb init needs --recipient KEY (repeatable; backups then need only the public key) or --passphrase-file FILE',
    )
  }
  if (o.retentionDays !== undefined && (!Number.isInteger(o.retentionDays) || o.retentionDays < 0)) {
    throw new UsageError(`--retention-days ${o.retentionDays}: must be a whole number of days, 0 or more`)
  }
  const ctx: GpgContext = { encryption, passphrase: o.passphrase }
  await sealBuffer(ctx, Buffer.from('seb init check')) // fails now, with gpg's reason, rather than at the first backup
  const config = newConfig(encryption, { retentionDays: o.retentionDays, packBytes: o.packBytes })
  await writeConfig(storage, config)
  return config
}
