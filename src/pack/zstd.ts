// Why: packs are compressed in-process, on the worker threads that read the files, instead of in a `zstd`
// child process fed through a pipe: no process to spawn per pack, no plaintext copied through a pipe, and
// compression runs on every core beside reading and hashing (docs/decisions.md, "In-process zstd").
// A pack is then a concatenation of independent zstd frames, which `zstd -d` and `tar --zstd` read as one
// stream: the format stays restorable with the standard tools.
import { createRequire } from 'node:module'
import type * as ZstdBinding from 'zstd-napi/binding.js'

const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding

/** ZSTD_LEVEL is the compression level: 3 is zstd's default, ~290 MB/s and ~2.1× on mail here. */
export const ZSTD_LEVEL = 3

/**
 * INDEX_ZSTD_LEVEL is the level of a commit's JSON, which is mostly hex hashes that no level shrinks:
 * a first backup's 29.8 MB of JSON (87,107 files) came to 10.45 MB in 71–105 ms at level 1 and to
 * 10.84 MB in 154–223 ms at level 3 (4 MiB frames, in-process), on a run's single-threaded tail.
 */
export const INDEX_ZSTD_LEVEL = 1

/**
 * SMALL_INDEX_ZSTD_LEVEL compresses a commit's last frame when it is at most SMALL_INDEX_FRAME bytes:
 * a daily delta, a move or a re-download of a mailbox. Its hex hashes do not shrink, but the paths, the
 * patches and the link members repeat: a re-download of 160 mbsync messages came to 21,453 bytes at
 * level 1 and 18,589 at level 15, in some 40 ms for 600 kB (docs/benchmarks.md).
 */
export const SMALL_INDEX_ZSTD_LEVEL = 15
/** SMALL_INDEX_FRAME: see SMALL_INDEX_ZSTD_LEVEL. */
export const SMALL_INDEX_FRAME = 1024 * 1024

/** Buffers grown past this size for one frame are given back afterwards. */
const KEEP_BYTES = 8 * 1024 * 1024

/** FrameCompressor turns plaintext pieces into one zstd frame, reusing its buffers between frames. */
export class FrameCompressor {
  private readonly cctx = new binding.CCtx()
  private stage = Buffer.allocUnsafeSlow(1024 * 1024)
  private out = Buffer.allocUnsafeSlow(binding.compressBound(1024 * 1024))

  constructor(level = ZSTD_LEVEL) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, level)
    this.cctx.setParameter(binding.CParameter.checksumFlag, 1)
  }

  /**
   * frame compresses the concatenation of `parts` into one frame. With `into` (large enough for
   * frameBound of the input) the frame is written there and a view of it returned; otherwise it comes in
   * a buffer of its own (not from Node's shared pool, so it can be transferred between threads).
   */
  frame(parts: readonly Uint8Array[], into?: Uint8Array): Buffer {
    const src = parts.length === 1 ? parts[0]! : this.gather(parts)
    const total = src.length
    const bound = binding.compressBound(total)
    if (into && into.length >= bound) {
      const n = this.cctx.compress2(into, src)
      this.shrink()
      return Buffer.from(into.buffer, into.byteOffset, n)
    }
    if (bound > KEEP_BYTES) {
      // A frame larger than the buffers kept between frames (a large attachment) is compressed straight
      // into a buffer of its own and handed out as a view: no second buffer of its size and no copy,
      // and the pages past the compressed end are never touched (13 MB less at the peak for a 16 MB
      // attachment).
      const own = Buffer.allocUnsafeSlow(bound)
      const n = this.cctx.compress2(own, src)
      this.shrink()
      return own.subarray(0, n)
    }
    if (bound > this.out.length) this.out = Buffer.allocUnsafeSlow(Math.max(bound, this.out.length * 2))
    const n = this.cctx.compress2(this.out, src)
    const frame = Buffer.allocUnsafeSlow(n)
    this.out.copy(frame, 0, 0, n)
    this.shrink()
    return frame
  }

  /** gather copies the parts into one contiguous buffer (the stage), which compression needs. */
  private gather(parts: readonly Uint8Array[]): Uint8Array {
    let total = 0
    for (const p of parts) total += p.length
    if (total > this.stage.length) this.stage = Buffer.allocUnsafeSlow(Math.max(total, this.stage.length * 2))
    let at = 0
    for (const p of parts) {
      this.stage.set(p, at)
      at += p.length
    }
    return this.stage.subarray(0, total)
  }

  /** shrink gives back buffers one huge frame (a large attachment) grew, so they are not pinned for the run. */
  private shrink(): void {
    if (this.stage.length > KEEP_BYTES) this.stage = Buffer.allocUnsafeSlow(1024 * 1024)
    if (this.out.length > KEEP_BYTES) this.out = Buffer.allocUnsafeSlow(binding.compressBound(1024 * 1024))
  }
}

