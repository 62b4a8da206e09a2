// Why: seb bounds its parallel work in several places — SSH connections, rclone processes, pipeline
// tasks — and each bound must hand out its permits in order and let a waiter give up when its
// operation is cancelled. One small semaphore does that for all of them.
import { abortReason } from './abort.js'

/** Release gives a permit back; calling it more than once has no further effect. */
export type Release = () => void

interface Waiter {
  readonly grant: () => void
}

/**
 * Semaphore hands out `permits` permits, first come first served. A waiter whose AbortSignal fires
 * leaves the queue and rejects with the signal's reason; a permit is never lost or handed out twice.
 */
export class Semaphore {
  private free: number
  private readonly waiters: Waiter[] = []

  constructor(readonly permits: number) {
    if (!Number.isInteger(permits) || permits < 1) throw new RangeError(`invalid permit count ${permits}`)
    this.free = permits
  }

  /** available is the number of permits not handed out. */
  get available(): number {
    return this.free
  }

  /** waiting is the number of callers queued for a permit. */
  get waiting(): number {
    return this.waiters.length
  }

  /** acquire waits for a permit and returns the function that gives it back. */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    if (this.free > 0) {
      this.free--
      return Promise.resolve(this.releaser())
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(abortReason(signal!))
      }
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve(this.releaser())
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** run calls `fn` holding a permit and gives the permit back when it settles. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal)
    try {
      return await fn()
    } finally {
      release()
    }
  }

  private releaser(): Release {
    let done = false
    return () => {
      if (done) return
      done = true
      const next = this.waiters.shift()
      if (next) next.grant()
      else this.free++
    }
  }
}
