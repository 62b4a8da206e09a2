// Why: a commit is part of a format-2 repository when, and only when, its signature object verifies:
// `sigs/<name>` names the commit object's size and SHA-256 and chains it to the commit before, signed by
// the repository key (docs/design.md, "Commit signatures"). Saving it is the commit point of a run.
// Signature objects are small and never deleted, so a machine can always check that the destination's
// history extends what it saw before. Everything here is checked before it is believed: the signature
// over the exact bytes first, then the body's fields.
import { createHash } from 'node:crypto'
import { isHexHash } from '../core/hash-column.js'
import { type SigningKey, signMessage, verifyMessage } from '../crypto/signing.js'
import { isValidName } from '../storage/layout.js'
import { bufferBody, type ObjectInfo, type Storage } from '../storage/storage.js'

/** CommitSig is the body of a commit signature object. */
export interface CommitSig {
  readonly repository: string
  readonly seq: number
  readonly name: string
  readonly kind: 'delta' | 'checkpoint'
  readonly time: string
  /** the commit object's size and SHA-256 (hex) */
  readonly size: number
  readonly sha256: string
  /** SHA-256(previous chain + "\n" + name), hex */
  readonly chain: string
}

/** MAX_SIG_BYTES bounds what is read of a signature object (seb writes about 400 bytes). */
export const MAX_SIG_BYTES = 4096

/** genesisChain is the chain before a repository's first commit. */
export function genesisChain(repository: string): string {
  return createHash('sha256').update(`seb chain\n${repository}`).digest('hex')
}

/** chainAfter is the chain value of commit `name` following `previous`. */
export function chainAfter(previous: string, name: string): string {
  return createHash('sha256').update(`${previous}\n${name}`).digest('hex')
}

/** seqOf reads the sequence number at the start of a commit name. */
export function seqOf(name: string): number {
  return Number.parseInt(name.slice(0, 10), 10)
}

/** encodeSig makes a signature object's bytes. */
export function encodeSig(body: CommitSig, key: SigningKey): Buffer {
  const text = JSON.stringify(body)
  return Buffer.from(`${JSON.stringify({ body: text, signature: signMessage(key, 'seb-commit', text) })}\n`)
}

/**
 * decodeSig checks a signature object's bytes and returns its body, or a reason why it is not one of
 * this repository's: too large, not signed by `publicKey`, or naming another object or repository.
 */
export function decodeSig(
  bytes: Buffer,
  publicKey: string,
  expect: { readonly repository: string; readonly name: string },
): CommitSig | string {
  if (bytes.length > MAX_SIG_BYTES) return 'too large to be a commit signature'
  let outer: { body?: unknown; signature?: unknown }
  try {
    outer = JSON.parse(bytes.toString('utf8')) as typeof outer
  } catch {
    return 'not a commit signature (not JSON)'
  }
  if (typeof outer?.body !== 'string' || typeof outer.signature !== 'string') return 'not a commit signature'
  if (!verifyMessage(publicKey, 'seb-commit', outer.body, outer.signature))
    return "not signed by this repository's key"
  let b: CommitSig
  try {
    b = JSON.parse(outer.body) as CommitSig
  } catch {
    return 'a signed body that is not JSON'
  }
  const ok =
    typeof b === 'object' &&
    b !== null &&
    b.repository === expect.repository &&
    b.name === expect.name &&
    b.seq === seqOf(expect.name) &&
    (b.kind === 'delta' || b.kind === 'checkpoint') &&
    typeof b.time === 'string' &&
    Number.isSafeInteger(b.size) &&
    b.size >= 0 &&
    isHexHash(b.sha256) &&
    isHexHash(b.chain)
  return ok ? b : `a signed body that names another commit or repository`
}

/** listSigNames lists the commit signature objects on the destination (names only), by seq. */
export async function listSigNames(storage: Storage, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  for await (const o of storage.list('sig', signal)) if (isValidName('sig', o.name)) out.push(o)
  return out.sort((a, b) => seqOf(a.name) - seqOf(b.name) || (a.name < b.name ? -1 : 1))
}

/** readSig downloads and checks one signature object (see decodeSig). */
export async function readSig(
  storage: Storage,
  publicKey: string,
  repository: string,
  name: string,
  signal?: AbortSignal,
): Promise<CommitSig | string> {
  const bytes = await storage.load(
    { type: 'sig', name },
    { offset: 0, length: MAX_SIG_BYTES + 1 },
    async (s) => {
      const chunks: Buffer[] = []
      let n = 0
      for await (const c of s) {
        chunks.push(c as Buffer)
        n += (c as Buffer).length
        if (n > MAX_SIG_BYTES) break
      }
      return Buffer.concat(chunks)
    },
    signal,
  )
  return decodeSig(bytes, publicKey, { repository, name })
}

/** saveSig saves a signature object: the commit point. */
export async function saveSig(
  storage: Storage,
  body: CommitSig,
  key: SigningKey,
  signal?: AbortSignal,
): Promise<void> {
  await storage.save({ type: 'sig', name: body.name }, bufferBody(encodeSig(body, key)), signal)
}
