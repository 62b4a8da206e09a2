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

  constructor(
    private readonly compressor: FrameCompressor,
    private readonly sink: (frame: Buffer) => void,
  ) {}

  /** push adds a piece of text (UTF-8). */
  push(text: string): void {
    const n = Buffer.byteLength(text)
    this.length += n
    if (n > this.buf.length - this.used) this.flush()
    if (n > this.buf.length) this.sink(this.compressor.frame([Buffer.from(text)]))
    else this.used += this.buf.write(text, this.used)
  }

  /** flush compresses what has gathered as a frame. */
  flush(): void {
    if (!this.used) return
    this.sink(this.compressor.frame([this.buf.subarray(0, this.used)]))
    this.used = 0
  }
}

/** OUT_BYTES: the size of the buffer FrameDecompressor decompresses into. */
const OUT_BYTES = 1024 * 1024

/**
 * FrameDecompressor decompresses a zstd stream (any number of frames) pushed in pieces of any size,
 * into one buffer it reuses: memory that is written over and over costs no page faults.
 * `complete` says whether the input so far ends at a frame boundary (a truncated stream does not).
 */
export class FrameDecompressor {
  private readonly dctx = new binding.DCtx()
  private readonly out = Buffer.allocUnsafeSlow(OUT_BYTES)
  complete = true

  /** push decompresses `src`, handing each piece of plaintext to `sink`; a piece is valid only during the call. */
  push(src: Uint8Array, sink: (piece: Buffer) => void): void {
    let off = 0
    let full = false
    while (off < src.length || full) {
      const [hint, produced, consumed] = this.dctx.decompressStream(this.out, src.subarray(off))
      off += consumed
      full = produced === this.out.length
      if (produced) sink(this.out.subarray(0, produced))
      this.complete = hint === 0
      if (!produced && !consumed) break
    }
  }
}
