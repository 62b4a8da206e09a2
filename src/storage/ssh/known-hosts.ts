// Why: an SFTP destination is only as safe as the host key check. seb checks the server's key against
// the same known_hosts files as ssh (plain, `[host]:port` and hashed `|1|salt|hash` entries, @revoked
// markers) and never accepts an unknown key by itself: the user accepts it once with `ssh HOST`.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { PermanentStorageError } from '../../errors.js'
import { hostMatches } from './ssh-config.js'

/** KnownHostEntry is one parsed line of a known_hosts file. */
export interface KnownHostEntry {
  readonly marker?: 'revoked' | 'cert-authority'
  /** hosts holds the comma-separated patterns, or one hashed `|1|salt|hash` item. */
  readonly hosts: string[]
  readonly keyType: string
  readonly key: Buffer
  readonly file: string
  readonly line: number
}

/** HostKeyVerdict is the outcome of checking a presented key. */
export type HostKeyVerdict =
  | { readonly status: 'ok' }
  | { readonly status: 'unknown' }
  | { readonly status: 'changed'; readonly file: string; readonly line: number }
  | { readonly status: 'revoked'; readonly file: string; readonly line: number }

/**
 * knownHostsName is how ssh writes a host in known_hosts: `host` on port 22, `[host]:port` otherwise.
 * (A HostKeyAlias is looked up as written, without the port, as OpenSSH does.)
 */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`
}

/** parseKnownHosts parses the text of one known_hosts file; malformed lines are skipped like ssh does. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostEntry[] {
  const out: KnownHostEntry[] = []
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line || line.startsWith('#')) continue
    const fields = line.split(/\s+/)
    let marker: KnownHostEntry['marker']
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority') {
      marker = fields[0] === '@revoked' ? 'revoked' : 'cert-authority'
      fields.shift()
    }
    const [hosts, keyType, keyB64] = fields
    if (!hosts || !keyType || !keyB64) continue
    const key = Buffer.from(keyB64, 'base64')
    if (key.length === 0) continue
    out.push({ marker, hosts: hosts.split(','), keyType, key, file, line: i + 1 })
  }
  return out
}

/** loadKnownHosts reads and parses the files that exist among `files`. */
export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = []
  for (const f of files) {
    let text: string
    try {
      text = readFileSync(f, 'utf8')
    } catch {
      continue
    }
    out.push(...parseKnownHosts(text, f))
  }
  return out
}

function hashedMatches(item: string, name: string): boolean {
  // |1|base64(salt)|base64(HMAC-SHA1(salt, name))
  const parts = item.split('|')
  if (parts.length !== 4 || parts[1] !== '1') return false
  const salt = Buffer.from(parts[2]!, 'base64')
  const want = Buffer.from(parts[3]!, 'base64')
  const got = createHmac('sha1', salt).update(name).digest()
  return want.length === got.length && timingSafeEqual(want, got)
}

/** entryMatchesHost tells whether an entry's host field names `name` (as produced by knownHostsName). */
export function entryMatchesHost(entry: KnownHostEntry, name: string): boolean {
  if (entry.hosts.length === 1 && entry.hosts[0]!.startsWith('|')) return hashedMatches(entry.hosts[0]!, name)
  return hostMatches(entry.hosts, name)
}

/** keyTypeOf reads the algorithm name at the start of an SSH public key blob. */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return ''
  const n = blob.readUInt32BE(0)
  return blob.subarray(4, 4 + n).toString('latin1')
}

/**
 * checkHostKey decides whether `blob` (the server's public key in SSH wire form) is the known key for
 * one of `names`. A revoked key wins over everything; a matching key is ok; entries for the host that
 * only hold other keys mean the key changed; no entry means unknown.
 */
export function checkHostKey(
  entries: readonly KnownHostEntry[],
  names: readonly string[],
  blob: Buffer,
): HostKeyVerdict {
  for (const e of entries) {
    if (e.marker === 'revoked' && e.key.equals(blob)) return { status: 'revoked', file: e.file, line: e.line }
  }
  let other: KnownHostEntry | undefined
  for (const e of entries) {
    if (e.marker) continue
    if (!names.some((n) => entryMatchesHost(e, n))) continue
    if (e.key.equals(blob)) return { status: 'ok' }
    // Like ssh, a different key of the same type is "changed"; other types do not prove a change.
    if (e.keyType === keyTypeOf(blob) || !other) other = e
  }
  if (other) return { status: 'changed', file: other.file, line: other.line }
  return { status: 'unknown' }
}

const RSA_ALGS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']
const DEFAULT_HOST_KEY_ALGS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  ...RSA_ALGS,
]

/**
 * preferredHostKeyAlgorithms orders the host key algorithms so the server shows a key type already
 * known for this host (what OpenSSH does), avoiding a false "changed" when a server has several keys.
 */
export function preferredHostKeyAlgorithms(
  entries: readonly KnownHostEntry[],
  names: readonly string[],
): string[] {
  const known: string[] = []
  for (const e of entries) {
    if (e.marker || !names.some((n) => entryMatchesHost(e, n))) continue
    const algs = e.keyType === 'ssh-rsa' ? RSA_ALGS : [e.keyType]
    for (const a of algs) if (DEFAULT_HOST_KEY_ALGS.includes(a) && !known.includes(a)) known.push(a)
  }
  return [...known, ...DEFAULT_HOST_KEY_ALGS.filter((a) => !known.includes(a))]
}

/** fingerprint shows a key blob the way ssh does (`SHA256:` and unpadded base64). */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** HostKeyTarget names a host in host key messages. */
export interface HostKeyTarget {
  readonly hostName: string
  readonly port: number
  /** name is how known_hosts names the host (knownHostsName, or the HostKeyAlias). */
  readonly name: string
  /** sshCommand is what the user runs to check and accept the key (`ssh -p 2222 me@box`). */
  readonly sshCommand: string
  /** role adds how the host is used, e.g. " (jump host to reach box)". */
  readonly role?: string
  /** relaxed names an ssh option that would have accepted the key (seb never does). */
  readonly relaxed?: string
}

/**
 * hostKeyRefusal is the one-line error for a host key seb refuses: unknown (with the command that
 * lets the user check and accept it), @revoked, or changed (with the known_hosts line and the
 * ssh-keygen -R command).
 */
export function hostKeyRefusal(v: HostKeyVerdict, t: HostKeyTarget, key: Buffer): PermanentStorageError {
  const where = `${t.port === 22 ? t.hostName : `${t.hostName}:${t.port}`}${t.role ?? ''}`
  const fp = fingerprint(key)
  if (v.status === 'unknown') {
    const relaxed = t.relaxed ? ` (even with ${t.relaxed} in your ssh configuration)` : ''
    return new PermanentStorageError(
      `${where}: host key ${fp} is not in known_hosts; seb never accepts a new host key by itself${relaxed}: run '${t.sshCommand}' once to check and accept it, then run seb again`,
    )
  }
  if (v.status === 'revoked')
    return new PermanentStorageError(
      `${where}: host key ${fp} is marked @revoked in ${v.file}:${v.line}; refusing to connect`,
    )
  if (v.status === 'ok') throw new Error('unreachable: host key accepted')
  return new PermanentStorageError(
    `${where}: HOST KEY CHANGED: the server shows ${fp}, which does not match ${v.file}:${v.line}; this could be an attack. If the change is expected, run 'ssh-keygen -R "${t.name}"' and then '${t.sshCommand}' once to accept the new key`,
  )
}
