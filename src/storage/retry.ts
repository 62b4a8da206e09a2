// Why: remote destinations fail transiently (a dropped connection, a 503, throttling) and a backup of
// many hours must ride through that, while a wrong key or a full disk must stop at once with one clear
// line. RetryStorage wraps any backend with bounded exponential backoff; classifyStorageError turns the
// raw errors of ssh2, the AWS SDK, rclone and the filesystem into that distinction.
import { NotFoundError, PermanentStorageError, SebError } from '../errors.js'
import { abortReason } from '../util/abort.js'
import { errnoText } from '../util/errno.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'
import { describe } from './util.js'

/** TRANSIENT marks an error a backend knows to be worth retrying (e.g. rclone exit code 5). */
export const TRANSIENT = Symbol.for('seb.storage.transient')

/** markTransient tags an error as retryable and returns it. */
export function markTransient<E extends object>(err: E): E {
  ;(err as Record<symbol, unknown>)[TRANSIENT] = true
  return err
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTCONN',
  'ESOCKETTIMEDOUT',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
])

const TRANSIENT_MESSAGES =
  /socket hang up|keepalive timeout|unexpected end|no response from server|connection lost|not connected|timed out while waiting for handshake|connection closed|channel open failure|econnreset|etimedout|epipe|premature close|request timeout|timed out/i

const TRANSIENT_S3_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestTimeout',
  'RequestTimeoutException',
  'InternalError',
  'ServiceUnavailable',
  'TimeoutError',
])

const AUTH_S3_NAMES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
])

interface ErrLike {
  name?: string
  code?: string | number
  message?: string
  cause?: unknown
  $metadata?: { httpStatusCode?: number }
  level?: string
}

function* chain(err: unknown): Generator<ErrLike> {
  let e: unknown = err
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    yield e as ErrLike
    e = (e as ErrLike).cause
  }
}

/** isTransient tells whether retrying the same call may succeed. */
export function isTransient(err: unknown): boolean {
  if (err instanceof SebError) return false
  for (const e of chain(err)) {
    if ((e as Record<symbol, unknown>)[TRANSIENT]) return true
    if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true
    const status = e.$metadata?.httpStatusCode
    if (status !== undefined && (status >= 500 || status === 429 || status === 408)) return true
    if (e.name && TRANSIENT_S3_NAMES.has(e.name)) return true
    if (e.level === 'client-socket' || e.level === 'client-timeout') return true
    if (e.message && TRANSIENT_MESSAGES.test(e.message)) return true
  }
  return false
}

/**
 * classifyStorageError maps failures that retrying cannot fix (authentication, permission, no space)
 * to PermanentStorageError with a one-line message; everything else is returned unchanged.
 */
export function classifyStorageError(err: unknown, context: string): unknown {
  if (err instanceof SebError) return err
  for (const e of chain(err)) {
    const msg = e.message ?? ''
    if (/all configured authentication methods failed/i.test(msg) || e.level === 'client-authentication')
      return new PermanentStorageError(
        `${context}: ssh authentication failed: check the user name and that your key is loaded (ssh-add) or named by IdentityFile`,
        { cause: err },
      )
    const status = e.$metadata?.httpStatusCode
    if ((e.name && AUTH_S3_NAMES.has(e.name)) || status === 403 || status === 401)
      return new PermanentStorageError(
        `${context}: access denied (${e.name ?? `HTTP ${status}`}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy`,
        { cause: err },
      )
    if (e.name === 'NoSuchBucket')
      return new PermanentStorageError(`${context}: the bucket does not exist`, { cause: err })
    const code = typeof e.code === 'string' ? e.code : undefined
    if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left|quota exceeded|disk quota/i.test(msg))
      return new PermanentStorageError(`${context}: no space left on the destination`, { cause: err })
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      return new PermanentStorageError(`${context}: ${errnoText(code)}`, { cause: err })
    if (/permission denied/i.test(msg))
      return new PermanentStorageError(`${context}: permission denied`, { cause: err })
    if (code === 'ENOTFOUND')
      return new PermanentStorageError(`${context}: ${errnoText(code)} (${msg})`, { cause: err })
  }
  return err
}

/**
 * StorageUnavailableError: a destination kept failing with transient errors (server down, network gone)
 * until the retries ran out. It is not a bug in seb, so the CLI prints its one line (exit code 1) and
 * not "unexpected error"; the next run resumes (uploaded packs are journalled and adopted).
 */
export class StorageUnavailableError extends SebError {
  constructor(context: string, attempts: number, elapsedMs: number, cause: unknown) {
    const last = cause instanceof Error ? cause.message : String(cause)
    super(
      'storage-unavailable',
      `${context}: failed ${attempts} times in ${Math.round(elapsedMs / 1000)} s (last: ${last}); the destination is unreachable or failing: run the same command again when it is back`,
      undefined,
      { cause },
    )
  }
}

