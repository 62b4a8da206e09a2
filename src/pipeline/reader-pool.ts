// Why: a small pool of read-worker threads (src/engine/read-worker.ts) so that file reads, hashing and
// compression run in parallel with each other and with the main thread feeding gpg. A batch is read and
// hashed first; the engine then decides which of its files are new and asks the same worker to pack
// those, so the worker stays reserved for its batch between the two steps.
import { joinPaths } from '../core/path-list.js'
import { WorkerChannel } from './channel.js'
import type { PackReply, ReadProtocol, ReadReply, ReadRequest, ReadResult } from './read-worker.js'

/** PoolClosedError is what a caller still waiting gets once the pool is closed: a consequence, never the cause. */
export class PoolClosedError extends Error {
  constructor() {
    super('reader pool closed')
  }
}

/** Frame is a compressed frame; call release() once its bytes are written (its memory is then reused). */
export interface Frame {
  readonly bytes: Buffer
  release(): void
}

/** BatchFile is a file to read: its path under the source (as seb writes it), size as scanned, mode, mtime. */
export interface BatchFile {
  readonly path: string
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
}

/** ReadBatch is a batch read and hashed by one worker, which holds its content until pack() is called. */
export interface ReadBatch {
  readonly results: ReadResult[]
  /** the search headers of the messages among the files packed, as JSON lines (filled by pack) */
  readonly headers: { text: string; count: number }
  /**
   * pack compresses the chosen files (indices into the batch, in order) as tar members into one zstd
   * frame (null when none is chosen) and frees the worker.
   */
  pack(indices: readonly number[]): Promise<Frame | null>
}

/** readRequest lays a batch out as typed arrays: the absolute paths (`root` + '/' + path) as bytes. */
export function readRequest(root: Uint8Array, files: readonly BatchFile[]): ReadRequest {
  const paths = files.map((f) => f.path)
  return {
    paths: joinPaths(root, paths),
    sizes: Float64Array.from(files, (f) => f.size),
    names: paths.join('\0'),
    modes: Uint32Array.from(files, (f) => f.mode),
    mtimes: Float64Array.from(files, (f) => f.mtimeMs),
  }
}

/** ReaderPool reads batches of files on worker threads; close() stops them. */
export class ReaderPool {
  private readonly workers: WorkerChannel<ReadProtocol>[] = []
  private readonly idle: WorkerChannel<ReadProtocol>[] = []
  /** callers waiting for a worker, served first come first served (a batch read ahead must not overtake an earlier one) */
  private readonly waiting: {
    resolve: (w: WorkerChannel<ReadProtocol>) => void
    reject: (e: unknown) => void
  }[] = []
  private closed = false
  /**
   * Frames are written by the workers into slots of shared memory that are reused, not into fresh
   * buffers: a fresh buffer per frame, allocated on one thread and freed on another, fragmented the
   * allocator's arenas by some 80 MB over a first backup (docs/benchmarks.md).
   */
  private readonly freeSlots: SharedArrayBuffer[] = []

  /** `slotBytes` should hold the frame of a usual batch; larger frames come in buffers of their own. */
  constructor(
    size: number,
    private readonly slotBytes = 0,
  ) {
    const url = new URL('./read-worker.js', import.meta.url)
    for (let i = 0; i < size; i++) {
      const w = new WorkerChannel<ReadProtocol>(url)
      this.workers.push(w)
      this.idle.push(w)
    }
  }

  private release(w: WorkerChannel<ReadProtocol>): void {
    const next = this.waiting.shift()
    if (next) next.resolve(w)
    else this.idle.push(w)
  }

  /** read reads and hashes `files` (paths under `root`, the source's absolute path as bytes), in order. */
  async read(root: Uint8Array, files: readonly BatchFile[]): Promise<ReadBatch> {
    if (this.closed) throw new PoolClosedError()
    const w =
      this.idle.pop() ??
      (await new Promise<WorkerChannel<ReadProtocol>>((resolve, reject) =>
        this.waiting.push({ resolve, reject }),
      ))
    let reply: ReadReply
    try {
      reply = await w.ask('read', readRequest(root, files))
    } catch (err) {
      this.release(w)
      throw this.closed ? new PoolClosedError() : err
    }
    let freed = false
    const errors = new Map(reply.errors)
    const noise = new Map(reply.noise.map(([i, norm, patch]) => [i, { norm, patch }]))
    const results: ReadResult[] = files.map((_, i) => {
      const error = errors.get(i)
      return error === undefined
        ? {
            size: reply.sizes[i]!,
            hash: reply.hashes.slice(64 * i, 64 * i + 64),
            error: null,
            noise: noise.get(i),
          }
        : { size: 0, hash: '', error }
    })
    const headers = { text: '', count: 0 }
    return {
      results,
      headers,
      pack: async (indices) => {
        if (freed) throw new Error('ReadBatch.pack called twice')
        freed = true
        if (!indices.length) {
          this.release(w)
          return null
        }
        const slot = this.slotBytes ? (this.freeSlots.pop() ?? new SharedArrayBuffer(this.slotBytes)) : null
        let r: PackReply
        try {
          r = await w.ask('pack', { indices: Uint32Array.from(indices), slot })
        } catch (err) {
          if (slot) this.freeSlots.push(slot)
          throw this.closed ? new PoolClosedError() : err
        } finally {
          this.release(w)
        }
        headers.text = r.headers
        headers.count = r.headerCount
        if (slot && r.inSlot >= 0) {
          let released = false
          return {
            bytes: Buffer.from(slot, 0, r.inSlot),
            release: () => {
              if (!released) this.freeSlots.push(slot)
              released = true
            },
          }
        }
        if (slot) this.freeSlots.push(slot)
        return r.frame
          ? { bytes: Buffer.from(r.frame.buffer, r.frame.byteOffset, r.frame.byteLength), release() {} }
          : null
      },
    }
  }

  /** close terminates the workers; whoever still waits for one gets an error. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const stopped = new PoolClosedError()
    for (const w of this.waiting.splice(0)) w.reject(stopped)
    this.freeSlots.length = 0
    await Promise.all(this.workers.map((w) => w.close(stopped)))
  }
}
