// Why: a small pool of unpack-worker threads (src/engine/unpack-worker.ts) for restore. Each worker takes
// one pack at a time and runs its own `gpg --decrypt` into a named pipe of its own, so the main thread
// only hands out file names and gathers outcomes; it does no per-byte or per-file work. The FIFOs live
// in a private temporary folder made by open() and removed by close().
import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { Worker } from 'node:worker_threads'
import type { GpgContext } from '../crypto/gpg.js'
import { SebError } from '../errors.js'
import { WORKER_LIMITS } from './concurrency.js'
import type { UnpackMember, UnpackReply, UnpackRequest } from './unpack-worker.js'

interface Slot {
  readonly worker: Worker
  readonly fifo: string
  onReply: (r: UnpackReply) => void
  onError: (err: unknown) => void
}

/** UnpackerPool unpacks packs on worker threads; close() stops them and removes the FIFOs. */
export class UnpackerPool {
  private readonly idle: Slot[] = []
  private readonly waiting: ((s: Slot) => void)[] = []
  private nextId = 0

  private constructor(
    /** the private folder of the FIFOs (and of downloaded packs) */
    readonly dir: string,
    private readonly slots: Slot[],
  ) {
    this.idle.push(...slots)
  }

  /** open makes `size` workers, each with a FIFO in a new private temporary folder. */
  static async open(size: number): Promise<UnpackerPool> {
    const dir = await fs
      .mkdtemp(path.join(os.tmpdir(), 'seb-restore-'))
      .catch((err: NodeJS.ErrnoException) => {
        throw new SebError(
          'tmpdir',
          `${os.tmpdir()}: cannot make restore's temporary folder there (${err.code ?? err.message}); set TMPDIR to a writable local folder`,
        )
      })
    const fifos = Array.from({ length: size }, (_, i) => path.join(dir, `fifo-${i}`))
    try {
      await promisify(execFile)('mkfifo', ['-m', '600', ...fifos])
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true })
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new SebError('mkfifo-missing', 'mkfifo: command not found; install coreutils')
      const why =
        String((err as { stderr?: string }).stderr ?? '')
          .trim()
          .split('\n')[0] || 'failed'
      throw new SebError(
        'mkfifo',
        `${os.tmpdir()}: cannot make restore's named pipes there (${why}); set TMPDIR to a local folder`,
      )
    }
    const url = new URL('./unpack-worker.js', import.meta.url)
    const slots = fifos.map((fifo) => {
      const slot: Slot = {
        worker: new Worker(url, { resourceLimits: WORKER_LIMITS }),
        fifo,
        onReply() {},
        onError() {},
      }
      slot.worker.on('message', (r: UnpackReply) => slot.onReply(r))
      slot.worker.on('error', (err) => slot.onError(err))
      return slot
    })
    return new UnpackerPool(dir, slots)
  }

  private release(s: Slot): void {
    const next = this.waiting.shift()
    if (next) next(s)
    else this.idle.push(s)
  }

  /** unpack writes `members` of the pack whose ciphertext is the file `pack`, once a worker is free. */
  async unpack(
    pack: string,
    gpg: GpgContext,
    members: UnpackMember[],
    overwrite: boolean,
  ): Promise<UnpackReply> {
    const slot = this.idle.pop() ?? (await new Promise<Slot>((r) => this.waiting.push(r)))
    const id = this.nextId++
    const reply = await new Promise<UnpackReply>((resolve, reject) => {
      slot.onReply = (r) => (r.id === id ? resolve(r) : undefined)
      slot.onError = reject
      const req: UnpackRequest = { id, pack, fifo: slot.fifo, gpg, members, overwrite }
      slot.worker.postMessage(req)
    })
    this.release(slot)
    return reply
  }

  /** close terminates the workers and removes the private folder. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()))
    await fs.rm(this.dir, { recursive: true, force: true })
  }
}
