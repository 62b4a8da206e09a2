// Why: reading, hashing and compressing 90,000 small files is per-file system calls, SHA-256 and zstd,
// which must not run on Node's main thread. This worker thread does all three for a batch of files, in
// two steps: `read` reads and hashes the batch into a buffer it reuses, already laid out as tar members,
// and answers with the hashes only;
// `pack` then turns the files the engine wants stored (the ones whose content is new) into tar members
// compressed as one zstd frame, and hands the frame back (transferred, not copied). File content never
// crosses between threads uncompressed.
import { hash } from 'node:crypto'
import { closeSync, openSync, readSync } from 'node:fs'
import { headerLine, isMessagePath, noiseFacts, searchHeaderFields } from '../core/mail-facts.js'
import { type PathList, pathAt } from '../core/path-list.js'
import { fileHeader, fileMember, paddingFor } from '../pack/member.js'
import { FrameCompressor } from '../pack/zstd.js'
import { serve } from './channel.js'

/**
 * ReadRequest asks to read and hash a batch of files. Its lists are a few typed arrays and one string,
 * cloned in one copy each: as an object and a path buffer per file, posting batches cost the main
 * thread some 0.3 s over a first backup of 87,000 files.
 */
export interface ReadRequest {
  /** the files' absolute paths */
  readonly paths: PathList
  /** per file: its size as scanned */
  readonly sizes: Float64Array
  /** the tar members' names (the paths under the source, as seb writes them), joined by NUL */
  readonly names: string
  readonly modes: Uint32Array
  readonly mtimes: Float64Array
}

/** ReadReply is each file's size and hash (64 hex digits each, in order), and the files that failed. */
export interface ReadReply {
  readonly sizes: Float64Array
  /** the hashes one after the other; a failed file's place holds 64 spaces */
  readonly hashes: string
  readonly errors: [index: number, code: string][]
  /** files with sync-tool noise lines: their SHA-256 without them, and the patch (mail-facts.ts) */
  readonly noise: [index: number, norm: string, patch: string][]
}

/** PackRequest asks for the chosen files of the last batch (by index) as one zstd frame of tar members. */
export interface PackRequest {
  readonly indices: Uint32Array
  /** shared memory to write the frame into, if it is large enough (see ReaderPool's frame slots) */
  readonly slot: SharedArrayBuffer | null
}

/** PackReply is the frame: its length in the slot, or a buffer of its own when it did not fit. */
export interface PackReply {
  readonly inSlot: number
  readonly frame: Uint8Array | null
  /**
   * the search headers of the chosen files that are messages (mail-facts.ts), as the backup's spool
   * keeps them: a JSON line each (`[hash, subject, from, to, date, message id]`), made here, not on
   * the main thread, and sent as one string rather than as arrays of strings to clone
   */
  readonly headers: string
  /** the number of lines in `headers` */
  readonly headerCount: number
}

/** ReadResult is one file: its size and hash, or the error code that stopped the read. */
export interface ReadResult {
  readonly size: number
  readonly hash: string
  readonly error: string | null
  /** its SHA-256 without sync-tool noise lines and their patch, when it has some */
  readonly noise?: { readonly norm: string; readonly patch: string }
}

/** A batch buffer larger than this is given back after use (one huge file must not pin its memory). */
const KEEP_BYTES = 5 * 1024 * 1024

let arena = Buffer.allocUnsafeSlow(KEEP_BYTES)
let batch: (Buffer | null)[] = []
/** the last batch's hashes (hex), for the search headers' lines */
let batchHashes: string[] = []
const compressor = new FrameCompressor()

/** readOne reads one file into `into` (or a buffer of its own if it grew past the room given). */
function readOne(path: Buffer, into: Buffer): { data: Buffer | null; result: ReadResult } {
  let fd = -1
  try {
    fd = openSync(path, 'r')
    // The room is the scanned size plus one byte: a read that returns 0 there proves the end.
    let buf = into
    let got = 0
    for (;;) {
      if (got === buf.length) {
        // The file grew since the scan: keep reading what is there now.
        const bigger = Buffer.allocUnsafeSlow(Math.max(buf.length * 2, 64 * 1024))
        buf.copy(bigger, 0, 0, got)
        buf = bigger
      }
      const n = readSync(fd, buf, got, buf.length - got, got)
      if (n === 0) break
      got += n
    }
    const data = buf.subarray(0, got)
    // One call, no Hash object per file: for a few kB of mail, making the object cost more than hashing.
    return { data, result: { size: got, hash: hash('sha256', data, 'hex'), error: null } }
  } catch (err) {
    return {
      data: null,
      result: { size: 0, hash: '', error: (err as NodeJS.ErrnoException).code ?? String(err) },
    }
  } finally {
    if (fd >= 0) closeSync(fd)
  }
}