/** frameBound is the largest a frame of `plainBytes` of input can be. */
export function frameBound(plainBytes: number): number {
  return binding.compressBound(plainBytes)
}

/** FRAME_BYTES: plaintext gathered on the main thread is cut into frames of about this size. */
export const FRAME_BYTES = 4 * 1024 * 1024

/**
 * FrameBuilder gathers plaintext written piece by piece (tar headers, chunks of a large file) and cuts it
 * into frames of about FRAME_BYTES.
 */
export class FrameBuilder {
  private parts: Uint8Array[] = []
  private bytes = 0

  constructor(private readonly compressor: FrameCompressor) {}

  /** push adds plaintext; it returns a finished frame when enough has gathered, else null. */
  push(data: Uint8Array): Buffer | null {
    if (!data.length) return null
    // Kept by reference until the frame is cut: callers must not reuse the buffer.
    this.parts.push(data)
    this.bytes += data.length
    return this.bytes >= FRAME_BYTES ? this.flush() : null
  }

  /** flush returns what has gathered as a frame, or null when nothing has. */
  flush(): Buffer | null {
    if (!this.bytes) return null
    const f = this.compressor.frame(this.parts)
    this.parts = []
    this.bytes = 0
    return f
  }
}

/**
 * TextFrames compresses text given in pieces (a commit's JSON) into frames of about FRAME_BYTES. Each
 * piece is copied into one reused buffer, not made into a Buffer of its own: at 87,000 files a first
 * backup's commit is 27 MB of JSON, which as Buffers waited for a full GC and raised the run's peak.
 */
export class TextFrames {
  private readonly buf = Buffer.allocUnsafeSlow(FRAME_BYTES)
  private used = 0
  /** length is the number of bytes of text pushed so far */
  length = 0

  /** `small`, when given, compresses a last frame of at most SMALL_INDEX_FRAME bytes instead. */
  constructor(
    private readonly compressor: FrameCompressor,
    private readonly sink: (frame: Buffer) => void,
    private readonly small?: FrameCompressor,
  ) {}

  /** push adds a piece of text (UTF-8). */
  push(text: string): void {
    const n = Buffer.byteLength(text)
    this.length += n
    if (n > this.buf.length - this.used) this.flush()
    if (n > this.buf.length) this.sink(this.compressor.frame([Buffer.from(text)]))
    else this.used += this.buf.write(text, this.used)
  }

  /** pushBytes adds bytes that are not text (tar headers after a record), counted in `length` too. */
  pushBytes(bytes: Uint8Array): void {
    this.length += bytes.length
    if (bytes.length > this.buf.length - this.used) this.flush()
    if (bytes.length > this.buf.length) this.sink(this.compressor.frame([bytes]))
    else {
      this.buf.set(bytes, this.used)
      this.used += bytes.length
    }
  }

  /** flush compresses what has gathered as a frame (`last`: the text ends here). */
  flush(last = false): void {
    if (!this.used) return
    const c = last && this.small && this.used <= SMALL_INDEX_FRAME ? this.small : this.compressor
    this.sink(c.frame([this.buf.subarray(0, this.used)]))
    this.used = 0
  }
}

/** IN_BYTES: the least free space FrameDecompressor offers to read compressed bytes into. */
const IN_BYTES = 256 * 1024

