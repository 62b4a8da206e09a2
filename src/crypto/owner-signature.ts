// Why: the repository's settings (the manifest: recipients, retention, pack size, the repository key)
// are the owner's decision, so they carry the owner's own OpenPGP signature — made with the secret key
// of one of the recipients, the one moment seb needs it besides reading backups — and are checked with
// `gpg --verify` (gpg.conf ignored, trust model "always": whose signature counts is seb's decision,
// repo/trust.ts). The signature is a standard armored detached signature: `gpg --verify` checks it by
// hand too.
import { KeyError } from '../errors.js'
import { start } from '../util/subprocess.js'
import { checkGpg, runGpg } from './gpg.js'
import { detachSignArgs, verifyArgs } from './gpg-args.js'
import { gnupgHome } from './gpg-failure.js'
import { newStatus, readStatusLine } from './gpg-status.js'
import { hasSecretKey } from './keyring.js'

/** OwnerSignature is an armored detached signature and the fingerprint of the key that made it. */
export interface OwnerSignature {
  readonly signer: string
  readonly armored: string
}

/**
 * signAsOwner signs `message` with the first of `candidates` (primary key fingerprints) whose secret
 * key is in this machine's keyring; without one it fails with one line saying what is needed.
 */
export async function signAsOwner(
  message: Buffer,
  candidates: readonly string[],
  what: string,
): Promise<OwnerSignature> {
  for (const fpr of candidates) {
    if (!(await hasSecretKey(fpr))) continue
    const g = await runGpg(detachSignArgs(fpr), message)
    checkGpg('sign', g)
    if (!g.stdout.includes('BEGIN PGP SIGNATURE'))
      throw new KeyError(`gpg made no signature with key ${fpr} for ${what}`)
    return { signer: fpr, armored: g.stdout }
  }
  throw new KeyError(
    `${what} must be signed by the owner: none of the secret keys of ${candidates.join(', ')} is in ${gnupgHome()}; run this on a machine holding one (or import it there once)`,
  )
}

/**
 * verifyOwnerSignature checks an armored detached signature of `message` and returns the primary
 * fingerprint of the key that made it, or null when it is not a good signature (bad, unknown key,
 * revoked key, malformed). Which keys count as the owner's is the caller's decision. The signature
 * reaches gpg on file descriptor 3 (no temporary file); a gpg that cannot run at all is its own error.
 */
export async function verifyOwnerSignature(message: Buffer, armored: string): Promise<string | null> {
  if (armored.length > 16 * 1024 || !armored.startsWith('-----BEGIN PGP SIGNATURE-----')) return null
  const status = newStatus()
  const running = start('gpg', verifyArgs('-&3'), {
    stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    onStderrLine: (line) => readStatusLine(status, line),
  })
  const { child } = running
  for (const [i, data] of [
    [0, message],
    [3, Buffer.from(armored)],
  ] as const) {
    const w = child.stdio[i] as NodeJS.WritableStream | null
    w?.on('error', () => {})
    w?.end(data)
  }
  const r = await running.result
  const judged = status.goodSignature || status.badSignatures.length > 0 || status.validSignatures.length > 0
  // gpg that could not run, or failed before judging anything, is a gpg problem, not a bad signature.
  if (r.spawnError || (r.failed && !judged && !status.errors.some((e) => e.startsWith('NODATA'))))
    checkGpg('verify', { result: r, status, stdout: '' })
  // A key that has since expired still made a good signature (EXPKEYSIG); a revoked one did not.
  const refused = status.badSignatures.some((b) => !b.startsWith('EXPKEYSIG') && !b.startsWith('EXPSIG'))
  if (refused || !(status.goodSignature || status.badSignatures.length)) return null
  if (status.validSignatures.length !== 1) return null
  return status.validSignatures[0]!.primary
}