/**
 * The last batch, laid out in `arena` as the tar stream it would become (header, content, padding per
 * file), so that a batch whose files are all new is compressed straight from where it was read.
 */
let laidOut = 0
let regular = false
/** the last batch's tar member names, modes and mtimes, for pack */
let names: string[] = []
let modes: Uint32Array = new Uint32Array(0)
let mtimes: Float64Array = new Float64Array(0)

const NO_HASH = ' '.repeat(64)

function read(req: ReadRequest): ReadReply {
  const n = req.sizes.length
  names = n ? req.names.split('\0') : []
  modes = req.modes
  mtimes = req.mtimes
  const headers = names.map((path, i) => fileHeader(path, req.sizes[i]!, modes[i]!, mtimes[i]!))
  let room = 1
  req.sizes.forEach((s, i) => {
    room += headers[i]!.length + s + paddingFor(s).length
  })
  if (room > arena.length || (arena.length > KEEP_BYTES && room <= KEEP_BYTES))
    arena = Buffer.allocUnsafeSlow(Math.max(room, KEEP_BYTES))
  let at = 0
  batch = []
  regular = true
  const sizes = new Float64Array(n)
  const hashes: string[] = []
  const errors: [number, string][] = []
  const noise: [number, string, string][] = []
  for (let i = 0; i < n; i++) {
    const size = req.sizes[i]!
    arena.set(headers[i]!, at)
    at += headers[i]!.length
    const path = pathAt(req.paths, i)
    // The room is the size plus one byte (the padding's, or the next header's, written afterwards).
    const { data, result } = readOne(path, arena.subarray(at, at + size + 1))
    if (!data || data.length !== size || data.buffer !== arena.buffer) regular = false
    const pad = paddingFor(size).length
    arena.fill(0, at + size, at + size + pad)
    at += size + pad
    batch.push(data)
    sizes[i] = result.size
    hashes.push(result.error === null ? result.hash : NO_HASH)
    if (result.error !== null) errors.push([i, result.error])
    else if (data) {
      const facts = noiseFacts(data)
      if (facts) noise.push([i, facts.norm, facts.patch])
    }
  }
  laidOut = at
  batchHashes = hashes
  return { sizes, hashes: hashes.join(''), errors, noise }
}

/** headersOf reads the search headers of the chosen files that are messages (before pack lets them go). */
function headersOf(indices: Uint32Array): { headers: string; headerCount: number } {
  let headers = ''
  let headerCount = 0
  for (const index of indices) {
    const data = batch[index]
    if (!data || !isMessagePath(names[index]!)) continue
    const fields = searchHeaderFields(data)
    if (!fields) continue
    headers += `${JSON.stringify(headerLine(batchHashes[index]!, fields))}\n`
    headerCount++
  }
  return { headers, headerCount }
}

function packFrame(req: PackRequest): Buffer | null {
  const into = req.slot ? new Uint8Array(req.slot) : undefined
  const everyFile = req.indices.length === batch.length && req.indices.every((index, i) => index === i)
  const frame =
    regular && everyFile && batch.length ? compressor.frame([arena.subarray(0, laidOut)], into) : null
  if (frame) {
    batch = []
    return frame
  }
  // Some files are not stored (content already in the repository) or changed since the scan: the
  // members are assembled again from the parts.
  const parts: Uint8Array[] = []
  for (const index of req.indices) {
    const data = batch[index]
    if (!data) throw new Error(`pack: file ${index} of the batch was not read`)
    parts.push(...fileMember(names[index]!, modes[index]!, mtimes[index]!, data))
  }
  batch = []
  return parts.length ? compressor.frame(parts, into) : null
}

/** ReadProtocol is what the reader pool asks of this worker. */
export type ReadProtocol = {
  read: [ReadRequest, ReadReply]
  pack: [PackRequest, PackReply]
}

serve<ReadProtocol>(
  {
    read,
    pack(req) {
      const headers = headersOf(req.indices)
      const frame = packFrame(req)
      return frame && frame.buffer === req.slot
        ? { inSlot: frame.length, frame: null, ...headers }
        : { inSlot: -1, frame, ...headers }
    },
  },
  (op, reply) => {
    const frame = op === 'pack' ? (reply as PackReply).frame : null
    return frame ? [frame.buffer as ArrayBuffer] : []
  },
)