/**
 * WHOLE_FRAME_BYTES: frames up to this much plaintext (every frame seb writes but a large attachment's)
 * are decompressed in one call once all of the frame is in; larger ones, or frames that do not say
 * their size, are streamed through a window. Both input and output buffers grow to a whole frame, so
 * this bounds them.
 */
const WHOLE_FRAME_BYTES = 8 * 1024 * 1024

/** FRAME_HEADER_MAX: a zstd frame header is at most this long (ZSTD_FRAMEHEADERSIZE_MAX). */
const FRAME_HEADER_MAX = 18

/** STREAM_OUT_BYTES: the output buffer for streamed frames. */
const STREAM_OUT_BYTES = 1024 * 1024

/** ZSTD_MAGIC starts every zstd frame (little-endian); skippable frames have others. */
const ZSTD_MAGIC = 0xfd2fb528

/** FrameScan is where the walk over the pending frame's block headers stands. */
class FrameScan {
  /** the frame's plaintext size, or -1 before its header was read */
  size = -1
  /** the offset (from the frame's start) of the next block header */
  at = 0
  /** the last block was passed; `at` is then the end of the blocks */
  lastBlock = false
  /** the frame ends with a 4-byte checksum */
  checksum = false

  clear(): void {
    this.size = -1
    this.at = 0
    this.lastBlock = false
    this.checksum = false
  }

  /**
   * header reads the frame header at the start of `data` (at least FRAME_HEADER_MAX bytes, or all there
   * is): false when the frame cannot be taken whole (not a zstd frame, of unknown size, too large).
   */
  header(data: Uint8Array): boolean {
    if (data.length < 5) return false
    if ((data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0 !== ZSTD_MAGIC) return false
    const fhd = data[4]!
    const single = (fhd >> 5) & 1
    if (fhd & 0x08) return false // a reserved bit: damage, which the streaming decompressor reports
    const size = wholeFrameSize(data)
    if (size === null) return false
    this.size = size
    this.checksum = ((fhd >> 2) & 1) === 1
    this.at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [single, 2, 4, 8][fhd >> 6]!
    return true
  }

  /**
   * length walks the block headers now in `data` and returns the frame's whole length once all of it is
   * in, else null; -1 for a block of the reserved type (damage).
   */
  length(data: Uint8Array): number | null {
    while (!this.lastBlock) {
      if (data.length < this.at + 3) return null
      const h = data[this.at]! | (data[this.at + 1]! << 8) | (data[this.at + 2]! << 16)
      const type = (h >> 1) & 3
      if (type === 3) return -1
      this.at += 3 + (type === 1 ? 1 : h >>> 3)
      this.lastBlock = (h & 1) === 1
    }
    const end = this.at + (this.checksum ? 4 : 0)
    return data.length >= end ? end : null
  }
}

/**
 * FrameDecompressor decompresses a zstd stream (any number of frames) written into it in pieces of any
 * size. Compressed bytes are read straight into its input buffer (`space`, then `wrote`); each frame of
 * known size is decompressed in one call once it is all in (its block headers are walked as they
 * arrive, to know when), into one output buffer reused for every frame. That skips the window a
 * streaming decompressor copies every byte through (restore's decompression took 12 % less CPU,
 * docs/decisions.md) and touches no fresh memory. A frame that does not fit that path is streamed.
 * `end` checks that the stream stopped at a frame boundary.
 */
export class FrameDecompressor {
  private readonly dctx = new binding.DCtx()
  private input = Buffer.allocUnsafeSlow(2 * IN_BYTES)
  /** the unconsumed compressed bytes are input[start, stop) */
  private start = 0
  private stop = 0
  /** the walk over the pending frame */
  private readonly scan = new FrameScan()
  /** the current frame is being streamed */
  private streaming = false
  private out = Buffer.allocUnsafeSlow(STREAM_OUT_BYTES)
  /** after `end`: whether the stream ended at a frame boundary (a truncated one does not) */
  complete = true

  /** reset forgets any partial frame, to start a new stream. */
  reset(): void {
    this.dctx.reset(binding.ResetDirective.sessionOnly)
    this.start = this.stop = 0
    this.scan.clear()
    this.streaming = false
    this.complete = true
  }

