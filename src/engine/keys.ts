// Why: who can read a repository is the list of recipient fingerprints in its config. `key list`
// shows them with what the local keyring knows; `key add` / `key remove` change the list, so new packs
// and commits go to the new set (key-rotate.ts then re-encrypts what is already stored).
import { hasSecretKey, type KeyInfo, listKeys, resolveRecipients } from '../crypto/keyring.js'
import { SebError, UsageError } from '../errors.js'
import { sealBuffer } from '../pack/seal.js'
import { type RepoConfig, readConfig, recipientsOf, writeConfig } from '../repo/config.js'
import { acquireLock } from '../repo/lock.js'
import type { Storage } from '../storage/storage.js'

/** RecipientInfo is one recipient of the repository, with what the local keyring knows of it. */
export interface RecipientInfo {
  readonly fingerprint: string
  /** the key's first user id, or null when the public key is not in the keyring */
  readonly uid: string | null
  readonly canEncrypt: boolean
  readonly expired: boolean
  readonly revoked: boolean
  /** whether this machine holds the secret key (can restore) */
  readonly secretKey: boolean
}

/** Recipients is what `seb key list` shows. */
export interface Recipients {
  readonly encryption: 'recipients' | 'passphrase'
  readonly recipients: RecipientInfo[]
}

/** listRecipients returns the repository's recipients, looked up in the local keyring. */
export async function listRecipients(storage: Storage, gpgPath = 'gpg'): Promise<Recipients> {
  const config = await readConfig(storage)
  if (config.encryption.type === 'passphrase') return { encryption: 'passphrase', recipients: [] }
  const out: RecipientInfo[] = []
  for (const fpr of config.encryption.recipients) {
    const key = (await listKeys([fpr], false, gpgPath))[0]
    out.push({
      fingerprint: fpr,
      uid: key?.uid ?? null,
      canEncrypt: key?.canEncrypt ?? false,
      expired: key?.expired ?? false,
      revoked: key?.revoked ?? false,
      secretKey: await hasSecretKey(fpr, gpgPath),
    })
  }
  return { encryption: 'recipients', recipients: out }
}

/** KeyChange says what `key add` / `key remove` did. */
export interface KeyChange {
  /** false when nothing had to change (the key was already a recipient) */
  readonly changed: boolean
  readonly key: { readonly fingerprint: string; readonly uid: string | null }
  /** the recipient fingerprints now in the config */
  readonly recipients: string[]
}

/** addRecipient adds a GnuPG key to the recipients; new packs and commits are encrypted to it too. */
export async function addRecipient(storage: Storage, key: string): Promise<KeyChange> {
  const config = await readConfig(storage)
  const current = recipientsOf(config, 'add')
  const [info] = await resolveRecipients([key])
  const k = info as KeyInfo
  if (current.some((f) => f.toUpperCase() === k.fingerprint.toUpperCase())) {
    return { changed: false, key: { fingerprint: k.fingerprint, uid: k.uid }, recipients: current }
  }
  const next = [...current, k.fingerprint]
  await updateRecipients(storage, config, next)
  return { changed: true, key: { fingerprint: k.fingerprint, uid: k.uid }, recipients: next }
}

/** removeRecipient removes a key from the recipients; it refuses to remove the last one. */
export async function removeRecipient(storage: Storage, key: string, gpgPath = 'gpg'): Promise<KeyChange> {
  const config = await readConfig(storage)
  const current = recipientsOf(config, 'remove')
  const fpr = await matchRecipient(current, key, gpgPath)
  if (current.length === 1) {
    throw new SebError(
      'last-recipient',
      `${fpr} is the only recipient: removing it would leave nobody able to read new backups; add another first with 'seb key add ${storage.location} KEY'`,
    )
  }
  const next = current.filter((f) => f !== fpr)
  const uid = (await listKeys([fpr], false, gpgPath))[0]?.uid ?? null
  await updateRecipients(storage, config, next)
  return { changed: true, key: { fingerprint: fpr, uid }, recipients: next }
}

/** matchRecipient finds which recipient `key` names: a fingerprint, a key id (its tail), or a keyring lookup. */
async function matchRecipient(current: readonly string[], key: string, gpgPath: string): Promise<string> {
  const hex = key.replace(/^0x/i, '').replace(/\s+/g, '').toUpperCase()
  if (/^[0-9A-F]{8,40}$/.test(hex)) {
    const hits = current.filter((f) => f.toUpperCase().endsWith(hex))
    if (hits.length === 1) return hits[0]!
  }
  const fprs = (await listKeys([key], false, gpgPath)).map((k) => k.fingerprint.toUpperCase())
  const hits = current.filter((f) => fprs.includes(f.toUpperCase()))
  if (hits.length === 1) return hits[0]!
  if (hits.length > 1)
    throw new UsageError(
      `${key}: matches ${hits.length} recipients; give the full fingerprint ('seb key list' shows them)`,
    )
  throw new UsageError(
    `${key}: not a recipient of this repository ('seb key list' shows them: ${current.join(', ')})`,
  )
}

/** updateRecipients proves gpg can encrypt to the new set, then saves the config under the exclusive lock. */
async function updateRecipients(storage: Storage, config: RepoConfig, recipients: string[]): Promise<void> {
  const encryption = { type: 'recipients' as const, recipients }
  await sealBuffer({ encryption }, Buffer.from('seb key check'))
  const lock = await acquireLock(storage, 'key', true)
  try {
    // Re-read under the lock: another `seb key` may have changed the config meanwhile.
    const fresh = await readConfig(storage)
    if (JSON.stringify(fresh.encryption) !== JSON.stringify(config.encryption)) {
      throw new SebError(
        'changed',
        `${storage.location}: the recipients changed while this command ran; run it again`,
      )
    }
    await writeConfig(storage, { ...fresh, encryption })
  } finally {
    await lock.release()
  }
}
