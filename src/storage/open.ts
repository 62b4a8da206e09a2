// Why: users name a destination with one string, the way they would for scp, rsync, aws or rclone. This
// module is the one place that reads such a string, picks the backend, and wraps it in the retry policy
// and the upload rate limit, so every command treats every destination alike.
import path from 'node:path'
import { UsageError } from '../errors.js'
import { parseRate, RateLimitStorage } from './limit.js'
import { LocalStorage } from './local.js'
import { type RetryOptions, RetryStorage } from './retry.js'
import type { Storage } from './storage.js'

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

/** OpenOptions carry the command-line settings that shape a destination. */
export interface OpenOptions {
  /** connections is the number of parallel transfers (default 4). */
  readonly connections?: number
  /** limitUpload caps upload bytes per second: a number or a rate like '5M' (see parseRate). */
  readonly limitUpload?: number | string
  /** retry tunes RetryStorage; false disables retrying (tests). */
  readonly retry?: RetryOptions | false
  /** s3Endpoint is the S3 server URL (default: env SEB_S3_ENDPOINT, else AWS). */
  readonly s3Endpoint?: string
  readonly s3Region?: string
  /** s3PathStyle addresses buckets as endpoint/bucket; default on when an endpoint is set. */
  readonly s3PathStyle?: boolean
  readonly sshConfigPath?: string
  readonly knownHostsPath?: string | readonly string[]
  readonly identityFile?: string | readonly string[]
  /** sshAgent is the ssh-agent socket (default SSH_AUTH_SOCK); false disables it. */
  readonly sshAgent?: string | false
  /** rcloneEnv is added to rclone's environment. */
  readonly rcloneEnv?: Record<string, string>
  /** env replaces process.env for the SEB_* fallbacks (tests). */
  readonly env?: NodeJS.ProcessEnv
}

function usage(dest: string, why: string): UsageError {
  return new UsageError(
    `${JSON.stringify(dest)}: ${why}; use a local path, user@host:path, sftp://user@host[:port]/path, s3://bucket/prefix or rclone:remote:path`,
  )
}

/**
 * parseDestination reads a destination string. Rules, in order: `rclone:` prefix; a URL scheme
 * (`sftp://`, `s3://`, `file://`); a Windows drive (`C:\`, `C:/`) is local; the scp form `[user@]host:path`
 * when a ':' comes before any '/' (as scp decides); anything else is a local path.
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
        host,
        port: url.port ? Number(url.port) : undefined,
        path: p,
      }
    }
    throw usage(dest, `unknown scheme '${scheme[1]}://'`)
  }
  if (/^[a-zA-Z]:([\\/]|$)/.test(dest)) return { kind: 'local', path: dest }
  // scp form: host part before the first ':' has no '/', so ./a:b and /x/a:b stay local.
  const m = /^(?:([^@/:[\]]+)@)?(\[[0-9a-fA-F:.]+\]|[^/:@[\]]+):(.*)$/s.exec(dest)
  if (m) {
    const host = m[2]!.replace(/^\[|\]$/g, '')
    return { kind: 'sftp', user: m[1], host, path: m[3] ?? '' }
  }
  return { kind: 'local', path: dest }
}

/**
 * openStorage maps a destination string to a Storage, wrapped in RetryStorage and, when
 * `limitUpload` is set, RateLimitStorage. Unknown or malformed destinations are UsageErrors.
 */
export async function openStorage(dest: string, options: OpenOptions = {}): Promise<Storage> {
  const d = parseDestination(dest)
  const env = options.env ?? process.env
  const connections = options.connections
  let backend: Storage
  switch (d.kind) {
    case 'local':
      backend = new LocalStorage(path.resolve(d.path), { connections })
      break
    case 'sftp': {
      // Backends are loaded on demand: the AWS SDK and ssh2 cost a few hundred ms to load, which a
      // daily run to a local disk should not pay.
      const { SftpStorage } = await import('./sftp.js')
      backend = new SftpStorage({
        host: d.host,
        user: d.user,
        port: d.port,
        path: d.path,
        location: dest,
        connections,
        sshConfigPath: options.sshConfigPath,
        knownHostsPath: options.knownHostsPath,
        identityFile: options.identityFile,
        agent: options.sshAgent,
      })
      break
    }
    case 's3': {
      const endpoint = options.s3Endpoint ?? (env.SEB_S3_ENDPOINT || undefined)
      const pathStyleEnv = env.SEB_S3_PATH_STYLE
      const { S3Storage } = await import('./s3.js')
      backend = new S3Storage({
        bucket: d.bucket,
        prefix: d.prefix,
        endpoint,
        region: options.s3Region ?? (env.SEB_S3_REGION || undefined),
        forcePathStyle:
          options.s3PathStyle ??
          (pathStyleEnv ? /^(1|true|yes)$/i.test(pathStyleEnv) : endpoint !== undefined),
        connections,
        location: dest,
      })
      break
    }
    case 'rclone': {
      const { RcloneStorage } = await import('./rclone.js')
      backend = new RcloneStorage({ remote: d.remote, location: dest, connections, env: options.rcloneEnv })
      break
    }
  }
  let storage: Storage = options.retry === false ? backend : new RetryStorage(backend, options.retry ?? {})
  if (options.limitUpload !== undefined) {
    const rate =
      typeof options.limitUpload === 'number' ? options.limitUpload : parseRate(options.limitUpload)
    if (!(rate >= 1)) throw new UsageError(`invalid upload limit ${options.limitUpload}`)
    storage = new RateLimitStorage(storage, rate)
  }
  return storage
}
