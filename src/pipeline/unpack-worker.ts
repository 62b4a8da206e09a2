// Why: restoring is tens of thousands of small files, each a tar member to parse, a SHA-256 to check and
// five system calls. This worker thread does all of it for one pack at a time, and the main thread
// touches none of the pack's bytes: the worker starts `gpg --decrypt` on the pack's file with its output
// into a named pipe (a FIFO) of its own, reads that pipe with blocking reads straight into the
// decompressor's input buffer, decompresses (zstd, in-process) each frame whole into one reused buffer,
// walks the tar synchronously (src/pack/tar-walk.ts), checks every member against the index's hash and
// writes it. Several packs are unpacked at once, one per worker.
import { createHash, type Hash, hash } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lstatSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { type GpgContext, spawnGpg } from '../crypto/gpg.js'
import { KeyError, SebError } from '../errors.js'
import { PackStream } from '../pack/pack-stream.js'
import { serve } from './channel.js'
import {
  DAMAGED,
  FAILED,
  MISSING,
  memberHash,
  type TargetOutcomes,
  targetPath,
  type UnpackList,
  WRITTEN,
} from './unpack-list.js'

/** UnpackRequest is one pack to unpack: where its ciphertext is, the wanted members, the FIFO to use. */
export interface UnpackRequest {
  /** the pack's file (on a local destination, the object itself; else a downloaded copy) */
  readonly pack: string
  /** this worker's named pipe, which gpg writes the plaintext into */
  readonly fifo: string
  readonly gpg: GpgContext
  readonly list: UnpackList
  readonly overwrite: boolean
}

/** Failure is what stopped gpg or the pack's file, as a plain object (errors lose their class here). */
export interface Failure {
  readonly code: string
  readonly message: string
  readonly key: boolean
}

/** UnpackReply is each target's outcome, a decompression or tar error, and gpg's failure if any. */
export interface UnpackReply {
  readonly outcomes: TargetOutcomes
  readonly error: string | null
  readonly failure: Failure | null
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW

/** stream is this worker's pack reader, kept from pack to pack: its buffers stay warm. */
const stream = new PackStream({ member() {}, data() {}, end() {} })

/**
 * Writing is the member being written: a descriptor (or the error opening it) per target, and its hash
 * so far. Every target is written as the data comes, so nothing of a member is held in memory, however
 * many paths it goes to. One member is written at a time, so one record (`writing`) serves them all:
 * nothing is allocated per member but its digest.
 */
interface Writing {
  /** the member's index in the list */
  i: number
  /** the member's number of targets: `fds` and `errors` beyond it are stale */
  targets: number
  /** per target of the member: its descriptor, or -1 */
  readonly fds: number[]
  /** per target: the first error writing it */
  readonly errors: (string | null)[]
  /** the member's size, from its tar header (checked against the index's before anything is written) */
  size: number
  /** the hash so far, when the content comes in more than one piece */
  hash: Hash | null
  /** the digest, once known */
  digest: Buffer | null
}

const writing: Writing = { i: -1, targets: 0, fds: [], errors: [], size: 0, hash: null, digest: null }

interface Job {
  readonly list: UnpackList
  readonly overwrite: boolean
  readonly outcomes: TargetOutcomes
  /** the member being written, if any */
  writing: Writing | null
  /** the first failure of decompression or parsing; later data is ignored */
  error: string | null
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err)
}

/** UMASK is this process's; a mode it leaves whole can be given at creation, saving an fchmod. */
const UMASK = process.umask()

/**
 * createMode is the mode a target is created with: its own when that comes out exact (a new file,
 * permission bits only, none masked by the umask: 0644 and 0600 mail), else 0600 until finishTarget's
 * fchmod. One system call fewer per file; restore's folders stay 0700 until the end either way.
 */
function createMode(mode: number, overwrite: boolean): number {
  return !overwrite && (mode & ~0o777) === 0 && (mode & UMASK) === 0 ? mode : 0o600
}

function openTarget(j: Job, t: number): number {
  const p = targetPath(j.list, t)
  if (j.overwrite) {
    // Never write through a symlink that is in the way: replace the link itself.
    try {
      if (lstatSync(p).isSymbolicLink()) unlinkSync(p)
    } catch {}
  }
  const flags = CREATE | (j.overwrite ? constants.O_TRUNC : constants.O_EXCL)
  return openSync(p, flags, createMode(j.list.modes[t]!, j.overwrite))
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.length) off += writeSync(fd, data, off, data.length - off)
}

