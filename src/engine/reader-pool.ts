// Why: a small pool of read-worker threads (src/engine/read-worker.ts) so that file reads, hashing and
// compression run in parallel with each other and with the main thread feeding gpg. A batch is read and
// hashed first; the engine then decides which of its files are new and asks the same worker to pack
// those, so the worker stays reserved for its batch between the two steps.
import { Worker } from 'node:worker_threads'
import { WORKER_LIMITS } from './concurrency.js'
import type { PackMember, PackReply, ReadResult, TarFile } from './read-worker.js'

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

/** ReadBatch is a batch read and hashed by one worker, which holds its content until pack() is called. */
export interface ReadBatch {
  readonly results: ReadResult[]
  /** pack compresses the chosen files as tar members into one zstd frame (null when none is chosen) and frees the worker. */
  pack(members: PackMember[]): Promise<Frame | null>
}

type Reply = { id: number; results?: ReadResult[] } & Partial<PackReply>

/** ReaderPool reads batches of files on worker threads; close() stops them. */
export class ReaderPool {
  private readonly workers: Worker[] = []
  private readonly idle: Worker[] = []
  /** callers waiting for a worker, served first come first served (a batch read ahead must not overtake an earlier one) */
  private readonly waiting: { resolve: (w: Worker) => void; reject: (e: unknown) => void }[] = []
  private closed = false
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>()
  private nextId = 0
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
      const w = new Worker(url, { resourceLimits: WORKER_LIMITS })
      w.on('message', (m: Reply) => {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        p?.resolve(m)
      })
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err)
        this.pending.clear()
      })
      this.workers.push(w)
      this.idle.push(w)
    }
  }

  private release(w: Worker): void {
    const next = this.waiting.shift()
    if (next) next.resolve(w)
    else this.idle.push(w)
  }

  private ask(w: Worker, msg: object, transfer: ArrayBuffer[] = []): Promise<Reply> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      w.postMessage({ ...msg, id }, transfer)
    })
  }

  /**
   * read reads and hashes the files at these absolute paths (raw bytes, scanned sizes), in order;
   * `members` are their tar headers' other fields, should they all be stored.
   */
  async read(paths: Buffer[], sizes: number[], members: TarFile[]): Promise<ReadBatch> {
    if (this.closed) throw new PoolClosedError()
    const w =
      this.idle.pop() ??
      (await new Promise<Worker>((resolve, reject) => this.waiting.push({ resolve, reject })))
    let reply: Reply
    try {
      reply = await this.ask(w, { op: 'read', paths, sizes, members })
    } catch (err) {
      this.release(w)
      throw err
    }
    let freed = false
    return {
      results: reply.results!,
      pack: async (members) => {
        if (freed) throw new Error('ReadBatch.pack called twice')
        freed = true
        if (!members.length) {
          this.release(w)
          return null
        }
        const slot = this.slotBytes ? (this.freeSlots.pop() ?? new SharedArrayBuffer(this.slotBytes)) : null
        let r: Reply
        try {
          r = await this.ask(w, { op: 'pack', members, slot })
        } catch (err) {
          if (slot) this.freeSlots.push(slot)
          throw err
        } finally {
          this.release(w)
        }
        if (slot && r.inSlot !== undefined && r.inSlot >= 0) {
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
    for (const p of this.pending.values()) p.reject(stopped)
    this.pending.clear()
    this.freeSlots.length = 0
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