  /** space is a view of at least IN_BYTES of free input space; fill a prefix, then call `wrote`. */
  space(): Buffer {
    if (this.input.length - this.stop < IN_BYTES) {
      const pending = this.stop - this.start
      if (this.start > 0 && this.input.length - pending >= IN_BYTES)
        this.input.copy(this.input, 0, this.start, this.stop)
      else {
        const grown = Buffer.allocUnsafeSlow(
          Math.max(pending + IN_BYTES, Math.min(2 * this.input.length, WHOLE_FRAME_BYTES + 2 * IN_BYTES)),
        )
        this.input.copy(grown, 0, this.start, this.stop)
        this.input = grown
      }
      this.start = 0
      this.stop = pending
    }
    return this.input.subarray(this.stop)
  }

  /** wrote takes the `n` bytes just written into `space()`, handing out what can be decompressed. */
  wrote(n: number, sink: (piece: Buffer) => void): void {
    this.stop += n
    this.drain(sink, false)
  }

  /** push copies `src` in and decompresses what it can; a piece handed to `sink` is valid only during the call. */
  push(src: Uint8Array, sink: (piece: Buffer) => void): void {
    let off = 0
    while (off < src.length) {
      const room = this.space()
      const n = Math.min(room.length, src.length - off)
      room.set(src.subarray(off, off + n))
      off += n
      this.wrote(n, sink)
    }
  }

  /** end decompresses what is left and sets `complete`; damage throws. */
  end(sink: (piece: Buffer) => void): void {
    this.drain(sink, true)
    this.complete = this.start === this.stop && !this.streaming
  }

  private drain(sink: (piece: Buffer) => void, last: boolean): void {
    for (;;) {
      if (this.streaming) {
        // Streamed in pieces of IN_BYTES at least: fed the 15 KiB gpg writes at a time, zstd streams
        // 40 % slower.
        if (!last && this.stop - this.start < IN_BYTES) return
        if (!this.stream(sink)) return
        continue
      }
      if (this.start === this.stop) {
        this.start = this.stop = 0
        return
      }
      const pending = this.input.subarray(this.start, this.stop)
      if (this.scan.size < 0) {
        if (!last && pending.length < FRAME_HEADER_MAX) return
        // Too big, of unknown size, or not a frame at all: the streaming decompressor decides.
        if (!this.scan.header(pending)) {
          this.toStreaming()
          continue
        }
      }
      const length = this.scan.length(pending)
      if (length === null) {
        // A frame longer than it can be is damage; so is a stream that stops inside one.
        if (last || pending.length > binding.compressBound(this.scan.size) + 1024) this.toStreaming()
        else return
        continue
      }
      if (length < 0) {
        this.toStreaming()
        continue
      }
      if (this.out.length < this.scan.size) this.out = Buffer.allocUnsafeSlow(this.scan.size)
      const produced = this.dctx.decompress(this.out, pending.subarray(0, length))
      this.start += length
      this.scan.clear()
      if (produced) sink(this.out.subarray(0, produced))
    }
  }

  private toStreaming(): void {
    this.scan.clear()
    this.streaming = true
  }

  /** stream runs the streaming decompressor over the pending bytes; false once it needs more input. */
  private stream(sink: (piece: Buffer) => void): boolean {
    for (;;) {
      const [hint, produced, consumed] = this.dctx.decompressStream(
        this.out,
        this.input.subarray(this.start, this.stop),
      )
      this.start += consumed
      if (produced) sink(this.out.subarray(0, produced))
      if (hint === 0) {
        this.streaming = false
        return true
      }
      // A full output buffer may leave more plaintext inside; otherwise more input is needed.
      if (produced === this.out.length) continue
      if (consumed === 0 || this.start === this.stop) return false
    }
  }
}

/** wholeFrameSize is the plaintext size of the frame `data` starts with, if it is known and small enough. */
function wholeFrameSize(data: Uint8Array): number | null {
  try {
    const size = binding.getFrameContentSize(data)
    return size !== null && size <= WHOLE_FRAME_BYTES ? size : null
  } catch {
    return null
  }
}
