// Why: builds one pack: a pax tar, compressed as a run of zstd frames, streamed into `gpg --encrypt`
// whose ciphertext goes to a spool file (never plaintext on disk). Most frames come ready-made from the
// read workers (addFrame); members written here (folders, symlinks, large files, the end of the archive)
// are compressed on the main thread. Backpressure is honoured on every write, so memory stays bounded
// whatever the file sizes. The engine uploads the spool file when the pack is finished.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { PackBlob } from '../core/model.js'
import type { GpgContext } from '../crypto/gpg.js'
import { PermanentStorageError } from '../errors.js'
import { END_OF_ARCHIVE, memberHeader, paddingFor } from './member.js'
import { drained, mainThreadFrames, type Sealer, startSeal } from './seal.js'
import type { TarEntry } from './tar-header.js'
import type { FrameBuilder } from './zstd.js'

/** FramedFile is a file whose tar member is inside a frame given to addFrame. */
export interface FramedFile {
  readonly hash: string
  readonly size: number
  readonly tarPath: string
}

/** FinishedPack is a sealed pack waiting in its spool file. */
export interface FinishedPack {
  readonly id: string
  readonly spoolPath: string
  readonly size: number
  readonly contentBytes: number
  readonly blobs: PackBlob[]
  readonly entries: number
}

/** newPackId returns a random pack name: 32 random bytes in hex, revealing nothing about the content. */
export function newPackId(): string {
  return randomBytes(32).toString('hex')
}

/** PackWriter appends tar members to one pack; call finish() or abort() exactly once. */
export class PackWriter {
  readonly blobs: PackBlob[] = []
  entries = 0
  contentBytes = 0
  private failed: unknown = null
  private readonly frames: FrameBuilder = mainThreadFrames()

  private constructor(
    readonly id: string,
    private readonly sealer: Sealer,
    private readonly fh: fs.FileHandle,
    readonly spoolPath: string,
    /** what holds the spool file, for error messages: 'destination' or 'local cache' */
    private readonly where: string,
  ) {
    sealer.input.on('error', (err) => {
      this.failed ??= err
    })
  }

