// Why: the repository key's secret half must reach every machine that backs up, and must survive the
// loss of any one of them, without ever being readable from the destination by anyone but the owners:
// `keys/signing` holds it encrypted to the recipients, as every commit is (docs/design.md, "The
// repository key"). A machine fetches it once, with the owner's secret key (`seb key setup`).
import type { GpgContext } from '../crypto/gpg.js'
import { type SigningKey, signingKeyFromPem, signingKeyPem } from '../crypto/signing.js'
import { AuthenticityError, DamageError, NotFoundError } from '../errors.js'
import { explain, openSealedBuffer } from '../pack/pack-reader.js'
import { sealBuffer } from '../pack/seal.js'
import { bufferBody, type Storage } from '../storage/storage.js'

const KEY_OBJECT = { type: 'key', name: 'signing' } as const

/** saveSigningKeyObject saves the repository key's secret half, encrypted to the recipients. */
export async function saveSigningKeyObject(
  storage: Storage,
  ctx: GpgContext,
  key: SigningKey,
): Promise<void> {
  await storage.save(KEY_OBJECT, bufferBody(await sealBuffer(ctx, Buffer.from(signingKeyPem(key)))))
}

/**
 * fetchSigningKey downloads and decrypts `keys/signing` (the owner's secret key, or the passphrase) and
 * checks that it is the key the authenticated manifest names.
 */
export async function fetchSigningKey(
  storage: Storage,
  ctx: GpgContext,
  publicKey: string,
): Promise<SigningKey> {
  let sealed: Buffer
  try {
    sealed = await storage.load(KEY_OBJECT, { offset: 0, length: 64 * 1024 }, async (s) => {
      const chunks: Buffer[] = []
      for await (const c of s) chunks.push(c as Buffer)
      return Buffer.concat(chunks)
    })
  } catch (err) {
    if (err instanceof NotFoundError)
      throw new DamageError(
        `${storage.location}/keys/signing is missing: the repository key cannot be fetched; the owner can make a new one with 'seb key reset-signing ${storage.location}'`,
      )
    throw err
  }
  let pem: Buffer
  try {
    pem = await openSealedBuffer(ctx, sealed)
  } catch (err) {
    throw explain(err, `${storage.location}/keys/signing`)
  }
  const key = signingKeyFromPem(pem)
  if (!key || key.publicKey !== publicKey)
    throw new AuthenticityError(
      `${storage.location}/keys/signing does not hold the key the repository's signed settings name: refused`,
    )
  return key
}
