// Why: users name a destination with one string, the way they would for scp, rsync, aws or rclone.
// This module is the one place that reads such a string — the backends (open.ts) and the config file
// (config/validate.ts) both ask it — so "is this remote, and which kind?" has one answer everywhere.
// Pure: no I/O.
import { UsageError } from '../errors.js'

/** Destination is a parsed destination string. */
export type Destination =
  | { readonly kind: 'local'; readonly path: string }
  | {
      readonly kind: 'sftp'
      readonly user?: string
      readonly host: string
      readonly port?: number
      readonly path: string
    }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'rclone'; readonly remote: string }

/** DESTINATION_FORMS lists the forms a destination may take, for messages. */
export const DESTINATION_FORMS =
  'a local path, user@host:path, sftp://user@host[:port]/path, s3://bucket/prefix or rclone:remote:path'

function usage(dest: string, why: string): UsageError {
  return new UsageError(`${JSON.stringify(dest)}: ${why}; use ${DESTINATION_FORMS}`)
}

function checkHost(dest: string, host: string): string {
  // ssh would read a leading '-' as an option (scp and ssh refuse such names for that reason).
  if (host.startsWith('-')) throw usage(dest, `the host name ${JSON.stringify(host)} starts with '-'`)
  if (/[\s\x00-\x1f]/.test(host)) throw usage(dest, `the host name ${JSON.stringify(host)} has a space in it`)
  return host
}

/**
 * parseDestination reads a destination string. Rules, in order: `rclone:` prefix; a URL scheme
 * (`sftp://`, `s3://`, `file://`); a Windows drive (`C:\`, `C:/`) is local; a path starting with `~`
 * is local; the scp form `[user@]host:path` when a ':' comes before any '/' (as scp decides); anything
 * else is a local path. Malformed or unknown forms are UsageErrors that name the destination.
 */
export function parseDestination(dest: string): Destination {
  if (dest.trim() === '') throw usage(dest, 'empty destination')
  if (dest.startsWith('rclone:')) {
    const remote = dest.slice('rclone:'.length)
    if (!remote) throw usage(dest, 'rclone: needs a remote, as in rclone:remote:path')
    return { kind: 'rclone', remote }
  }
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(dest)
  if (scheme) {
    const name = scheme[1]!.toLowerCase()
    if (name === 'file') return { kind: 'local', path: decodeURIComponent(dest.slice('file://'.length)) }
    if (name === 's3') {
      const rest = dest.slice('s3://'.length)
      const slash = rest.indexOf('/')
      const bucket = slash < 0 ? rest : rest.slice(0, slash)
      const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '')
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
        throw usage(dest, `invalid S3 bucket name ${JSON.stringify(bucket)}`)
      return { kind: 's3', bucket, prefix }
    }
    if (name === 'sftp' || name === 'ssh') {
      let url: URL
      try {
        url = new URL(dest)
      } catch {
        throw usage(dest, 'malformed sftp URL')
      }
      const host = url.hostname.replace(/^\[|\]$/g, '')
      if (!host) throw usage(dest, 'sftp URL without a host')
      let p = decodeURIComponent(url.pathname)
      // sftp://host/~/dir and sftp://host (no path) are relative to the remote home.
      if (p === '' || p === '/' || p === '/~' || p === '/~/') p = ''
      else if (p.startsWith('/~/')) p = p.slice(3)
      return {
        kind: 'sftp',
        user: url.username ? decodeURIComponent(url.username) : undefined,
        host: checkHost(dest, host),
        port: url.port ? Number(url.port) : undefined,
        path: p,
      }
    }
    throw usage(dest, `unknown scheme '${scheme[1]}://'`)
  }
  if (/^[a-zA-Z]:([\\/]|$)/.test(dest)) return { kind: 'local', path: dest }
  // `~/x:y` and `~user:…` are paths to the shell, never host names.
  if (dest.startsWith('~')) return { kind: 'local', path: dest }
  // scp form: host part before the first ':' has no '/', so ./a:b and /x/a:b stay local.
  const m = /^(?:([^@/:[\]]+)@)?(\[[0-9a-fA-F:.]+\]|[^/:@[\]]+):(.*)$/s.exec(dest)
  if (m) {
    const host = m[2]!.replace(/^\[|\]$/g, '')
    return { kind: 'sftp', user: m[1], host: checkHost(dest, host), path: m[3] ?? '' }
  }
  return { kind: 'local', path: dest }
}

/**
 * isRemoteDestination tells whether a destination names a remote (SFTP, S3, rclone) rather than a
 * local folder. A malformed remote (an unknown scheme, a bad bucket name) counts as remote: it is
 * not a folder on this machine either.
 */
export function isRemoteDestination(dest: string): boolean {
  try {
    return parseDestination(dest).kind !== 'local'
  } catch {
    return dest.trim() !== ''
  }
}
