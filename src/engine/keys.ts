// Why: who can read a repository and who may sign its commits are settings in its owner-signed
// manifest. `key list` shows the recipients with what the local keyring knows; `key add` / `key remove`
// change them (new packs and commits go to the new set; key-rotate.ts re-encrypts what is stored);
// `key setup` readies a new machine once, with the owner's secret key (the pins, the repository key,
// the cache); `key reset-signing` replaces the repository key (lost, or held by someone who should no
// longer sign). Every change is a new manifest signed by an owner (docs/design.md).
import { hasSecretKey, type KeyInfo, listKeys, resolveRecipients } from '../crypto/keyring.js'
import { newSigningKey, type SigningKey } from '../crypto/signing.js'
import { SebError, UsageError } from '../errors.js'
import { decodeSig, encodeSig, listSigNames } from '../repo/commit-sigs.js'
import { type Manifest, readConfigObject, recipientsOf } from '../repo/config.js'
import { dataBase, MachineData } from '../repo/machine-data.js'
import { publish } from '../repo/publish.js'
import { type LockMode, type RepoAccess, type Repository, withRepository } from '../repo/repository.js'
import { fetchSigningKey } from '../repo/signing-key-object.js'
import { authenticateConfig } from '../repo/trust.js'
import { bufferBody } from '../storage/storage.js'
import { fault } from '../util/fault.js'

/** KeyOptions are what every key command needs. */
export interface KeyOptions extends RepoAccess {
  /** owner fingerprints vouched for on the command line (`seb key setup --trust-owner`) */
  readonly trustedOwners?: readonly string[]
}

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

const open = <T>(o: KeyOptions, lock: LockMode, command: string, fn: (repo: Repository) => Promise<T>) =>
  withRepository(o, { lock, command }, fn)

/** listRecipients returns the repository's recipients, looked up in the local keyring. */
export async function listRecipients(o: KeyOptions, gpgPath = 'gpg'): Promise<Recipients> {
  if ((await readConfigObject(o.storage)).certificate.type === 'passphrase')
    return { encryption: 'passphrase', recipients: [] }
  return open(o, 'none', 'key list', async ({ config }) => {
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
  })
}

/** KeyChange says what `key add` / `key remove` did. */
export interface KeyChange {
  /** false when nothing had to change (the key was already a recipient) */
  readonly changed: boolean
  readonly key: { readonly fingerprint: string; readonly uid: string | null }
  /** the recipient fingerprints now in the config */
  readonly recipients: string[]
}

/** notForPassphrase refuses a key command on a passphrase repository before anything else is asked. */
async function notForPassphrase(o: KeyOptions, what: string): Promise<void> {
  const obj = await readConfigObject(o.storage)
  if (obj.certificate.type === 'passphrase')
    recipientsOf({ encryption: { type: 'passphrase' } } as Manifest, what)
}

/** addRecipient adds a GnuPG key to the recipients; new packs and commits are encrypted to it too. */
export async function addRecipient(o: KeyOptions, key: string): Promise<KeyChange> {
  await notForPassphrase(o, 'add')
  return open(o, 'exclusive', 'key add', async (repo) => {
    const current = recipientsOf(repo.config, 'add')
    const [info] = await resolveRecipients([key])
    const k = info as KeyInfo
    if (current.some((f) => f.toUpperCase() === k.fingerprint.toUpperCase()))
      return { changed: false, key: { fingerprint: k.fingerprint, uid: k.uid }, recipients: current }
    const next = [...current, k.fingerprint]
    const formerRecipients = repo.config.formerRecipients.filter(
      (f) => f.toUpperCase() !== k.fingerprint.toUpperCase(),
    )
    await publish(repo, { encryption: { type: 'recipients', recipients: next }, formerRecipients }, repo.key)
    return { changed: true, key: { fingerprint: k.fingerprint, uid: k.uid }, recipients: next }
  })
}

/**
 * removeRecipient removes a key from the recipients; it refuses to remove the last one. The removed
 * key could read the repository key (`keys/signing`), so a new repository key replaces it.
 */