/** RetryEvent describes one retry, for progress output ("retrying save pack 3fa9… in 2.1 s: …"). */
export interface RetryEvent {
  readonly op: 'save' | 'load' | 'stat' | 'list' | 'remove'
  readonly what: string
  /** attempt is the number of the attempt that failed (1 = first). */
  readonly attempt: number
  readonly delayMs: number
  readonly error: unknown
}

/** RetryOptions bound the retrying; defaults suit hours-long uploads over flaky links. */
export interface RetryOptions {
  /** attempts is the total number of tries per call (default 6). */
  readonly attempts?: number
  /** baseDelayMs is the first backoff (default 500 ms); each retry doubles it, with jitter. */
  readonly baseDelayMs?: number
  /** maxDelayMs caps one backoff (default 30 s). */
  readonly maxDelayMs?: number
  readonly onRetry?: (event: RetryEvent) => void
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal))
    const done = () => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }
    const t = setTimeout(done, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(abortReason(signal!))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/** RetryStorage retries transient failures of the wrapped backend and classifies permanent ones. */
export class RetryStorage implements Storage {
  readonly location: string
  readonly connections: number
  private readonly attempts: number
  private readonly baseDelayMs: number
  private readonly maxDelayMs: number

  constructor(
    readonly inner: Storage,
    private readonly options: RetryOptions = {},
  ) {
    this.location = inner.location
    this.connections = inner.connections
    this.attempts = Math.max(1, options.attempts ?? 6)
    this.baseDelayMs = options.baseDelayMs ?? 500
    this.maxDelayMs = options.maxDelayMs ?? 30_000
  }

  private delay(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1))
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2)
  }

  private async run<T>(
    op: RetryEvent['op'],
    what: string,
    signal: AbortSignal | undefined,
    fn: (attempt: number) => Promise<T>,
  ): Promise<T> {
    const t0 = Date.now()
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted()
      try {
        return await fn(attempt)
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal)
        const classified = classifyStorageError(err, `${this.location}: ${op} ${what}`)
        if (classified instanceof NotFoundError || classified instanceof SebError) throw classified
        if (!isTransient(classified)) throw classified
        if (attempt >= this.attempts)
          throw new StorageUnavailableError(
            `${this.location}: ${op} ${what}`,
            attempt,
            Date.now() - t0,
            classified,
          )
        const delayMs = this.delay(attempt)
        this.options.onRetry?.({ op, what, attempt, delayMs, error: classified })
        await sleep(delayMs, signal)
      }
    }
  }

  save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    return this.run('save', describe(h), signal, () => this.inner.save(h, body, signal))
  }

  load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: import('node:stream').Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.run('load', describe(h), signal, () => this.inner.load(h, range, consume, signal))
  }

  stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    return this.run('stat', describe(h), signal, () => this.inner.stat(h, signal))
  }

  async *list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    // A listing that breaks half-way is restarted; names already yielded are skipped, so the caller
    // still sees every object exactly once.
    const seen = new Set<string>()
    const t0 = Date.now()
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted()
      try {
        for await (const info of this.inner.list(type, signal)) {
          if (seen.has(info.name)) continue
          seen.add(info.name)
          yield info
        }
        return
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal)
        const classified = classifyStorageError(err, `${this.location}: list ${type}`)
        if (classified instanceof SebError || !isTransient(classified)) throw classified
        if (attempt >= this.attempts)
          throw new StorageUnavailableError(
            `${this.location}: list ${type}`,
            attempt,
            Date.now() - t0,
            classified,
          )
        const delayMs = this.delay(attempt)
        this.options.onRetry?.({ op: 'list', what: type, attempt, delayMs, error: classified })
        await sleep(delayMs, signal)
      }
    }
  }

  remove(h: Handle, signal?: AbortSignal): Promise<void> {
    return this.run('remove', describe(h), signal, async (attempt) => {
      try {
        await this.inner.remove(h, signal)
      } catch (err) {
        // After a transient failure the first attempt may have removed it already.
        if (attempt > 1 && err instanceof NotFoundError) return
        throw err
      }
    })
  }

  /** localPath passes through to the backend, when it has one. */
  get localPath(): ((h: Handle) => string) | undefined {
    const inner = this.inner
    return inner.localPath ? (h: Handle) => inner.localPath!(h) : undefined
  }

  /** spoolPath passes through to the backend, when it has one. */
  get spoolPath(): ((h: Handle) => Promise<string>) | undefined {
    const inner = this.inner
    return inner.spoolPath ? (h: Handle) => inner.spoolPath!(h) : undefined
  }

  /** removeTemp passes through to the backend (0 when it writes no temp objects), with retries. */
  removeTemp(signal?: AbortSignal): Promise<number> {
    const inner = this.inner
    if (!inner.removeTemp) return Promise.resolve(0)
    return this.run('remove', 'temporary objects', signal, () => inner.removeTemp!(signal))
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
