// Why: the remote backends share a few small mechanisms — checking that a save body has exactly the
// announced length, naming objects in messages, listing the config object — and each must behave
// identically everywhere, so they live once here (cancellation helpers are in src/util/abort.ts).
import { randomBytes } from 'node:crypto'
import { Readable, Transform, type TransformCallback } from 'node:stream'
import { NotFoundError } from '../errors.js'
import { objectPath, TEMP_MARK } from './layout.js'
import type { Handle, ObjectInfo } from './storage.js'

/** LengthMismatchError: a save body was shorter or longer than its announced length (a caller bug). */
export class LengthMismatchError extends Error {
  constructor(what: string, got: string, expected: number) {
    super(`${what}: body has ${got} bytes, expected ${expected}`)
  }
}
LengthMismatchError.prototype.name = 'LengthMismatchError'

/**
 * exactLength returns a Transform that passes bytes through and fails as soon as more than `length`
 * bytes arrive, or at the end when fewer did. Failing before the extra bytes are sent means a remote
 * never stores a body of the wrong size.
 */
export function exactLength(length: number, what: string): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      seen += chunk.length
      if (seen > length) cb(new LengthMismatchError(what, `more than ${length}`, length))
      else cb(null, chunk)
    },
    flush(cb: TransformCallback) {
      if (seen !== length) cb(new LengthMismatchError(what, String(seen), length))
      else cb()
    },
  })
}

/** describe names a handle in messages the way users see the repository ("pack 3fa9…", "config"). */
export function describe(h: Handle): string {
  return h.type === 'config' ? 'config' : `${h.type} ${h.name}`
}

/** notFound builds the typed NotFoundError for a handle. */
export function notFound(h: Handle): NotFoundError {
  return new NotFoundError(describe(h))
}

/** tempPath returns a temporary sibling name for an object path (always containing TEMP_MARK). */
export function tempPath(h: Handle): string {
  return `${objectPath(h)}${TEMP_MARK}${randomBytes(6).toString('hex')}`
}

/** emptyStream is a readable that ends at once (0-length ranges). */
export function emptyStream(): Readable {
  return Readable.from([])
}

/** rangeBounds normalises a ByteRange into [start, length|undefined], rejecting nonsense. */
export function rangeBounds(range: { offset?: number; length?: number } | undefined): {
  start: number
  length: number | undefined
} {
  const start = range?.offset ?? 0
  const length = range?.length
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`invalid range offset ${start}`)
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0))
    throw new RangeError(`invalid range length ${length}`)
  return { start, length }
}

/**
 * listConfig is how every backend lists the 'config' kind: the one config object if it exists (a
 * missing config is an empty listing, not an error).
 */
export async function* listConfig(
  stat: (h: Handle, signal?: AbortSignal) => Promise<ObjectInfo>,
  signal?: AbortSignal,
): AsyncIterable<ObjectInfo> {
  try {
    yield await stat({ type: 'config', name: '' }, signal)
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err
  }
}