export async function removeRecipient(o: KeyOptions, key: string, gpgPath = 'gpg'): Promise<KeyChange> {
  await notForPassphrase(o, 'remove')
  return open(o, 'exclusive', 'key remove', async (repo) => {
    const current = recipientsOf(repo.config, 'remove')
    const fpr = await matchRecipient(current, key, gpgPath)
    if (current.length === 1)
      throw new SebError(
        'last-recipient',
        `${fpr} is the only recipient: removing it would leave nobody able to read new backups; add another first with 'seb key add ${repo.storage.location} KEY'`,
      )
    const next = current.filter((f) => f !== fpr)
    const uid = (await listKeys([fpr], false, gpgPath))[0]?.uid ?? null
    const fresh = await resignHistory(repo)
    await publish(
      repo,
      {
        encryption: { type: 'recipients', recipients: next },
        formerRecipients: [...repo.config.formerRecipients, fpr],
      },
      fresh,
    )
    await repo.data.dropSigningKey(`${repo.config.id}.next`)
    return { changed: true, key: { fingerprint: fpr, uid }, recipients: next }
  })
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

/**
 * resignHistory makes a new repository key and signs every commit signature object with it again
 * (bodies unchanged, so the chain and every machine's pins stay valid). The new key is kept on this
 * machine first, so that a run killed half way finishes when run again.
 */
async function resignHistory(repo: Repository): Promise<SigningKey> {
  const { data, config, storage } = repo
  const saved = await data.signingKey(`${config.id}.next`)
  const fresh = saved ?? newSigningKey()
  if (!saved) await data.saveSigningKey(`${config.id}.next`, fresh)
  for (const s of await listSigNames(storage, repo.signal)) {
    const bytes = await storage.load({ type: 'sig', name: s.name }, undefined, async (st) => {
      const chunks: Buffer[] = []
      for await (const c of st) chunks.push(c as Buffer)
      return Buffer.concat(chunks)
    })
    const expect = { repository: config.id, name: s.name }
    const body = decodeSig(bytes, config.signingKey, expect)
    if (typeof body === 'string') {
      // Already signed with the new key by a run that was killed: nothing to do. Anything else is not
      // this repository's, and is left as it is.
      continue
    }
    fault('rotate:signature')
    await storage.save({ type: 'sig', name: s.name }, bufferBody(encodeSig(body, fresh)))
  }
  return fresh
}

/** resetSigningKey replaces the repository key (`seb key reset-signing`); it returns the new public key. */
export function resetSigningKey(o: KeyOptions): Promise<string> {
  return open(o, 'exclusive', 'key reset-signing', async (repo) => {
    if (repo.config.encryption.type === 'passphrase')
      throw new UsageError(
        "seb key reset-signing: not applicable: a passphrase repository's key is derived from its passphrase",
      )
    const fresh = await resignHistory(repo)
    await publish(repo, {}, fresh)
    await repo.data.dropSigningKey(`${repo.config.id}.next`)
    return fresh.publicKey
  })
}

/** SetupSummary says what `seb key setup` did on this machine. */
export interface SetupSummary {
  readonly repository: string
  readonly snapshots: number
  readonly signingKey: boolean
}

/**
 * setupMachine readies this machine for a repository, once, with the owner's secret key (or the
 * passphrase): it trusts the owner-signed settings afresh (pinning them), fetches the repository key,
 * and builds the cache, so that later backups need the public key only.
 */
export async function setupMachine(o: KeyOptions): Promise<SetupSummary> {
  const data = new MachineData(o.dataBase ?? dataBase())
  const obj = await readConfigObject(o.storage)
  await data.forgetPins(obj.id)
  await data.rememberLocation(o.storage.location, obj.id)
  const trusted = await authenticateConfig(obj, {
    data,
    location: o.storage.location,
    passphrase: o.passphrase,
    trustedOwners: o.trustedOwners,
  })
  const { config } = trusted
  if (config.encryption.type === 'recipients') {
    const key = await fetchSigningKey(o.storage, { encryption: config.encryption }, config.signingKey)
    await data.saveSigningKey(config.id, key)
  }
  return open(o, 'shared', 'key setup', async (repo) => {
    const loaded = await repo.loadState()
    return { repository: config.id, snapshots: loaded.state.snapshots.length, signingKey: repo.key !== null }
  })
}
