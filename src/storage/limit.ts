// Why: an off-site backup on a home line must not starve everything else: `--limit-upload RATE` caps
// the bytes per second seb sends, whatever the backend, by throttling the body streams of save with
// one token bucket shared by all parallel transfers.
import { Readable } from 'node:stream'
import { UsageError } from '../errors.js'
import { abortReason } from '../util/abort.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }

/**
 * parseRate reads a rate in bytes per second: a plain number ('1048576') or a number with a binary
 * unit ('500k', '5M', '1.5G', also '5MiB', '5MB/s'). Anything else, or zero, is a UsageError.
 */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?(?:\/s)?\s*$/.exec(text)
  if (!m)
    throw new UsageError(
      `invalid rate ${JSON.stringify(text)}: use bytes per second like 500k, 5M or 1048576`,
    )
  const rate = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!)
  if (!Number.isFinite(rate) || rate < 1)
    throw new UsageError(`invalid rate ${JSON.stringify(text)}: must be at least 1 byte per second`)
  return rate
}

/** TokenBucket hands out byte tokens at `rate` per second with a burst of `burst` bytes. */
export class TokenBucket {
  private tokens: number
  private last = performance.now()
  private queue: Promise<void> = Promise.resolve()

  constructor(
    readonly rate: number,
    readonly burst: number = Math.max(16 * 1024, Math.floor(rate / 4)),
  ) {
    this.tokens = burst
  }

  private refill(): void {
    const now = performance.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
  }

  /** take waits until `n` bytes (at most burst) may be sent; callers are served in order. */
  take(n: number, signal?: AbortSignal): Promise<void> {
    const want = Math.min(n, this.burst)
    const turn = this.queue.then(async () => {
      for (;;) {
        signal?.throwIfAborted()
        this.refill()
        if (this.tokens >= want) {
          this.tokens -= want
          return
        }
        const waitMs = Math.ceil(((want - this.tokens) / this.rate) * 1000)
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(done, waitMs)
          function done() {
            signal?.removeEventListener('abort', onAbort)
            resolve()
          }
          function onAbort() {
            clearTimeout(t)
            reject(abortReason(signal!))
          }
          signal?.addEventListener('abort', onAbort, { once: true })
        })
      }
    })
    this.queue = turn.catch(() => {})
    return turn
  }
}

/** throttle returns a stream of the same bytes as `source`, paced by `bucket`. */
export function throttle(source: Readable, bucket: TokenBucket, signal?: AbortSignal): Readable {
  async function* paced(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
      for (let off = 0; off < buf.length; off += bucket.burst) {
        const piece = buf.subarray(off, off + bucket.burst)
        await bucket.take(piece.length, signal)
        yield piece
      }
    }
  }
  return Readable.from(paced(), { objectMode: false })
}

/** RateLimitStorage caps the upload rate of the wrapped backend; reads are not limited. */
export class RateLimitStorage implements Storage {
  readonly location: string
  readonly connections: number
  readonly bucket: TokenBucket

  constructor(
    readonly inner: Storage,
    bytesPerSecond: number,
  ) {
    this.location = inner.location
    this.connections = inner.connections
    this.bucket = new TokenBucket(bytesPerSecond)
  }

  save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    const paced: SaveBody = { length: body.length, open: () => throttle(body.open(), this.bucket, signal) }
    return this.inner.save(h, paced, signal)
  }

  load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.inner.load(h, range, consume, signal)
  }

  stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    return this.inner.stat(h, signal)
  }

  list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    return this.inner.list(type, signal)
  }

  remove(h: Handle, signal?: AbortSignal): Promise<void> {
    return this.inner.remove(h, signal)
  }

  /** localPath passes through: reading is not limited. */
  get localPath(): ((h: Handle) => string) | undefined {
    const inner = this.inner
    return inner.localPath ? (h: Handle) => inner.localPath!(h) : undefined
  }

  removeTemp(signal?: AbortSignal): Promise<number> {
    return this.inner.removeTemp ? this.inner.removeTemp(signal) : Promise.resolve(0)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