function finishTarget(j: Job, fd: number, t: number): void {
  try {
    const mode = j.list.modes[t]!
    // A file opened over an existing one keeps that file's mode whatever was asked at creation.
    if (j.overwrite || createMode(mode, j.overwrite) !== mode) fchmodSync(fd, mode)
    futimesSync(fd, j.list.mtimes[t]!, j.list.mtimes[t]!)
  } finally {
    closeSync(fd)
  }
}

/** begin opens member i's targets (an error is kept, and the data still hashed). */
function begin(j: Job, i: number, size: number): Writing {
  const first = j.list.firstTarget[i]!
  const w = writing
  w.i = i
  w.targets = j.list.firstTarget[i + 1]! - first
  w.size = size
  w.hash = null
  w.digest = null
  for (let k = 0; k < w.targets; k++) {
    try {
      w.fds[k] = openTarget(j, first + k)
      w.errors[k] = null
    } catch (err) {
      w.fds[k] = -1
      w.errors[k] = errorCode(err)
    }
  }
  return w
}

/**
 * hashPiece adds a piece to the member's hash. Most mail comes in one piece, hashed in one call with no
 * Hash object (creating one per file cost more than hashing a small file).
 */
function hashPiece(w: Writing, piece: Uint8Array): void {
  if (!w.hash && piece.length === w.size) {
    w.digest = hash('sha256', piece, 'buffer')
    return
  }
  w.hash ??= createHash('sha256')
  w.hash.update(piece)
}

const EMPTY_DIGEST = hash('sha256', '', 'buffer')

function write(w: Writing, piece: Uint8Array): void {
  hashPiece(w, piece)
  for (let k = 0; k < w.targets; k++) {
    if (w.fds[k]! < 0 || w.errors[k]) continue
    try {
      writeAll(w.fds[k]!, piece)
    } catch (err) {
      w.errors[k] = errorCode(err)
    }
  }
}

function setOutcome(j: Job, t: number, error: string | null): void {
  if (error === null) j.outcomes.codes[t] = WRITTEN
  else {
    j.outcomes.codes[t] = FAILED
    j.outcomes.errors.push([t, error])
  }
}

/**
 * finish ends a member: each target gets its mode and mtime, or, when the content does not match the
 * index's hash, is removed.
 */
function finish(j: Job, w: Writing): void {
  const first = j.list.firstTarget[w.i]!
  const digest = w.digest ?? w.hash?.digest() ?? EMPTY_DIGEST
  const intact = digest.equals(memberHash(j.list, w.i))
  for (let k = 0; k < w.targets; k++) {
    const t = first + k
    const fd = w.fds[k]!
    if (fd >= 0) {
      try {
        if (intact && !w.errors[k]) finishTarget(j, fd, t)
        else closeSync(fd)
      } catch (err) {
        w.errors[k] ??= errorCode(err)
      }
      if (!intact) unlinkQuietly(j, t)
    }
    if (intact) setOutcome(j, t, w.errors[k] ?? null)
    else j.outcomes.codes[t] = DAMAGED
  }
}

/** abandon drops a member cut short by damage: what was written of it is removed. */
function abandon(j: Job, w: Writing): void {
  const first = j.list.firstTarget[w.i]!
  for (let k = 0; k < w.targets; k++) {
    if (w.fds[k]! < 0) continue
    try {
      closeSync(w.fds[k]!)
    } catch {}
    unlinkQuietly(j, first + k)
  }
}

function unlinkQuietly(j: Job, t: number): void {
  try {
    unlinkSync(targetPath(j.list, t))
  } catch {}
}

