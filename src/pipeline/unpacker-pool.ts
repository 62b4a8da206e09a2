// Why: a small pool of unpack-worker threads (src/engine/unpack-worker.ts) for restore. Each worker
// unpacks one pack at a time, with the next one already queued (DEPTH), and runs its own
// `gpg --decrypt` into a named pipe of its own, so the main thread only hands out file names and
// gathers outcomes; it does no per-byte or per-file work. The FIFOs live in a private temporary folder
// made by open() and removed by close().
import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { GpgContext } from '../crypto/gpg.js'
import { SebError } from '../errors.js'
import { WorkerChannel } from './channel.js'
import type { UnpackList } from './unpack-list.js'
import type { UnpackProtocol, UnpackReply } from './unpack-worker.js'

interface Slot {
  readonly worker: WorkerChannel<UnpackProtocol>
  readonly fifo: string
}

/**
 * DEPTH: requests queued on a worker at once. With one, the worker sat idle between packs while the
 * main thread read its reply and prepared the next request (some 16 ms a pack, 0.27 s per worker over a
 * 1.2 GB restore); with two, the next request is already waiting when a pack ends. On two cores
 * already busy with the other worker and the gpgs, that alone did not shorten a local restore
 * measurably (medians of 6: 4.34 s before, 4.42 s with it, within this machine's noise).
 */
export const DEPTH = 2

/** UnpackerPool unpacks packs on worker threads; close() stops them and removes the FIFOs. */
export class UnpackerPool {
  private readonly waiting: (() => void)[] = []

  private constructor(
    /** the private folder of the FIFOs (and of downloaded packs) */
    readonly dir: string,
    private readonly slots: Slot[],
  ) {}

  /** capacity is how many requests the pool takes at once (more only wait for a place). */
  get capacity(): number {
    return this.slots.length * DEPTH
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
    const slots = fifos.map((fifo): Slot => ({ worker: new WorkerChannel<UnpackProtocol>(url), fifo }))
    return new UnpackerPool(dir, slots)
  }

  /** slot waits for the worker with the fewest requests queued, once one has fewer than DEPTH. */
  private async slot(): Promise<Slot> {
    for (;;) {
      let best: Slot | null = null
      for (const s of this.slots) if (!best || s.worker.inFlight < best.worker.inFlight) best = s
      if (best && best.worker.inFlight < DEPTH) return best
      await new Promise<void>((r) => this.waiting.push(r))
    }
  }

  /** unpack writes the members `list` wants of the pack whose ciphertext is the file `pack`. */
  async unpack(pack: string, gpg: GpgContext, list: UnpackList, overwrite: boolean): Promise<UnpackReply> {
    const slot = await this.slot()
    try {
      return await slot.worker.ask('unpack', { pack, fifo: slot.fifo, gpg, list, overwrite })
    } finally {
      this.waiting.shift()?.()
    }
  }

  /** close terminates the workers and removes the private folder. */
  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.close()))
    await fs.rm(this.dir, { recursive: true, force: true })
  }
}
