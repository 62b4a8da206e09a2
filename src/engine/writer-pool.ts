// Why: a small pool of write-worker threads (src/engine/write-worker.ts) for restore: file checks and
// writes run beside the main thread, which keeps parsing what gpg and zstd decrypt.
import { Worker } from 'node:worker_threads'
import type { WriteJob, WriteOutcome } from './write-worker.js'

/** WriterPool checks and writes batches of files on worker threads; close() stops them. */
export class WriterPool {
  private readonly workers: Worker[] = []
  private readonly idle: Worker[] = []
  private readonly waiting: (() => void)[] = []
  private readonly pending = new Map<number, (r: WriteOutcome[]) => void>()
  private nextId = 0

  constructor(size: number) {
    const url = new URL('./write-worker.js', import.meta.url)
    for (let i = 0; i < size; i++) {
      const w = new Worker(url)
      w.on('message', (m: { id: number; outcomes: WriteOutcome[] }) => {
        const done = this.pending.get(m.id)
        this.pending.delete(m.id)
        this.idle.push(w)
        this.waiting.shift()?.()
        done?.(m.outcomes)
      })
      this.workers.push(w)
      this.idle.push(w)
    }
  }

  /** write sends a batch; the data buffers are transferred (they must not be pooled Buffers). */
  async write(jobs: WriteJob[]): Promise<WriteOutcome[]> {
    while (!this.idle.length) await new Promise<void>((r) => this.waiting.push(r))
    const w = this.idle.pop()!
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      w.postMessage(
        { id, jobs },
        jobs.map((j) => j.data.buffer as ArrayBuffer),
      )
    })
  }

  /** close terminates the workers. */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()))
  }
}
