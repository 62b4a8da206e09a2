// Why: every command opens its destination the same way: the string is read by destination.ts, this
// module picks the backend for it and wraps it in the retry policy and the upload rate limit, so every
// command treats every destination alike.
import path from 'node:path'
import { UsageError } from '../errors.js'
import { parseDestination } from './destination.js'
import { parseRate, RateLimitStorage } from './limit.js'
import { LocalStorage } from './local.js'
import { type RetryOptions, RetryStorage } from './retry.js'
import type { Storage } from './storage.js'

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
      const { SftpStorage } = await import('./sftp/store.js')
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
