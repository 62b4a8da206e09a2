// Why: restoring is tens of thousands of small files, each a tar member to parse, a SHA-256 to check and
// five system calls. This worker thread does all of it for one pack at a time: the main thread only
// pipes the pack through `gpg --decrypt` and hands over the compressed bytes; here they are
// decompressed (zstd, in-process), walked as a tar (tar-stream), checked against the index's hashes and
// written. Several packs are unpacked at once, one per worker.
import { createHash } from 'node:crypto'
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
import { extract } from 'tar-stream'
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
  | { readonly op: 'ack'; readonly id: number }
  | {
      readonly op: 'done'
      readonly id: number
      readonly outcomes: [entry: number, outcomes: Outcome[]][]
      readonly error: string | null
    }

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW

interface Job {
  readonly id: number
  readonly members: Map<number, UnpackMember>
  readonly overwrite: boolean
  readonly outcomes: [number, Outcome[]][]
  readonly tar: ReturnType<typeof extract>
  readonly walking: Promise<void>
  readonly zstd: FrameDecompressor
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

/**
 * unpackMember streams a member into its first target while hashing it; other targets (the same content
 * under several names) are written from a copy kept in memory. A hash mismatch removes what was written.
 */
async function unpackMember(
  m: UnpackMember,
  data: AsyncIterable<Buffer>,
  overwrite: boolean,
): Promise<Outcome[]> {
  const [first, ...rest] = m.targets
  const hash = createHash('sha256')
  const copies: Buffer[] | null = rest.length ? [] : null
  let fd = -1
  let firstError: string | null = null
  try {
    fd = openTarget(first!, overwrite)
  } catch (err) {
    firstError = errorCode(err)
  }
  for await (const c of data) {
    hash.update(c)
    copies?.push(c)
    if (fd >= 0 && !firstError) {
      try {
        writeAll(fd, c)
      } catch (err) {
        firstError = errorCode(err)
      }
    }
  }
  const intact = hash.digest('hex') === m.hash
  if (fd >= 0) {
    try {
      if (intact && !firstError) finishTarget(fd, first!)
      else closeSync(fd)
    } catch (err) {
      firstError ??= errorCode(err)
    }
    if (!intact) unlinkQuietly(first!)
  }
  if (!intact) return m.targets.map(() => 'damaged')
  const outcomes: Outcome[] = [firstError]
  const content = copies ? Buffer.concat(copies) : null
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

function unlinkQuietly(t: UnpackTarget): void {
  try {
    unlinkSync(Buffer.from(t.path.buffer, t.path.byteOffset, t.path.byteLength))
  } catch {}
}

function start(req: Extract<UnpackRequest, { op: 'start' }>): void {
  const members = new Map(req.members.map((m) => [m.entry, m]))
  const outcomes: [number, Outcome[]][] = []
  const tar = extract()
  const walking = (async () => {
    let index = 0
    for await (const member of tar) {
      const m = members.get(index++)
      if (m) outcomes.push([m.entry, await unpackMember(m, member as AsyncIterable<Buffer>, req.overwrite)])
      else member.resume()
    }
  })()
  const j: Job = {
    id: req.id,
    members,
    overwrite: req.overwrite,
    outcomes,
    tar,
    walking,
    zstd: new FrameDecompressor(),
    error: null,
  }
  walking.catch((err: unknown) => {
    j.error ??= err instanceof Error ? err.message : String(err)
  })
  job = j
}

/** drained waits until the tar parser wants more, or has stopped. */
function drained(tar: Job['tar']): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      tar.off('drain', done)
      tar.off('close', done)
      resolve()
    }
    tar.on('drain', done)
    tar.on('close', done)
  })
}

async function feed(j: Job, chunk: Uint8Array): Promise<void> {
  if (j.error) return
  let pieces: Buffer[]
  try {
    pieces = j.zstd.push(chunk)
  } catch (err) {
    j.error = `zstd: ${err instanceof Error ? err.message : String(err)}`
    j.tar.destroy()
    return
  }
  for (const piece of pieces) {
    if (j.error || j.tar.destroyed) return
    if (!j.tar.write(piece)) await drained(j.tar)
  }
}

async function end(j: Job): Promise<string | null> {
  if (!j.error && !j.zstd.complete) j.error = 'zstd: the compressed stream ends in the middle of a frame'
  if (j.error) {
    j.tar.destroy()
    await j.walking.catch(() => {})
    return j.error
  }
  j.tar.end(undefined)
  await j.walking.catch(() => {})
  return j.error
}

// Messages are handled one after the other: a 'data' is fully written before the next is looked at.
let queue = Promise.resolve()
parentPort?.on('message', (req: UnpackRequest) => {
  queue = queue.then(async () => {
    if (req.op === 'start') return start(req)
    const j = job
    if (!j || j.id !== req.id) return
    if (req.op === 'data') {
      await feed(j, req.chunk)
      parentPort!.postMessage({ op: 'ack', id: j.id } satisfies UnpackReply)
      return
    }
    const error = await end(j)
    job = null
    parentPort!.postMessage({ op: 'done', id: j.id, outcomes: j.outcomes, error } satisfies UnpackReply)
  })
})
