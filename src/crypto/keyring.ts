// Why: what the user's keyring knows of a repository's recipients — their fingerprints, user ids,
// whether they can encrypt, are expired or revoked, whether this machine holds the secret key — read
// with `gpg --list-keys --with-colons` (local only: gpg-args.ts forbids network lookups).
import { KeyError } from '../errors.js'
import { checkGpg, type GpgContext, runGpg } from './gpg.js'
import { listArgs } from './gpg-args.js'
import { gnupgHome } from './gpg-failure.js'

/** KeyInfo is one public key as `gpg --list-keys` shows it. */
export interface KeyInfo {
  readonly fingerprint: string
  readonly uid: string
  readonly canEncrypt: boolean
  readonly expired: boolean
  readonly revoked: boolean
  /** long key ids of the primary key and every subkey (what ENC_TO names) */
  readonly keyIds: string[]
}

/** parseColonKeys reads `gpg --with-colons --list-keys` output (pure). */
export function parseColonKeys(out: string): KeyInfo[] {
  const keys: KeyInfo[] = []
  let cur: { fingerprint?: string; uid?: string; caps: string; validity: string; keyIds: string[] } | null =
    null
  const flush = () => {
    if (cur?.fingerprint)
      keys.push({
        fingerprint: cur.fingerprint,
        uid: cur.uid ?? '',
        canEncrypt: /E/.test(cur.caps),
        expired: cur.validity === 'e',
        revoked: cur.validity === 'r',
        keyIds: cur.keyIds,
      })
  }
  for (const line of out.split('\n')) {
    const f = line.split(':')
    if (f[0] === 'pub' || f[0] === 'sec') {
      flush()
      cur = { caps: f[11] ?? '', validity: f[1] ?? '', keyIds: f[4] ? [f[4].toUpperCase()] : [] }
    } else if (cur && f[0] === 'fpr' && !cur.fingerprint) cur.fingerprint = f[9]
    else if (cur && f[0] === 'uid' && !cur.uid) cur.uid = f[9] ?? ''
    else if (cur && (f[0] === 'sub' || f[0] === 'ssb') && f[4]) cur.keyIds.push(f[4].toUpperCase())
  }
  flush()
  return keys
}

/** listKeys returns the keys matching `ids` in the keyring ([] when none). */
export async function listKeys(ids: readonly string[], secret = false, gpgPath = 'gpg'): Promise<KeyInfo[]> {
  const g = await runGpg(listArgs(secret, ids), undefined, gpgPath)
  if (g.result.spawnError) checkGpg('list', g)
  return g.result.exitCode === 0 ? parseColonKeys(g.stdout) : []
}

/** resolveRecipients looks each recipient up in the user's keyring and returns usable keys. */
export async function resolveRecipients(ids: readonly string[], gpgPath = 'gpg'): Promise<KeyInfo[]> {
  const out: KeyInfo[] = []
  for (const id of ids) {
    const keys = await listKeys([id], false, gpgPath)
    if (keys.length === 0)
      throw new KeyError(
        `recipient ${id}: no public key found in ${gnupgHome()} (import it with 'gpg --import KEYFILE')`,
      )
    if (keys.length > 1)
      throw new KeyError(`recipient ${id}: matches ${keys.length} keys; give the full fingerprint`)
    const k = keys[0]!
    if (k.revoked) throw new KeyError(`recipient ${id}: key ${k.fingerprint} is revoked`)
    if (k.expired)
      throw new KeyError(`recipient ${id}: key ${k.fingerprint} has expired; renew it or choose another key`)
    if (!k.canEncrypt)
      throw new KeyError(`recipient ${id}: key ${k.fingerprint} cannot encrypt (no encryption subkey)`)
    out.push(k)
  }
  return out
}

/** recipientKeyIds returns the long key ids (primary and subkeys) of the recipients' public keys. */
export async function recipientKeyIds(
  fingerprints: readonly string[],
  gpgPath = 'gpg',
): Promise<Set<string>> {
  const ids = new Set<string>()
  if (!fingerprints.length) return ids
  for (const k of await listKeys(fingerprints, false, gpgPath)) for (const id of k.keyIds) ids.add(id)
  return ids
}

/** hasSecretKey tells whether the keyring holds the secret key of `fingerprint`. */
export async function hasSecretKey(fingerprint: string, gpgPath = 'gpg'): Promise<boolean> {
  return (await listKeys([fingerprint], true, gpgPath)).length > 0
}

/** canDecrypt tells whether this machine can decrypt the repository (a secret key, or the passphrase). */
export async function canDecrypt(ctx: GpgContext): Promise<boolean> {
  if (ctx.encryption.type === 'passphrase') return Boolean(ctx.passphrase)
  for (const fpr of ctx.encryption.recipients) if (await hasSecretKey(fpr, ctx.gpgPath)) return true
  return false
}
