// Why: some crashes matter half-way through writing something — a pack's temporary object on the
// destination, the cache's state file — not before or after it. These wrappers reach a named fault
// point (src/util/fault.ts) once half the bytes have gone through, so a killed run leaves exactly that
// half-written leftover. They are used only while a test arms fault points.
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'
import type { SaveBody } from '../storage/storage.js'
import { type FaultPoint, fault } from './fault.js'

/** HALF_CHUNK: small pieces, so that what came before the point is on its way to disk when it fires. */
const HALF_CHUNK = 16 * 1024
/** SETTLE_MS: how long the first half is given to reach the destination before the point is reached. */
const SETTLE_MS = 100

/**
 * halfwayFileBody is a save body for `file` that reaches `point` when half of its `length` bytes have
 * been handed to the destination (it never lets the destination move the file into place: the bytes
 * are streamed, so the destination's temporary object is half written at that moment).
 */
export function halfwayFileBody(file: string, length: number, point: FaultPoint): SaveBody {
  return {
    length,
    open: () => {
      let sent = 0
      let reached = false
      async function* pieces() {
        for await (const read of createReadStream(file, { highWaterMark: HALF_CHUNK })) {
          let chunk = read as Buffer
          if (!reached && sent + chunk.length > length / 2) {
            // Exactly the first half goes out, then the destination is given a moment to write it.
            const cut = Math.max(1, Math.floor(length / 2) - sent)
            yield chunk.subarray(0, cut)
            sent += cut
            chunk = chunk.subarray(cut)
            reached = true
            await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
            fault(point)
          }
          sent += chunk.length
          if (chunk.length) yield chunk
        }
        if (!reached) fault(point)
      }
      return Readable.from(pieces())
    },
  }
}

/** halfwayPieces yields `pieces` and reaches `point` once half of their bytes have been yielded. */
export function* halfwayPieces(pieces: readonly Uint8Array[], point: FaultPoint): Generator<Uint8Array> {
  const total = pieces.reduce((n, p) => n + p.length, 0)
  let sent = 0
  let reached = false
  for (const piece of pieces) {
    if (piece.length > 1 && !reached && sent + piece.length > total / 2) {
      // Split the piece that crosses the half so that exactly the first half is written first.
      const cut = Math.floor(total / 2) - sent
      yield piece.subarray(0, cut)
      reached = true
      fault(point)
      yield piece.subarray(cut)
    } else yield piece
    sent += piece.length
  }
  if (!reached) fault(point)
}
