// Why: the repository's settings — format, recipients, retention, pack size, the repository key — are
// the `config` object: a manifest signed by the owner (docs/design.md, "config: the signed manifest").
// This module is its exact shape: reading it (bounded, and refusing format 1 with the way to upgrade),
// making and signing a new one, and saving it. Whose signature counts is repo/trust.ts's decision.
import { randomBytes } from 'node:crypto'
import { FORMAT_VERSION } from '../core/commit-codec.js'
import type { Encryption } from '../crypto/gpg-args.js'
import { signAsOwner } from '../crypto/owner-signature.js'
import { type SigningKey, signMessage } from '../crypto/signing.js'
import {
  AuthenticityError,
  DamageError,
  NotFoundError,
  RepositoryNotFoundError,
  SebError,
  UsageError,
} from '../errors.js'
import { bufferBody, type Storage } from '../storage/storage.js'

/** Manifest is the repository's signed settings. */
export interface Manifest {
  readonly repository: string
  readonly format: number
  /** grows by one with every change */
  readonly serial: number
  readonly created: string
  readonly compression: 'zstd'
  readonly encryption: Encryption
  /** keys removed from the recipients whose objects are not re-encrypted yet (until `seb key rotate`) */
  readonly formerRecipients: string[]
  /** days deleted content is kept before compaction may drop it */
  readonly retentionDays: number
  /** target uncompressed content per pack */
  readonly packBytes: number
  /** the repository key's public half: raw 32 bytes, base64 */
  readonly signingKey: string
}

/** Certificate makes a manifest the owner's: an OpenPGP signature, or the passphrase's key. */
export type Certificate =
  | { readonly type: 'openpgp'; readonly signature: string }
  | { readonly type: 'passphrase'; readonly signature: string }

/** ConfigObject is the config as read, not yet authenticated. */
export interface ConfigObject {
  /** the repository id the manifest claims (not yet authenticated: it only picks the pins) */
  readonly id: string
  readonly manifestText: string
  readonly certificate: Certificate
}

/** RepoConfig is an authenticated manifest, with what it was read from. */
export interface RepoConfig extends Manifest {
  /** the repository id (= manifest.repository) */
  readonly id: string
  readonly manifestText: string
  readonly certificate: Certificate
}

/** MAX_CONFIG_BYTES bounds what is read of the config object (seb writes about 1.5 KiB). */
export const MAX_CONFIG_BYTES = 64 * 1024

const CONFIG = { type: 'config', name: '' } as const

/** FormatOneError: the repository is in format 1 and must be upgraded first. */
export class FormatOneError extends SebError {
  constructor(location: string) {
    super(
      'format-1',
      `${location}: this repository is in format 1 (seb 0.3), which whoever holds the destination can forge; run 'seb upgrade ${location}' once, with the owner's secret key (or the passphrase)`,
    )
  }
}

/** readConfigBytes loads the config object's bytes (bounded); a missing one means "no repository here". */
export async function readConfigBytes(storage: Storage): Promise<Buffer> {
  try {
    return await storage.load(CONFIG, undefined, async (s) => {
      const chunks: Buffer[] = []
      let n = 0
      for await (const c of s) {
        chunks.push(c as Buffer)
        n += (c as Buffer).length
        if (n > MAX_CONFIG_BYTES)
          throw new AuthenticityError(
            `${storage.location}/config: larger than any config seb writes; refused`,
          )
      }
      return Buffer.concat(chunks)
    })
  } catch (err) {
    if (err instanceof NotFoundError) throw new RepositoryNotFoundError(storage.location)
    throw err
  }
}

/** readConfigObject reads the config: its claimed id, the manifest's text and its certificate. */
export async function readConfigObject(storage: Storage): Promise<ConfigObject> {
  const bytes = await readConfigBytes(storage)
  let c: {
    seb?: unknown
    version?: unknown
    manifest?: unknown
    certificate?: { type?: unknown; signature?: unknown }
  }
  try {
    c = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new DamageError(`${storage.location}/config: not valid JSON; the repository config is damaged`)
  }
  if (c?.seb !== 'repository') throw new RepositoryNotFoundError(storage.location)
  if (c.version === 1) throw new FormatOneError(storage.location)
  if (c.version !== FORMAT_VERSION)
    throw new SebError(
      'format',
      `${storage.location}: repository format ${String(c.version)} is not supported by this seb (format ${FORMAT_VERSION}); upgrade seb`,
    )
  const cert = c.certificate
  if (
    typeof c.manifest !== 'string' ||
    (cert?.type !== 'openpgp' && cert?.type !== 'passphrase') ||
    typeof cert.signature !== 'string'
  )
    throw new DamageError(`${storage.location}/config: missing fields; the repository config is damaged`)
  // The id the manifest claims, before it is authenticated: it only picks this machine's pins.
  let id: unknown
  try {
    id = (JSON.parse(c.manifest) as { repository?: unknown })?.repository
  } catch {}
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id))
    throw new DamageError(
      `${storage.location}/config: the manifest names no repository id; the repository config is damaged`,
    )
  return { id, manifestText: c.manifest, certificate: cert as Certificate }
}

