// Why: creating a repository (docs/design.md): resolve the recipients to full fingerprints in the user's
// keyring (or take a passphrase), prove gpg can encrypt with them, make the repository key, sign the
// settings as the owner (the one moment, besides restoring, that needs a recipient's secret key), keep
// the key and the pins on this machine and the key's secret half, encrypted, on the destination; the
// config is saved last: it is what makes the folder a repository. A local folder that already holds
// other things (restored mail, the mail folder itself given by mistake) is refused: a repository is
// created in a new or empty folder.

import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Encryption, GpgContext } from '../crypto/gpg.js'
import { resolveRecipients } from '../crypto/keyring.js'
import { newSigningKey, signingKeyFromPassphrase } from '../crypto/signing.js'
import { NotFoundError, RepositoryNotFoundError, SebError, UsageError } from '../errors.js'
import { sealBuffer } from '../pack/seal.js'
import {
  certify,
  FormatOneError,
  newManifest,
  type RepoConfig,
  readConfigObject,
  writeConfig,
} from '../repo/config.js'
import { dataBase, MachineData } from '../repo/machine-data.js'
import { saveSigningKeyObject } from '../repo/signing-key-object.js'
import { DIRS, TEMP_MARK } from '../storage/layout.js'
import type { Storage } from '../storage/storage.js'

/** InitOptions choose how the new repository is encrypted. */
export interface InitOptions {
  readonly recipients?: readonly string[]
  readonly passphrase?: Buffer
  readonly retentionDays?: number
  /** target uncompressed content per pack (tests use small packs to get many) */
  readonly packBytes?: number
  /** the machine data folder (default: $SEB_DATA_DIR, else ~/.local/share/seb) */
  readonly dataBase?: string
}

/** init creates a repository at `storage`; it refuses when one is already there. */
export async function init(storage: Storage, o: InitOptions): Promise<RepoConfig> {
  const foreign = await localEntries(storage)
  const existing = await readConfigObject(storage).then(
    (c) => c.id,
    (err: unknown) => {
      if (err instanceof RepositoryNotFoundError || err instanceof NotFoundError) return null
      if (err instanceof FormatOneError) return 'in format 1'
      // A folder of other things whose 'config' is not seb's: refused below as not empty.
      if (foreign.length) return null
      throw err
    },
  )
  if (existing)
    throw new SebError(
      'exists',
      `${storage.location}: already a seb repository (${existing}); nothing changed`,
    )
  if (foreign.length) {
    const shown = foreign.slice(0, 3).join(', ') + (foreign.length > 3 ? ', …' : '')
    throw new UsageError(
      `${storage.location}: the folder is not empty (${shown}) and is not a seb repository; give a new or empty folder`,
    )
  }
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
  const id = randomBytes(16).toString('hex')
  const key =
    o.passphrase && encryption.type === 'passphrase'
      ? signingKeyFromPassphrase(o.passphrase, id)
      : newSigningKey()
  const manifest = {
    ...newManifest(encryption, key.publicKey, { retentionDays: o.retentionDays, packBytes: o.packBytes }),
    repository: id,
  }
  const config = await certify(manifest, { passphraseKey: key })
  const data = new MachineData(o.dataBase ?? dataBase())
  if (encryption.type === 'recipients') {
    await saveSigningKeyObject(storage, ctx, key)
    await data.saveSigningKey(id, key)
  }
  await data.savePins({ repository: id, manifest: config.manifestText, serial: config.serial, head: null })
  await data.rememberLocation(storage.location, id)
  await writeConfig(storage, config)
  return config
}

/** repositoryExists tells whether the destination holds a seb repository (of any format). */
export async function repositoryExists(storage: Storage): Promise<boolean> {
  return readConfigObject(storage).then(
    () => true,
    (err: unknown) => {
      if (err instanceof RepositoryNotFoundError) return false
      if (err instanceof FormatOneError) return true
      throw err
    },
  )
}

/**
 * IGNORED_ENTRIES are what a fresh disk or a file manager puts in a folder: a repository may still be
 * created beside them. Names with TEMP_MARK are what a killed init left behind.
 */
const IGNORED_ENTRIES = new Set(['lost+found', '.DS_Store', '.Spotlight-V100', '.fseventsd', '.Trashes'])

/**
 * localEntries lists what a local destination folder already holds besides a repository's own folders
 * (nothing for a remote destination, or a folder that does not exist yet): a repository is created
 * in a new or empty folder only, never among restored mail or other files.
 */
async function localEntries(storage: Storage): Promise<string[]> {
  const configFile = storage.localPath?.({ type: 'config', name: '' })
  if (!configFile) return []
  let names: string[]
  try {
    names = await fs.readdir(path.dirname(configFile))
  } catch {
    return []
  }
  return names
    .filter(
      (n) =>
        !IGNORED_ENTRIES.has(n) &&
        !n.startsWith('.Trash-') &&
        !n.includes(TEMP_MARK) &&
        !REPOSITORY_ENTRIES.has(n),
    )
    .sort()
}

/**
 * REPOSITORY_ENTRIES are the folders of a repository's objects (storage/layout.ts). A `config` file is
 * not among them: one that is not a seb repository's is someone else's, and is not overwritten.
 */
const REPOSITORY_ENTRIES = new Set(Object.values(DIRS))
