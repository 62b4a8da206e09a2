// Why: the two small concurrency tools the pipeline needs — an ordered read-ahead (keep N file reads in
// flight while the tar stream consumes them in order) and a bounded pool of tasks — so that reads,
// compression, encryption and uploads overlap without unbounded memory.
import { Semaphore } from './semaphore.js'

/** readAhead maps items with up to `window` calls in flight, yielding results in input order. */
export async function* readAhead<T, R>(
  items: readonly T[],
  window: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const inflight: Promise<R>[] = []
  let next = 0
  const fill = () => {
    while (inflight.length < window && next < items.length) {
      const p = fn(items[next++]!)
      p.catch(() => {}) // observed when yielded
      inflight.push(p)
    }
  }
  fill()
  while (inflight.length) {
    const r = await inflight.shift()!
    fill()
    yield r
  }
}

/**
 * TaskPool runs at most `limit` tasks at once (its permits are a Semaphore); add() returns once the task
 * has started, and wait() resolves when all finished or rejects with the first failure.
 */
export class TaskPool {
  private readonly slots: Semaphore
  private readonly running = new Set<Promise<void>>()
  private failure: unknown = null

  constructor(limit: number) {
    this.slots = new Semaphore(Math.max(1, limit))
  }

  /** add starts a task once a slot is free; it throws the first failure of an earlier task instead. */
  async add(task: () => Promise<void>): Promise<void> {
    const release = await this.slots.acquire()
    if (this.failure) {
      release()
      throw this.failure
    }
    const p: Promise<void> = task()
      .catch((err) => {
        this.failure ??= err
      })
      .finally(() => {
        this.running.delete(p)
        release()
      })
    this.running.add(p)
  }

  /** wait waits for every task and rethrows the first failure. */
  async wait(): Promise<void> {
    while (this.running.size) await Promise.race(this.running)
    if (this.failure) throw this.failure
  }
}
