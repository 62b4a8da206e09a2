// Why: restoring is tens of thousands of small files, each a tar member to parse, a SHA-256 to check and
// five system calls. This worker thread does all of it for one pack at a time: the main thread only
// pipes the pack through `gpg --decrypt` and hands over the compressed bytes; here they are
// decompressed (zstd, in-process) into one reused buffer, walked as a tar synchronously
// (src/pack/tar-walk.ts), checked against the index's hashes and written. Several packs are unpacked at
// once, one per worker.
import { createHash, type Hash } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lstatSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { TarWalker } from '../pack/tar-walk.js'
import { FrameDecompressor } from '../pack/zstd.js'

/** UnpackTarget is one path a member's content is written to. */
export interface UnpackTarget {
  readonly path: Uint8Array
  readonly mode: number
  /** mtime in seconds, as utimes takes it */
  readonly mtime: number
}

/** UnpackMember is one wanted member of the pack: its ordinal, expected hash and where it goes. */
export interface UnpackMember {
  readonly entry: number
  readonly hash: string
  readonly targets: UnpackTarget[]
}

/** UnpackRequest is what the main thread sends for one pack: start, compressed bytes, end. */
export type UnpackRequest =
  | {
      readonly op: 'start'
      readonly id: number
      readonly members: UnpackMember[]
      readonly overwrite: boolean
    }
  | { readonly op: 'data'; readonly id: number; readonly chunk: Uint8Array }
  | { readonly op: 'end'; readonly id: number }

/** Outcome is null when a target was written, 'damaged' on a hash mismatch, else an error code. */
export type Outcome = string | null

/** UnpackReply answers 'data' (ack) and 'end' (the outcomes per member, and a parse error if any). */
export type UnpackReply =
  | { readonly op: 'ack'; readonly id: number; readonly chunk: Uint8Array }
  | {
      readonly op: 'done'
      readonly id: number
      readonly outcomes: [entry: number, outcomes: Outcome[]][]
      readonly error: string | null
    }

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW

/** Writing is the member being written: its first target's descriptor, its hash so far. */
interface Writing {
  readonly m: UnpackMember
  readonly fd: number
  firstError: string | null
  readonly hash: Hash
  /** the content, kept when it goes to more than one path */
  readonly copies: Buffer[] | null
}

interface Job {
  readonly id: number
  readonly outcomes: [number, Outcome[]][]
  readonly tar: TarWalker
  readonly zstd: FrameDecompressor
  /** the member being written, if any */
  writing: Writing | null
  /** the first failure of decompression or parsing; later data is ignored */
  error: string | null
}

let job: Job | null = null

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err)
}

function openTarget(t: UnpackTarget, overwrite: boolean): number {
  const p = Buffer.from(t.path.buffer, t.path.byteOffset, t.path.byteLength)
  if (overwrite) {
    // Never write through a symlink that is in the way: replace the link itself.
    try {
      if (lstatSync(p).isSymbolicLink()) unlinkSync(p)
    } catch {}
  }
  return openSync(p, CREATE | (overwrite ? constants.O_TRUNC : constants.O_EXCL), 0o600)
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.length) off += writeSync(fd, data, off, data.length - off)
}

function finishTarget(fd: number, t: UnpackTarget): void {
  try {
    fchmodSync(fd, t.mode)
    futimesSync(fd, t.mtime, t.mtime)
  } finally {
    closeSync(fd)
  }
}

/** begin opens a member's first target (an error is kept, and the data still hashed). */
function begin(m: UnpackMember, overwrite: boolean): Writing {
  let fd = -1
  let firstError: string | null = null
  try {
    fd = openTarget(m.targets[0]!, overwrite)
  } catch (err) {
    firstError = errorCode(err)
  }
  return { m, fd, firstError, hash: createHash('sha256'), copies: m.targets.length > 1 ? [] : null }
}