  /**
   * start starts the sealing processes writing to a spool file: `at` when the destination offers one
   * beside the pack's final name (see Storage.spoolPath), else a new file in `spoolDir`.
   */
  static async start(
    ctx: GpgContext,
    spoolDir: string,
    at?: { id: string; spoolPath: string },
  ): Promise<PackWriter> {
    const id = at?.id ?? newPackId()
    let spoolPath = at?.spoolPath
    if (!spoolPath) {
      await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 })
      spoolPath = `${spoolDir}/pack-${process.pid}-${randomBytes(6).toString('hex')}`
    }
    const fh = await fs.open(spoolPath, 'wx', 0o600)
    try {
      const sealer = startSeal(ctx, fh.fd)
      return new PackWriter(id, sealer, fh, spoolPath, at ? 'destination' : 'local cache')
    } catch (err) {
      await fh.close()
      await fs.rm(spoolPath, { force: true })
      throw err
    }
  }

  /** write adds plaintext tar bytes; they are compressed in frames of a few MiB. */
  private async write(plain: Buffer): Promise<void> {
    const frame = this.frames.push(plain)
    if (frame) await this.send(frame)
  }

  /** send hands compressed bytes to gpg, waiting while its pipe is full; `written` runs once they are out. */
  private async send(chunk: Buffer, written?: () => void): Promise<void> {
    if (this.failed) {
      written?.()
      throw await this.failure(this.failed)
    }
    if (!this.sealer.input.write(chunk, written && (() => written())))
      await drained(this.sealer).catch(async (err: unknown) => {
        throw await this.failure(err)
      })
  }

  /** failure is the error to report for a failed write to gpg: after a broken pipe, gpg's own verdict. */
  private async failure(err: unknown): Promise<unknown> {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE')
      return this.explain(
        await this.sealer.done.then(
          () => err,
          (verdict: unknown) => verdict,
        ),
      )
    return this.explain(err)
  }

  /** explain turns a failure while sealing into the error to report (a full disk is named as such). */
  private explain(err: unknown): unknown {
    if (err instanceof Error && /No space left on device|ENOSPC/i.test(err.message))
      return new PermanentStorageError(
        `${path.dirname(this.spoolPath)}: no space left on the ${this.where} while writing a pack; free some space and run again`,
      )
    return err
  }

  private async header(e: Omit<TarEntry, 'uid' | 'gid'>): Promise<number> {
    await this.write(memberHeader(e))
    return this.entries++
  }

  /** addFile stores a file's content from memory under `path`; `hash` is its SHA-256. */
  async addFile(path: string, mode: number, mtimeMs: number, data: Buffer, hash: string): Promise<void> {
    const entry = await this.header({ path, type: 'file', size: data.length, mode, mtimeMs })
    await this.write(data)
    await this.write(paddingFor(data.length))
    this.contentBytes += data.length
    this.blobs.push({ hash, size: data.length, tarPath: path, entry })
  }

  /**
   * addFrame appends a zstd frame that holds exactly the tar members of `files`, in order (made by a read
   * worker), after whatever plaintext was written before it. `written` is called once the frame's bytes
   * are no longer needed.
   */
  async addFrame(frame: Buffer, files: readonly FramedFile[], written?: () => void): Promise<void> {
    const pending = this.frames.flush()
    if (pending) await this.send(pending)
    for (const f of files) {
      this.blobs.push({ hash: f.hash, size: f.size, tarPath: f.tarPath, entry: this.entries++ })
      this.contentBytes += f.size
    }
    await this.send(frame, written)
  }

  /**
   * addStream stores exactly `size` bytes read from `stream` (a large file), padding with zeros if the
   * file shrank while being read. It returns the SHA-256 of what was stored; the caller records the blob
   * with recordBlob only when that matches the hash of a complete, stable read.
   */
  async addStream(
    path: string,
    mode: number,
    mtimeMs: number,
    size: number,
    stream: Readable,
    hasher: (chunk: Buffer) => void,
  ): Promise<number> {
    const entry = await this.header({ path, type: 'file', size, mode, mtimeMs })
    let written = 0
    for await (const c of stream) {
      let chunk = c as Buffer
      if (written + chunk.length > size) chunk = chunk.subarray(0, size - written)
      if (chunk.length) {
        hasher(chunk)
        await this.write(chunk)
        written += chunk.length
      }
      if (written === size) break
    }
    if (written < size) await this.write(Buffer.alloc(size - written))
    await this.write(paddingFor(size))
    this.contentBytes += size
    return written === size ? entry : -1
  }

  /** recordBlob notes a blob written by addStream. */
  recordBlob(blob: PackBlob): void {
    this.blobs.push(blob)
  }

  /** addDirectory stores a directory entry (so a manual restore recreates empty Maildir folders). */
  async addDirectory(path: string, mode: number, mtimeMs: number): Promise<void> {
    await this.header({ path, type: 'directory', size: 0, mode, mtimeMs })
  }

  /** addSymlink stores a symbolic link. */
  async addSymlink(path: string, target: string, mtimeMs: number): Promise<void> {
    await this.header({ path, type: 'symlink', size: 0, mode: 0o777, mtimeMs, linkPath: target })
  }

  /** finish ends the archive, waits for zstd and gpg, and reports the sealed pack. */
  async finish(): Promise<FinishedPack> {
    try {
      await this.write(END_OF_ARCHIVE)
      const last = this.frames.flush()
      if (last) await this.send(last)
      this.sealer.input.end()
      await this.sealer.done
      // No fsync: the spool file is a temporary copy; the destination's save makes the pack durable.
      const st = await this.fh.stat()
      return {
        id: this.id,
        spoolPath: this.spoolPath,
        size: st.size,
        contentBytes: this.contentBytes,
        blobs: this.blobs,
        entries: this.entries,
      }
    } catch (err) {
      this.sealer.kill()
      await fs.rm(this.spoolPath, { force: true })
      throw this.explain(err)
    } finally {
      await this.fh.close()
    }
  }

  /** abort stops the processes and removes the spool file. */
  async abort(): Promise<void> {
    this.sealer.kill()
    this.sealer.input.destroy()
    await this.sealer.done.catch(() => {})
    await this.fh.close().catch(() => {})
    await fs.rm(this.spoolPath, { force: true })
  }
}
