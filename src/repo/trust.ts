// Why: nothing read from the destination is believed until it is the owner's. This module decides
// whose signature makes the settings authentic (docs/design.md, "Who may sign") and keeps each
// machine's pins: the manifest it accepted and the repository it saw at each location, so that a
// forged manifest, settings changed without an owner's signature, an older manifest put back, or
// another repository swapped in are refused — with exit code 14 and nothing changed.
import { hasSecretKey } from '../crypto/keyring.js'
import { verifyOwnerSignature } from '../crypto/owner-signature.js'
import { type SigningKey, signingKeyFromPassphrase, verifyMessage } from '../crypto/signing.js'
import { AuthenticityError, DamageError, KeyError } from '../errors.js'
import { type ConfigObject, type Manifest, parseManifest, type RepoConfig } from './config.js'
import type { MachineData, Pins } from './machine-data.js'

/** TrustOptions are what the decision needs besides the config. */
export interface TrustOptions {
  readonly data: MachineData
  /** the destination as the user wrote it */
  readonly location: string
  readonly passphrase?: Buffer
  /** accept settings older than this machine's pin (a deliberate rollback of the destination) */
  readonly acceptRollback?: boolean
  /**
   * owner fingerprints the user vouches for on this machine (`seb key setup --trust-owner`): another
   * recipient's signature on settings, which a machine without that owner's secret key cannot check
   */
  readonly trustedOwners?: readonly string[]
}

/** Trusted is an authenticated config, with the passphrase's repository key when there is one. */
export interface Trusted {
  readonly config: RepoConfig
  readonly pins: Pins
  /** the repository key derived from the passphrase (passphrase repositories) */
  readonly passphraseKey: SigningKey | null
}

const SETUP = (location: string) =>
  `run 'seb key setup ${location}' once on this machine with the owner's secret key (or copy its data folder, ~/.local/share/seb, from a machine that has run it)`

/** authenticateConfig decides whether a config read from `o.location` is the owner's, and pins it. */
export async function authenticateConfig(obj: ConfigObject, o: TrustOptions): Promise<Trusted> {
  const where = `${o.location}/config`
  const seen = await o.data.repositoryAt(o.location)
  if (seen && seen !== obj.id)
    throw new AuthenticityError(
      `${o.location}: held repository ${seen} when this machine last used it, and now holds ${obj.id}: refusing a swapped repository (if you replaced it on purpose, ${SETUP(o.location)})`,
    )
  const pins = await o.data.pins(obj.id)
  const pinned = pins ? parseManifest(pins.manifest) : null
  const manifest = parseManifest(obj.manifestText)
  let passphraseKey: SigningKey | null = null
  if (obj.certificate.type === 'passphrase') {
    if (!o.passphrase)
      throw new KeyError(
        'this repository is encrypted with a passphrase, and none was given (the passphrase file setting)',
      )
    passphraseKey = signingKeyFromPassphrase(o.passphrase, obj.id)
    const expected = pinned?.signingKey ?? manifest?.signingKey
    if (expected !== undefined && passphraseKey.publicKey !== expected)
      throw new KeyError('wrong passphrase: it is not the one this repository was made with')
    if (!verifyMessage(passphraseKey.publicKey, 'seb-manifest', obj.manifestText, obj.certificate.signature))
      throw new AuthenticityError(
        `${where}: the settings are not signed with the repository's passphrase: refused`,
      )
  } else if (pins?.manifest !== obj.manifestText) {
    // Settings this machine accepted before are the same bytes and need no second check (nor gpg).
    const signer = await verifyOwnerSignature(Buffer.from(obj.manifestText), obj.certificate.signature)
    if (!signer) throw new AuthenticityError(`${where}: the settings carry no valid owner signature: refused`)
    if (!manifest)
      throw new DamageError(`${where}: signed settings that seb cannot read; the config is damaged`)
    // New settings must be signed by an owner of the settings this machine had (an owner removing
    // itself still signs as an owner of the old ones).
    const owners = ownerFingerprints(pinned ?? manifest)
    const vouched = (o.trustedOwners ?? []).map((f) => f.toUpperCase()).includes(signer)
    if (!owners.includes(signer) && !vouched)
      throw new AuthenticityError(
        `${where}: the settings are signed by ${signer}, which is not an owner of this repository: refused`,
      )
    if (!pinned && !vouched && !(await hasSecretKey(signer)))
      throw new KeyError(
        `${o.location}: this machine has not seen repository ${obj.id} before and cannot tell its owner's settings from forged ones with public keys alone: ${SETUP(o.location)}`,
      )
  }
  if (!manifest)
    throw new DamageError(`${where}: signed settings that seb cannot read; the config is damaged`)
  if (pins && !o.acceptRollback) {
    if (manifest.serial < pins.serial)
      throw new AuthenticityError(
        `${where}: older settings (version ${manifest.serial}) than this machine has seen (version ${pins.serial}): refusing a rollback (--accept-rollback accepts it deliberately)`,
      )
    if (manifest.serial === pins.serial && obj.manifestText !== pins.manifest)
      throw new AuthenticityError(
        `${where}: different settings under the same version (${manifest.serial}): refused`,
      )
  }
  const config: RepoConfig = {
    ...manifest,
    id: obj.id,
    manifestText: obj.manifestText,
    certificate: obj.certificate,
  }
  const next: Pins = {
    repository: obj.id,
    manifest: obj.manifestText,
    serial: manifest.serial,
    head: pins?.head ?? null,
  }
  if (!pins || pins.manifest !== next.manifest) await o.data.savePins(next)
  if (seen !== obj.id) await o.data.rememberLocation(o.location, obj.id)
  return { config, pins: next, passphraseKey }
}

/** ownerFingerprints are who may sign the settings: the recipients (none for a passphrase repository). */
function ownerFingerprints(m: Manifest): string[] {
  return m.encryption.type === 'recipients' ? m.encryption.recipients.map((f) => f.toUpperCase()) : []
}