function write(w: Writing, piece: Uint8Array): void {
  w.hash.update(piece)
  w.copies?.push(Buffer.from(piece))
  if (w.fd >= 0 && !w.firstError) {
    try {
      writeAll(w.fd, piece)
    } catch (err) {
      w.firstError = errorCode(err)
    }
  }
}

/**
 * finish ends a member: the first target gets its mode and mtime, the others (the same content under
 * several names) are written from the copy. A hash mismatch removes what was written.
 */
function finish(w: Writing, overwrite: boolean): Outcome[] {
  const [first, ...rest] = w.m.targets
  const intact = w.hash.digest('hex') === w.m.hash
  if (w.fd >= 0) {
    try {
      if (intact && !w.firstError) finishTarget(w.fd, first!)
      else closeSync(w.fd)
    } catch (err) {
      w.firstError ??= errorCode(err)
    }
    if (!intact) unlinkQuietly(first!)
  }
  if (!intact) return w.m.targets.map(() => 'damaged')
  const outcomes: Outcome[] = [w.firstError]
  const content = w.copies ? Buffer.concat(w.copies) : null
  for (const t of rest) {
    try {
      const tfd = openTarget(t, overwrite)
      try {
        writeAll(tfd, content!)
      } finally {
        finishTarget(tfd, t)
      }
      outcomes.push(null)
    } catch (err) {
      outcomes.push(errorCode(err))
    }
  }
  return outcomes
}

/** abandon drops a member cut short by damage: what was written of it is removed. */
function abandon(w: Writing): void {
  if (w.fd < 0) return
  try {
    closeSync(w.fd)
  } catch {}
  unlinkQuietly(w.m.targets[0]!)
}

function unlinkQuietly(t: UnpackTarget): void {
  try {
    unlinkSync(Buffer.from(t.path.buffer, t.path.byteOffset, t.path.byteLength))
  } catch {}
}

function start(req: Extract<UnpackRequest, { op: 'start' }>): void {
  const members = new Map(req.members.map((m) => [m.entry, m]))
  const outcomes: [number, Outcome[]][] = []
  const j: Job = {
    id: req.id,
    outcomes,
    zstd: new FrameDecompressor(),
    writing: null,
    error: null,
    tar: new TarWalker({
      member(entry) {
        const m = members.get(entry)
        j.writing = m ? begin(m, req.overwrite) : null
      },
      data(_entry, piece) {
        if (j.writing) write(j.writing, piece)
      },
      end(entry) {
        if (j.writing) outcomes.push([entry, finish(j.writing, req.overwrite)])
        j.writing = null
      },
    }),
  }
  job = j
}

function fail(j: Job, err: unknown): void {
  j.error ??= err instanceof Error ? err.message : String(err)
  if (j.writing) abandon(j.writing)
  j.writing = null
}

function feed(j: Job, chunk: Uint8Array): void {
  if (j.error) return
  try {
    j.zstd.push(chunk, (piece) => j.tar.push(piece))
  } catch (err) {
    fail(j, err)
  }
}

function end(j: Job): string | null {
  if (j.error) return j.error
  try {
    if (!j.zstd.complete) throw new Error('zstd: the compressed stream ends in the middle of a frame')
    j.tar.finish()
  } catch (err) {
    fail(j, err)
  }
  return j.error
}

// Everything is synchronous: a 'data' is fully written before the next message is looked at.
parentPort?.on('message', (req: UnpackRequest) => {
  if (req.op === 'start') return start(req)
  const j = job
  if (!j || j.id !== req.id) return
  if (req.op === 'data') {
    feed(j, req.chunk)
    // The chunk's memory goes back to be filled again: garbage buffers of this size, freed only when
    // this thread's GC ran, held up to 200 MB of a restore's memory.
    parentPort!.postMessage({ op: 'ack', id: j.id, chunk: req.chunk } satisfies UnpackReply, [
      req.chunk.buffer as ArrayBuffer,
    ])
    return
  }
  const error = end(j)
  job = null
  parentPort!.postMessage({ op: 'done', id: j.id, outcomes: j.outcomes, error } satisfies UnpackReply)
})
