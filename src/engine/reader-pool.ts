// Why: a small pool of read-worker threads (src/engine/read-worker.ts) so that file reads and hashing
// run in parallel with the main thread feeding tar streams to zstd and gpg.
import { Worker } from 'node:worker_threads'
import type { ReadResult } from './read-worker.js'

/** ReaderPool reads batches of files on worker threads; close() stops them. */
export class ReaderPool {
  private readonly workers: Worker[] = []
  private readonly idle: Worker[] = []
  private readonly waiting: (() => void)[] = []
  private readonly pending = new Map<
    number,
    { resolve: (r: ReadResult[]) => void; reject: (e: unknown) => void }
  >()
  private nextId = 0

  constructor(size: number) {
    const url = new URL('./read-worker.js', import.meta.url)
    for (let i = 0; i < size; i++) {
      const w = new Worker(url)
      w.on('message', (m: { id: number; results: ReadResult[] }) => {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        this.release(w)
        p?.resolve(m.results)
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
    this.idle.push(w)
    next?.()
  }

  /** read reads and hashes the files at these absolute paths (raw bytes), in order. */
  async read(paths: Buffer[]): Promise<ReadResult[]> {
    while (!this.idle.length) await new Promise<void>((r) => this.waiting.push(r))
    const w = this.idle.pop()!
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      w.postMessage({ id, paths })
    })
  }

  /** close terminates the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