function start(req: UnpackRequest): Job {
  const { list } = req
  // The wanted members in the order of their ordinals: the tar's members come in that order, so one
  // cursor finds each (no table sized by an ordinal, which is only a number from the index).
  const byEntry = Uint32Array.from(list.entries.keys()).sort((a, b) => list.entries[a]! - list.entries[b]!)
  let cursor = 0
  const memberOf = (entry: number): number => {
    while (cursor < byEntry.length && list.entries[byEntry[cursor]!]! < entry) cursor++
    return cursor < byEntry.length && list.entries[byEntry[cursor]!] === entry ? byEntry[cursor]! : -1
  }
  const targets = list.modes.length
  const j: Job = {
    list,
    overwrite: req.overwrite,
    outcomes: { codes: new Uint8Array(targets).fill(MISSING), errors: [] },
    writing: null,
    error: null,
  }
  stream.reset({
    member(entry, size) {
      const i = memberOf(entry)
      j.writing = null
      if (i < 0) return
      // A header whose size is not the index's is not this file (a replaced or forged pack): nothing
      // of it is written, however large it claims to be.
      if (size !== list.sizes[i])
        j.outcomes.codes.fill(DAMAGED, list.firstTarget[i]!, list.firstTarget[i + 1]!)
      else j.writing = begin(j, i, size)
    },
    data(_entry, piece) {
      if (j.writing) write(j.writing, piece)
    },
    end() {
      if (j.writing) finish(j, j.writing)
      j.writing = null
    },
  })
  return j
}

function fail(j: Job, err: unknown): void {
  j.error ??= err instanceof Error ? err.message : String(err)
  if (j.writing) abandon(j, j.writing)
  j.writing = null
}

/** feed takes the `n` bytes just read into the stream's space: decompressed, walked, written. */
function feed(j: Job, n: number): void {
  if (j.error) return
  stream.wrote(n)
  if (stream.error) fail(j, stream.error)
}

function end(j: Job): string | null {
  if (j.error) return j.error
  const damage = stream.finish()
  if (damage) fail(j, damage)
  return j.error
}

/** readPipe reads once into `into`, again when interrupted; 0 means every writer closed. */
function readPipe(fd: number, into: Buffer): number {
  for (;;) {
    try {
      return readSync(fd, into, 0, into.length, null)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EINTR' && code !== 'EAGAIN') throw err
    }
  }
}

/**
 * readAll reads the FIFO to its end straight into the decompressor's input buffer, feeding the job;
 * blocking is the point. After a tar or zstd error the rest is still read (and dropped), so gpg
 * finishes and gives its own verdict.
 */
function readAll(fd: number, j: Job): void {
  for (;;) {
    const n = readPipe(fd, stream.space())
    if (!n) return
    feed(j, n)
  }
}

function closeQuietly(fd: number): void {
  if (fd < 0) return
  try {
    closeSync(fd)
  } catch {}
}

/**
 * unpack runs gpg on the pack with its output into the FIFO, and unpacks what comes out. The FIFO is
 * opened for writing (O_RDWR never waits) before it is opened for reading, and this thread's writing end
 * is closed once gpg has its own: the reads then end exactly when gpg exits.
 */
async function unpack(req: UnpackRequest): Promise<UnpackReply> {
  const j = start(req)
  let failure: Failure | null = null
  let packFd = -1
  let writeFd = -1
  let readFd = -1
  try {
    try {
      packFd = openSync(req.pack, 'r')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new SebError('not-found', `${req.pack}: not found`)
      throw err
    }
    writeFd = openSync(req.fifo, constants.O_RDWR)
    readFd = openSync(req.fifo, constants.O_RDONLY)
    const gpg = spawnGpg(req.gpg, 'decrypt', packFd, writeFd)
    closeQuietly(writeFd)
    writeFd = -1
    closeQuietly(packFd)
    packFd = -1
    await gpg.passphraseSent
    try {
      readAll(readFd, j)
    } finally {
      closeQuietly(readFd)
      readFd = -1
    }
    await gpg.done
  } catch (err) {
    failure = {
      code: err instanceof SebError ? err.code : ((err as NodeJS.ErrnoException).code ?? 'error'),
      message: err instanceof Error ? err.message : String(err),
      key: err instanceof KeyError,
    }
  } finally {
    closeQuietly(packFd)
    closeQuietly(writeFd)
    closeQuietly(readFd)
  }
  const error = end(j)
  return { outcomes: j.outcomes, error, failure }
}

/** UnpackProtocol is what the unpacker pool asks of this worker. */
export type UnpackProtocol = { unpack: [UnpackRequest, UnpackReply] }

// One pack at a time, in the order sent (serve's rule): the FIFO is this worker's alone, so a request
// waits for the one before it to end.
serve<UnpackProtocol>({ unpack })
