// Why: every commit is signed by the repository key, an Ed25519 key pair made at `seb init` (or, for a
// passphrase repository, derived from the passphrase), so that whoever holds the destination cannot
// forge or splice history; a backing-up machine holds this key, never the owner's OpenPGP secret key.
// Each signed message starts with a domain tag, so a signature made for one purpose is never valid
// for another (docs/design.md, "The repository key").
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  scryptSync,
  sign,
  verify,
} from 'node:crypto'

/** SignedPurpose is what a signature is for; it is signed as a tag in front of the message. */
export type SignedPurpose = 'seb-commit' | 'seb-manifest'

/** PKCS8_ED25519_PREFIX is the DER of an Ed25519 PKCS#8 private key before its 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')
/** SPKI_ED25519_PREFIX is the DER of an Ed25519 public key before its 32 raw bytes. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex')

/** SigningKey is the secret half of a repository key, with its public half. */
export interface SigningKey {
  readonly privateKey: KeyObject
  /** the raw 32-byte public key, base64 (what the manifest names) */
  readonly publicKey: string
}

/** newSigningKey makes a random repository key. */
export function newSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519')
  return fromPrivate(privateKey)
}

function fromPrivate(privateKey: KeyObject): SigningKey {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' })
  return { privateKey, publicKey: Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length)).toString('base64') }
}

/** signingKeyFromPem reads a repository key's secret half (PKCS#8 PEM); null when it is not one. */
export function signingKeyFromPem(pem: string | Buffer): SigningKey | null {
  try {
    const key = createPrivateKey(pem)
    return key.asymmetricKeyType === 'ed25519' ? fromPrivate(key) : null
  } catch {
    return null
  }
}

/** signingKeyPem writes a repository key's secret half as PKCS#8 PEM. */
export function signingKeyPem(key: SigningKey): string {
  return key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
}

/**
 * PASSPHRASE_KDF is fixed by the format: an object from the destination never chooses how much work
 * (or memory) deriving the key costs.
 */
export const PASSPHRASE_KDF = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const

/** signingKeyFromPassphrase derives a passphrase repository's key (scrypt, salted by the repository id). */
export function signingKeyFromPassphrase(passphrase: Buffer, repositoryId: string): SigningKey {
  const seed = scryptSync(passphrase, `seb repository key ${repositoryId}`, 32, PASSPHRASE_KDF)
  const der = Buffer.concat([PKCS8_ED25519_PREFIX, seed])
  return fromPrivate(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }))
}

function tagged(purpose: SignedPurpose, message: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${purpose}\n`), Buffer.from(message)])
}

/** signMessage signs `message` for `purpose`; the signature is base64. */
export function signMessage(key: SigningKey, purpose: SignedPurpose, message: string | Buffer): string {
  return sign(null, tagged(purpose, message), key.privateKey).toString('base64')
}

/** verifyMessage checks a base64 signature of `message` for `purpose` by the raw public key (base64). */
export function verifyMessage(
  publicKey: string,
  purpose: SignedPurpose,
  message: string | Buffer,
  signature: string,
): boolean {
  try {
    const raw = Buffer.from(publicKey, 'base64')
    const sig = Buffer.from(signature, 'base64')
    if (raw.length !== 32 || sig.length !== 64) return false
    const key = createPublicKey({
      key: Buffer.concat([SPKI_ED25519_PREFIX, raw]),
      format: 'der',
      type: 'spki',
    })
    return verify(null, tagged(purpose, message), key, sig)
  } catch {
    return false
  }
}