/** parseManifest parses and validates a manifest's text (authenticate it first); null when malformed. */
export function parseManifest(text: string): Manifest | null {
  let m: Manifest
  try {
    m = JSON.parse(text) as Manifest
  } catch {
    return null
  }
  const fpr = (f: unknown) => typeof f === 'string' && /^[0-9A-F]{40}$/i.test(f)
  const enc = m?.encryption
  const encOk =
    enc?.type === 'passphrase' ||
    (enc?.type === 'recipients' &&
      Array.isArray(enc.recipients) &&
      enc.recipients.length > 0 &&
      enc.recipients.every(fpr))
  const ok =
    typeof m === 'object' &&
    m !== null &&
    typeof m.repository === 'string' &&
    /^[0-9a-f]{32}$/.test(m.repository) &&
    m.format === FORMAT_VERSION &&
    Number.isSafeInteger(m.serial) &&
    m.serial >= 1 &&
    typeof m.created === 'string' &&
    m.compression === 'zstd' &&
    encOk &&
    Array.isArray(m.formerRecipients) &&
    m.formerRecipients.every(fpr) &&
    Number.isSafeInteger(m.retentionDays) &&
    m.retentionDays >= 0 &&
    Number.isSafeInteger(m.packBytes) &&
    m.packBytes >= 64 * 1024 &&
    typeof m.signingKey === 'string' &&
    Buffer.from(m.signingKey, 'base64').length === 32
  return ok ? m : null
}

/** newManifest makes the manifest of a new repository (serial 1). */
export function newManifest(
  encryption: Encryption,
  signingKey: string,
  options: { retentionDays?: number; packBytes?: number } = {},
): Manifest {
  return {
    repository: randomBytes(16).toString('hex'),
    format: FORMAT_VERSION,
    serial: 1,
    created: new Date().toISOString(),
    compression: 'zstd',
    encryption,
    formerRecipients: [],
    retentionDays: options.retentionDays ?? 30,
    packBytes: options.packBytes ?? 32 * 1024 * 1024,
    signingKey,
  }
}

/**
 * certify makes a manifest the owner's: signed with a recipient's secret key (recipient repositories),
 * or with the repository key derived from the passphrase. `signers` are the keys allowed to sign (the
 * owners as this machine knows them).
 */
export async function certify(
  manifest: Manifest,
  o: { signers?: readonly string[]; passphraseKey?: SigningKey },
): Promise<RepoConfig> {
  const manifestText = JSON.stringify(manifest)
  let certificate: Certificate
  if (manifest.encryption.type === 'passphrase') {
    if (!o.passphraseKey) throw new UsageError('a passphrase repository needs its passphrase here')
    certificate = {
      type: 'passphrase',
      signature: signMessage(o.passphraseKey, 'seb-manifest', manifestText),
    }
  } else {
    const signers = o.signers ?? manifest.encryption.recipients
    const s = await signAsOwner(Buffer.from(manifestText), signers, "the repository's settings")
    certificate = { type: 'openpgp', signature: s.armored }
  }
  return { ...manifest, id: manifest.repository, manifestText, certificate }
}

/** encodeConfig is the config object's bytes. */
export function encodeConfig(c: RepoConfig): Buffer {
  const outer = {
    seb: 'repository',
    version: FORMAT_VERSION,
    manifest: c.manifestText,
    certificate: c.certificate,
  }
  return Buffer.from(`${JSON.stringify(outer, null, 2)}\n`)
}

/** writeConfig saves the config (atomically). */
export async function writeConfig(storage: Storage, c: RepoConfig): Promise<void> {
  await storage.save(CONFIG, bufferBody(encodeConfig(c)))
}

/** recipientsOf returns a recipient repository's fingerprints; a passphrase repository is a usage error. */
export function recipientsOf(config: Manifest, what: string): string[] {
  if (config.encryption.type !== 'recipients') {
    throw new UsageError(
      `seb key ${what}: not applicable: this repository is encrypted with a passphrase, not to GnuPG keys (to use keys, create a new repository with 'seb init DEST --recipient KEY' and back up to it)`,
    )
  }
  return [...config.encryption.recipients]
}
