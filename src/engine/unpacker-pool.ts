// Why: a small pool of unpack-worker threads (src/engine/unpack-worker.ts) for restore. Each worker takes
// one pack at a time; the main thread feeds it the pack's compressed bytes, as they come out of
// `gpg --decrypt`, in transferred 1 MiB batches with at most a few unacknowledged, so memory stays
// bounded and the main thread does no per-file work.
import { Worker } from 'node:worker_threads'
import { WORKER_LIMITS } from './concurrency.js'
import type { Outcome, UnpackMember, UnpackReply } from './unpack-worker.js'

/** BATCH_BYTES: compressed bytes sent to a worker per message. */
const BATCH_BYTES = 1024 * 1024
/** IN_FLIGHT_BYTES: bytes sent to a worker and not yet acknowledged, at most (about). */
const IN_FLIGHT_BYTES = 4 * BATCH_BYTES
/** SPARE_MAX: batch buffers kept for reuse, at most */
const SPARE_MAX = 16

/** Unpacked is the result of one pack: the outcome per member written, and why the rest were not. */
export interface Unpacked {
  readonly outcomes: Map<number, Outcome[]>
  /** a decompression or tar error found by the worker (the pack is damaged) */
  readonly error: string | null
  /** what stopped the producer (download, gpg), if anything */
  readonly failure: unknown
}

interface Slot {
  readonly worker: Worker
  onAck: () => void
  onDone: (r: Extract<UnpackReply, { op: 'done' }>) => void
  onError: (err: unknown) => void
}

/** UnpackerPool unpacks packs on worker threads; close() stops them. */
export class UnpackerPool {
  private readonly slots: Slot[] = []
  private readonly idle: Slot[] = []
  private readonly waiting: ((s: Slot) => void)[] = []
  private nextId = 0
  /** batch buffers given back by the workers, filled again (see the worker's ack) */
  private readonly spare: ArrayBuffer[] = []

  constructor(size: number) {
    const url = new URL('./unpack-worker.js', import.meta.url)
    for (let i = 0; i < size; i++) {
      const slot: Slot = {
        worker: new Worker(url, { resourceLimits: WORKER_LIMITS }),
        onAck() {},
        onDone() {},
        onError() {},
      }
      slot.worker.on('message', (m: UnpackReply) => {
        if (m.op !== 'ack') return slot.onDone(m)
        if (m.chunk.buffer.byteLength === BATCH_BYTES && this.spare.length < SPARE_MAX)
          this.spare.push(m.chunk.buffer as ArrayBuffer)
        slot.onAck()
      })
      slot.worker.on('error', (err) => slot.onError(err))
      this.slots.push(slot)
      this.idle.push(slot)
    }
  }

  private release(s: Slot): void {
    const next = this.waiting.shift()
    if (next) next(s)
    else this.idle.push(s)
  }

  /**
   * unpack writes `members` of one pack. `produce` is given a `send` function and must call it with the
   * pack's compressed bytes in order (it waits while the worker is behind).
   */
  async unpack(
    members: UnpackMember[],
    overwrite: boolean,
    produce: (send: (chunk: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<Unpacked> {
    const slot = this.idle.pop() ?? (await new Promise<Slot>((r) => this.waiting.push(r)))
    const id = this.nextId++
    let workerError: unknown = null
    let unacked = 0
    const sizes: number[] = []
    let ackWaiter: (() => void) | null = null
    let doneWaiter: ((r: Extract<UnpackReply, { op: 'done' }> | null) => void) | null = null
    slot.onAck = () => {
      unacked -= sizes.shift() ?? 0
      ackWaiter?.()
      ackWaiter = null
    }
    slot.onDone = (r) => doneWaiter?.(r)
    slot.onError = (err) => {
      workerError = err
      ackWaiter?.()
      doneWaiter?.(null)
    }
    const post = (msg: object, transfer: ArrayBuffer[] = []) =>
      slot.worker.postMessage({ ...msg, id }, transfer)
    const newBatch = () => {
      const spare = this.spare.pop()
      return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES)
    }
    let batch = newBatch()
    let fill = 0
    const backpressure = async () => {
      while (unacked >= IN_FLIGHT_BYTES && !workerError) await new Promise<void>((r) => (ackWaiter = r))
      if (workerError) throw workerError
    }
    const flush = async () => {
      if (!fill) return
      const chunk = batch.subarray(0, fill)
      post({ op: 'data', chunk }, [batch.buffer as ArrayBuffer])
      batch = newBatch()
      unacked += fill
      sizes.push(fill)
      fill = 0
      await backpressure()
    }
    const send = async (c: Buffer) => {
      // Copied into a reused batch, even a pipe read's chunk that could be handed over as it is: there
      // it dies young (the main thread collects often), where in a worker a restore's worth of them
      // waited for a rare full GC (some 200 MB at 87,000 files).
      let off = 0
      while (off < c.length) {
        const n = Math.min(c.length - off, BATCH_BYTES - fill)
        c.copy(batch, fill, off, off + n)
        fill += n
        off += n
        if (fill === BATCH_BYTES) await flush()
      }
    }
    post({ op: 'start', members, overwrite })
    let failure: unknown = null
    try {
      await produce(send)
      await flush()
    } catch (err) {
      failure = err
    }
    const done = workerError
      ? null
      : await new Promise<Extract<UnpackReply, { op: 'done' }> | null>((r) => {
          doneWaiter = r
          post({ op: 'end' })
        })
    if (workerError) throw workerError
    if (this.spare.length < SPARE_MAX) this.spare.push(batch.buffer as ArrayBuffer)
    this.release(slot)
    return {
      outcomes: new Map(done?.outcomes ?? []),
      error: done?.error ?? null,
      failure,
    }
  }

  /** close terminates the workers. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
  }
}
