// Why: the repository's settings change only as a new manifest, signed by an owner of the current one
// (docs/design.md, "config: the signed manifest"): `key add`, `key remove`, `key rotate` and
// `key reset-signing` all publish through here, under the exclusive lock, and this machine's pins
// follow at once.
import type { SigningKey } from '../crypto/signing.js'
import { sealBuffer } from '../pack/seal.js'
import { certify, type Manifest, writeConfig } from './config.js'
import type { Repository } from './repository.js'
import { saveSigningKeyObject } from './signing-key-object.js'

/**
 * publish saves a new manifest (serial + 1) with `change` applied, signed by an owner of the current
 * one, after proving gpg can encrypt to its recipients; the repository key's secret half is saved
 * again, encrypted to them. `key` is the repository key from now on (this machine keeps it).
 */
export async function publish(
  repo: Repository,
  change: Partial<Manifest>,
  key: SigningKey | null,
): Promise<void> {
  const { config } = repo
  const next: Manifest = {
    repository: config.repository,
    format: config.format,
    serial: config.serial + 1,
    created: config.created,
    compression: config.compression,
    encryption: config.encryption,
    formerRecipients: config.formerRecipients,
    retentionDays: config.retentionDays,
    packBytes: config.packBytes,
    signingKey: key?.publicKey ?? config.signingKey,
    ...change,
  }
  const ctx = { encryption: next.encryption, passphrase: repo.ctx.passphrase }
  await sealBuffer(ctx, Buffer.from('seb key check'))
  const owners = config.encryption.type === 'recipients' ? config.encryption.recipients : []
  const certified = await certify(next, { signers: owners, passphraseKey: key ?? undefined })
  if (key && next.encryption.type === 'recipients') {
    await saveSigningKeyObject(repo.storage, ctx, key)
    await repo.data.saveSigningKey(config.id, key)
  }
  await writeConfig(repo.storage, certified)
  const pins = await repo.data.pins(config.id)
  await repo.data.savePins({
    repository: config.id,
    manifest: certified.manifestText,
    serial: certified.serial,
    head: pins?.head ?? null,
  })
}
