// Why: the pipeline's worker threads (scan, read, unpack) are each driven by requests and replies.
// This is the one channel between a pool and its worker: a protocol type names each operation's
// request and reply, so both ends are checked by the compiler; request ids, error replies, a worker
// that crashes with requests in flight, and transfer lists are handled here once.
import { parentPort, Worker } from 'node:worker_threads'

/** Protocol maps each operation name to its [request, reply] types. */
export type Protocol = Record<string, readonly [unknown, unknown]>

/** Request is one operation's request body, as the protocol names it. */
export type Request<P extends Protocol, K extends keyof P> = P[K][0]
/** Reply is one operation's reply, as the protocol names it. */
export type Reply<P extends Protocol, K extends keyof P> = P[K][1]

type Message = { readonly id: number; readonly op: string; readonly body: unknown }
type Answer =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: string }

/**
 * WORKER_LIMITS are the V8 limits of seb's byte-crunching workers (read, unpack). Their data is file
 * content in Buffers, outside the JS heap; V8's default young generation (up to 3 × 16 MB) only let
 * short-lived garbage pile up: 4 MB took about 25 MB off each worker's memory at no measurable cost in
 * time (docs/benchmarks.md, "Memory").
 */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 4 } as const

/** WorkerFailedError is what a request gets when its worker stops or fails before answering. */
export class WorkerFailedError extends Error {}

/** WorkerChannel starts one worker thread and sends it requests; each resolves with its reply. */
export class WorkerChannel<P extends Protocol> {
  private readonly worker: Worker
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >()
  private nextId = 0
  private stopped: unknown = null

  constructor(url: URL, options: { limits?: boolean } = {}) {
    this.worker = new Worker(url, options.limits === false ? {} : { resourceLimits: WORKER_LIMITS })
    this.worker.on('message', (a: Answer) => {
      const p = this.pending.get(a.id)
      if (!p) return
      this.pending.delete(a.id)
      if (a.ok) p.resolve(a.value)
      else p.reject(new Error(a.error))
    })
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', () => this.fail(new WorkerFailedError('worker thread stopped')))
  }

  /** inFlight is how many requests wait for their reply. */
  get inFlight(): number {
    return this.pending.size
  }

  /** ask sends one request; `transfer` lists buffers moved (not copied) to the worker. */
  ask<K extends keyof P & string>(
    op: K,
    body: Request<P, K>,
    transfer: readonly ArrayBuffer[] = [],
  ): Promise<Reply<P, K>> {
    if (this.stopped) return Promise.reject(this.stopped)
    const id = this.nextId++
    return new Promise<Reply<P, K>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.worker.postMessage({ id, op, body } satisfies Message, transfer as ArrayBuffer[])
    })
  }

  private fail(err: unknown): void {
    this.stopped ??= err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  /** close stops the worker; requests still waiting are rejected with `reason`. */
  async close(reason: unknown = new WorkerFailedError('worker closed')): Promise<void> {
    this.fail(reason)
    await this.worker.terminate()
  }
}

/** Handlers implement a protocol on the worker side; `transfer` says what of a reply is moved. */
export type Handlers<P extends Protocol> = {
  readonly [K in keyof P]: (body: Request<P, K>) => Reply<P, K> | Promise<Reply<P, K>>
}

/**
 * serve answers the requests of a WorkerChannel, one at a time and in the order sent (a worker's
 * state, such as a read batch or a FIFO, belongs to the request being served). A handler's failure
 * becomes an error reply.
 */
export function serve<P extends Protocol>(
  handlers: Handlers<P>,
  transferOf: (op: keyof P, reply: unknown) => ArrayBuffer[] = () => [],
): void {
  const port = parentPort
  if (!port) return // imported on the main thread, for its types or functions
  let queue = Promise.resolve()
  port.on('message', (m: Message) => {
    queue = queue.then(async () => {
      try {
        const value = await (handlers[m.op] as (b: unknown) => unknown)(m.body)
        port.postMessage({ id: m.id, ok: true, value } satisfies Answer, transferOf(m.op, value))
      } catch (err) {
        port.postMessage({
          id: m.id,
          ok: false,
          error: err instanceof Error ? err.message : String(err),
        } satisfies Answer)
      }
    })
  })
}
