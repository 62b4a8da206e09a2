// Why: the one plaintext object of a repository. It holds only what is public anyway (format version,
// recipient fingerprints, compression, retention) so that a backup can run with public keys alone and a
// person can see how to decrypt the rest. Written once at init; read first by every command.
import { randomBytes } from 'node:crypto'
import { FORMAT_VERSION } from '../core/commit-codec.js'
import type { Encryption } from '../crypto/gpg.js'
import { DamageError, NotFoundError, RepositoryNotFoundError, SebError, UsageError } from '../errors.js'
import { bufferBody, type Storage } from '../storage/storage.js'

/** RepoConfig is the config object's JSON. */
export interface RepoConfig {
  readonly seb: 'repository'
  readonly version: number
  readonly id: string
  readonly created: string
  readonly compression: 'zstd'
  readonly encryption: Encryption
  /** days deleted content is kept before compaction may drop it */
  readonly retentionDays: number
  /** target uncompressed content per pack */
  readonly packBytes: number
}

const CONFIG = { type: 'config', name: '' } as const

/** newConfig makes the config of a new repository. */
export function newConfig(
  encryption: Encryption,
  options: { retentionDays?: number; packBytes?: number } = {},
): RepoConfig {
  return {
    seb: 'repository',
    version: FORMAT_VERSION,
    id: randomBytes(16).toString('hex'),
    created: new Date().toISOString(),
    compression: 'zstd',
    encryption,
    retentionDays: options.retentionDays ?? 30,
    packBytes: options.packBytes ?? 32 * 1024 * 1024,
  }
}

/** readConfig loads and checks the config; a missing one means "no repository here". */
export async function readConfig(storage: Storage): Promise<RepoConfig> {
  let text: string
  try {
    text = await storage.load(CONFIG, undefined, async (s) => {
      const chunks: Buffer[] = []
      for await (const c of s) chunks.push(c as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    })
  } catch (err) {
    if (err instanceof NotFoundError) throw new RepositoryNotFoundError(storage.location)
    throw err
  }
  let c: RepoConfig
  try {
    c = JSON.parse(text) as RepoConfig
  } catch {
    throw new DamageError(`${storage.location}/config: not valid JSON; the repository config is damaged`)
  }
  if (c?.seb !== 'repository') throw new RepositoryNotFoundError(storage.location)
  if (c.version !== FORMAT_VERSION)
    throw new SebError(
      'format',
      `${storage.location}: repository format ${c.version} is not supported by this seb (format ${FORMAT_VERSION}); upgrade seb`,
    )
  if (!/^[0-9a-f]{32}$/.test(c.id) || !c.encryption)
    throw new DamageError(`${storage.location}/config: missing fields; the repository config is damaged`)
  return c
}

/** writeConfig saves the config (atomically). */
export async function writeConfig(storage: Storage, c: RepoConfig): Promise<void> {
  await storage.save(CONFIG, bufferBody(Buffer.from(`${JSON.stringify(c, null, 2)}\n`)))
}

/** recipientsOf returns a recipient repository's fingerprints; a passphrase repository is a usage error. */
export function recipientsOf(config: RepoConfig, what: string): string[] {
  if (config.encryption.type !== 'recipients') {
    throw new UsageError(
      `seb key ${what}: not applicable: this repository is encrypted with a passphrase, not to GnuPG keys (to use keys, create a new repository with 'seb init DEST --recipient KEY' and back up to it)`,
    )
  }
  return [...config.encryption.recipients]
}
