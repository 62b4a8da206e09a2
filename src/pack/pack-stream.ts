// Why: the one reader of seb's archives. A pack (and a commit) is a tar compressed as a run of zstd
// frames; whoever reads one — restore's unpack workers, verify, compaction, key rotation, the commit
// loader — pushes the decrypted bytes in here and gets the tar members out, in order, by ordinal. One
// reader means verify checks exactly what restore reads. Synchronous and allocation-free on the hot
// path (zstd frames decompressed whole into one reused buffer, the tar walked in place, see
// zstd.ts and tar-walk.ts); the caller supplies the bytes and any waiting. Pure, apart from zstd.
import { TarWalker, type TarWalkHandler } from './tar-walk.js'
import { FrameDecompressor } from './zstd.js'

/** MemberVisitor receives each member (ordinal, size, tar type flag), its data in order, then its end. */
export type MemberVisitor = TarWalkHandler

/**
 * PackStream decompresses and walks one archive. Feed it with `push` (or `space` + `wrote` to read
 * straight into its input buffer), then call `finish`. The first damage (zstd or tar) is kept in
 * `error` and the rest of the input is ignored; the visitor is told nothing more. A visitor that throws
 * stops the stream the same way, but its error is kept apart (`visitorError`): it is not damage.
 */
export class PackStream {
  private readonly zstd: FrameDecompressor
  private walker: TarWalker
  private visitor: MemberVisitor
  private readonly sink = (piece: Uint8Array) => this.walker.push(piece)
  /** the first failure to decompress or parse (or the visitor's own), if any */
  error: Error | null = null
  /** the visitor's own error, when it threw (then also `error`) */
  visitorError: unknown = null

  constructor(visitor: MemberVisitor, zstd = new FrameDecompressor()) {
    this.zstd = zstd
    this.visitor = visitor
    this.walker = new TarWalker(this.guarded())
  }

  /** reset starts a new archive with another visitor, keeping the decompressor's warm buffers. */
  reset(visitor: MemberVisitor): void {
    this.zstd.reset()
    this.visitor = visitor
    this.walker = new TarWalker(this.guarded())
    this.error = null
    this.visitorError = null
  }

  /** guarded calls the visitor, keeping what it throws apart from the archive's damage. */
  private guarded(): MemberVisitor {
    const kept = (err: unknown): never => {
      this.visitorError = err
      throw err
    }
    return {
      member: (entry, size, typeflag) => {
        try {
          this.visitor.member(entry, size, typeflag)
        } catch (err) {
          kept(err)
        }
      },
      data: (entry, piece) => {
        try {
          this.visitor.data(entry, piece)
        } catch (err) {
          kept(err)
        }
      },
      end: (entry) => {
        try {
          this.visitor.end(entry)
        } catch (err) {
          kept(err)
        }
      },
    }
  }

  /** space is free input space: read compressed bytes into a prefix of it, then call `wrote`. */
  space(): Buffer {
    return this.zstd.space()
  }

  /** wrote takes the `n` bytes just read into `space()`. */
  wrote(n: number): void {
    if (this.error) return
    try {
      this.zstd.wrote(n, this.sink)
    } catch (err) {
      this.fail(err)
    }
  }

  /** push copies compressed bytes in. */
  push(chunk: Uint8Array): void {
    if (this.error) return
    try {
      this.zstd.push(chunk, this.sink)
    } catch (err) {
      this.fail(err)
    }
  }

  /** finish ends the input; it returns the first damage found (a cut-short stream included), or null. */
  finish(): Error | null {
    if (this.error) return this.error
    try {
      this.zstd.end(this.sink)
      if (!this.zstd.complete) throw new Error('zstd: the compressed stream ends in the middle of a frame')
      this.walker.finish()
    } catch (err) {
      this.fail(err)
    }
    return this.error
  }

  private fail(err: unknown): void {
    this.error ??= err instanceof Error ? err : new Error(String(err))
  }
}
