// Why: SFTP answers one request at a time per round trip, so a plain stream moves one 32 KiB piece
// per round trip and is 3–5× slower than the link. These two loops keep IN_FLIGHT requests of CHUNK
// bytes in flight on one open remote file, in each direction, and check a save body's length as it
// goes (docs/storage.md, SFTP).
import { Readable } from 'node:stream'
import { abortReason } from '../../util/abort.js'
import type { SaveBody } from '../storage.js'
import { LengthMismatchError } from '../util.js'
import { type SftpSession, sftpCall } from './session.js'

/** CHUNK is the size of one SFTP read or write request. */
export const CHUNK = 128 * 1024
/** IN_FLIGHT is how many requests one transfer keeps outstanding. */
export const IN_FLIGHT = 8

/**
 * writeBody sends a save body into an open remote file with several writes in flight, checking the
 * length as it goes: a body longer than announced fails before the extra bytes are written.
 */
export async function writeBody(
  s: SftpSession,
  handle: Buffer,
  body: SaveBody,
  what: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const src = body.open()
  const onAbort = () => src.destroy(abortReason(signal!) as Error)
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  const inflight = new Set<Promise<void>>()
  let failure: unknown
  let pos = 0
  let pending: Buffer[] = []
  let pendingLen = 0
  const send = async (buf: Buffer, at: number) => {
    const p = sftpCall<void>(s, (cb) => s.sftp.write(handle, buf, 0, buf.length, at, (err) => cb(err))).catch(
      (err) => {
        failure ??= err
      },
    )
    const tracked = p.finally(() => inflight.delete(tracked))
    inflight.add(tracked)
    while (inflight.size >= IN_FLIGHT) await Promise.race(inflight)
    if (failure) throw failure
  }
  // Bytes are regrouped into CHUNK-sized writes; the tail goes out at the end.
  const drain = async (final: boolean) => {
    if (pendingLen === 0) return
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
    pending = []
    pendingLen = 0
    let off = 0
    while (all.length - off >= CHUNK || (final && off < all.length)) {
      const piece = all.subarray(off, off + CHUNK)
      await send(piece, pos)
      pos += piece.length
      off += piece.length
    }
    if (off < all.length) {
      pending = [all.subarray(off)]
      pendingLen = all.length - off
    }
  }
  try {
    let seen = 0
    for await (const chunk of src) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
      seen += buf.length
      if (seen > body.length) throw new LengthMismatchError(what, `more than ${body.length}`, body.length)
      pending.push(buf)
      pendingLen += buf.length
      if (pendingLen >= CHUNK) await drain(false)
    }
    if (seen !== body.length) throw new LengthMismatchError(what, String(seen), body.length)
    await drain(true)
    await Promise.all(inflight)
    if (failure) throw failure
  } finally {
    signal?.removeEventListener('abort', onAbort)
    src.destroy()
    await Promise.all(inflight)
  }
}

/** readRange streams bytes [start, end) of an open remote file, several reads in flight. */
export function readRange(s: SftpSession, handle: Buffer, start: number, end: number): Readable {
  const readAt = async (at: number, n: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      const nb = await sftpCall<number>(s, (cb) =>
        s.sftp.read(handle, buf, got, n - got, at + got, (err, bytesRead) => cb(err, bytesRead)),
      )
      if (nb === 0) throw new Error(`unexpected end of file at offset ${at + got} (expected ${end})`)
      got += nb
    }
    return buf
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    const queue: Promise<Buffer>[] = []
    let next = start
    try {
      while (queue.length > 0 || next < end) {
        while (queue.length < IN_FLIGHT && next < end) {
          const n = Math.min(CHUNK, end - next)
          const p = readAt(next, n)
          p.catch(() => {})
          queue.push(p)
          next += n
        }
        yield await queue.shift()!
      }
    } finally {
      await Promise.allSettled(queue)
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 256 * 1024 })
}
