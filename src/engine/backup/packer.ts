// Why: the pack stage of a backup — the part that touches file bytes. The files to read arrive as pack
// plans; read workers read, hash and compress them in batches, this stage keeps what is new (content
// not yet stored), streams it into packs (tar | zstd | gpg, several packs at once) and uploads each
// finished pack. Large files are streamed twice (hash, then pack). What it read, stored and uploaded
// is kept for the commit.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import os from 'node:os'
import type { WireEntry, WirePack, WireTwin } from '../../core/commit-codec.js'
import { HashedFiles } from '../../core/diff.js'
import { HashSet } from '../../core/hash-set.js'
import type { ScanEntry } from '../../core/model.js'
import { encodePath } from '../../core/path-bytes.js'
import { cutBySize } from '../../core/plan.js'
import type { RepoState } from '../../core/repo-state.js'
import { NormTable } from '../../core/twin-index.js'
import { BlobList } from '../../core/wire-lists.js'
import { InterruptedError } from '../../errors.js'
import { MEMBER_OVERHEAD } from '../../pack/member.js'
import { type FramedFile, newPackId, PackWriter } from '../../pack/pack-writer.js'
import { frameBound } from '../../pack/zstd.js'
import { hashFile } from '../../pipeline/hash-file.js'
import { PoolClosedError, ReaderPool } from '../../pipeline/reader-pool.js'
import { HeaderSpool } from '../../repo/header-spool.js'
import type { Repository } from '../../repo/repository.js'
import type { ProgressSink } from '../../ui/progress.js'
import { readAhead, TaskPool } from '../../util/concurrency.js'
import { errnoText } from '../../util/errno.js'

/**
 * Files up to this size are read whole into a worker's memory (one read, one hash, compressed there);
 * larger ones are streamed twice and compressed on the main thread. Mail attachments rarely pass it.
 */
export const WHOLE_READ_MAX = 16 * 1024 * 1024
/** Files are read and hashed on worker threads in batches of at most this many files or bytes. */
const BATCH_FILES = 128
const BATCH_BYTES = 4 * 1024 * 1024

/** PackerOptions are what the pack stage needs besides the repository. */
export interface PackerOptions {
  readonly source: string
  readonly state: RepoState
  /** packs a killed run uploaded, adopted by this one: their content is stored */
  readonly adopted: readonly WirePack[]
  readonly dryRun: boolean
  readonly workers?: number
  readonly progress: ProgressSink
  readonly signal?: AbortSignal
  /** files to read, and bytes, for progress */
  readonly filesTotal: number
  readonly bytesTotal: number
}

/** Packer runs the pack stage of one backup; `run` once, then read its results. */
export class Packer {
  /** the files read: path, hash, size, mtime, mode */
  readonly hashed = new HashedFiles()
  /** packs written by this run (after the adopted ones) */
  readonly written: WirePack[]
  readonly unreadable: { path: string; reason: string }[] = []
  /** files that vanished between the scan and their reading (renamed away: picked up by their new name) */
  readonly vanished: string[] = []
  /** twins found by this run: stored as a patch of a content already stored (docs/design.md) */
  readonly twins: WireTwin[] = []
  /** search headers of the messages this run stores */
  readonly headers: HeaderSpool
  bytesRead = 0
  bytesNew = 0
  bytesUploaded = 0
  /** bytes of content recognised as twins (not uploaded) */
  bytesTwins = 0
  private filesDone = 0
  /** content stored, or being stored, by this run (the index has the rest) */
  private readonly newBlobs = new HashSet()
  /** twins of this run, by hash */
  private readonly newTwins = new Set<string>()
  /** contents with noise stored by this run: normalized hash → hash, and back (normFor) */
  private readonly newNorms = new NormTable(true)
  private readonly rootBytes: Buffer

  constructor(
    private readonly repo: Repository,
    private readonly o: PackerOptions,
  ) {
    this.written = [...o.adopted]
    this.headers = new HeaderSpool(repo.cache.spoolDir)
    for (const p of o.adopted) for (const [hash] of p[3]) this.newBlobs.add(hash)
    this.rootBytes = Buffer.from(o.source)
  }

  private have(hash: string): boolean {
    return this.o.state.hasContent(hash) || this.newBlobs.has(hash) || this.newTwins.has(hash)
  }

  /**
   * twinBase is the stored content (in the index, or stored by this run) a new content with
   * normalized hash `norm` is a twin of, if any.
   */
  private twinBase(norm: string): string | undefined {
    return (
      this.o.state.twinBaseFor(norm) ??
      this.newNorms.get(norm) ??
      (this.newBlobs.has(norm) ? norm : undefined)
    )
  }

  private report(): void {
    this.o.progress({
      type: 'progress',
      filesDone: this.filesDone,
      filesTotal: this.o.filesTotal,
      bytesDone: this.bytesRead,
      bytesTotal: this.o.bytesTotal,
      bytesUploaded: this.bytesUploaded,
    })
  }

  private checkAbort(): void {
    if (this.o.signal?.aborted) throw new InterruptedError()
  }

  private hashedFile(e: ScanEntry, hash: string, size: number): void {
    this.hashed.push({ path: e.path, hash, size, mtimeMs: e.mtimeMs, mode: e.mode })
  }

  /** problem records a file that could not be read: vanished (renamed away), or unreadable (listed, exit 3). */
  private problem(p: string, err: NodeJS.ErrnoException): void {
    if (err.code === 'ENOENT') {
      this.vanished.push(p)
      return
    }
    const reason = errnoText(err)
    this.unreadable.push({ path: p, reason })
    this.o.progress({
      type: 'warning',
      path: p,
      message: `${p}: cannot read (${reason}); kept as in the last backup`,
    })
  }

  /**
   * run packs every plan (each becomes at most one pack; the first also carries `meta`: new folders
   * and symlinks), several at once, and waits for every upload.
   */
  async run(plans: ScanEntry[][], meta: readonly WireEntry[]): Promise<void> {
    const parallel = this.o.workers ?? Math.max(2, os.availableParallelism())
    const readers = new ReaderPool(
      plans.length ? Math.min(parallel, 4) : 0,
      frameBound(BATCH_BYTES + BATCH_FILES * MEMBER_OVERHEAD),
    )
    const workers = new TaskPool(parallel)
    const uploads = new TaskPool(this.repo.storage.connections)
    let runFailure: unknown = null
    const stop = async (err: unknown) => {
      // The run is failing: stop the read workers now, so that no other task waits for one held by a
      // batch that will never be packed.
      if (!(err instanceof PoolClosedError)) runFailure ??= err
      await readers.close()
    }
    try {
      for (let i = 0; i < plans.length; i++) {
        this.checkAbort()
        const plan = plans[i]!
        plans[i] = [] // the entries live as long as their pack is being made, not the whole run
        await workers.add(() => this.packOne(plan, i === 0 ? meta : [], readers, uploads, stop))
      }
      await workers.wait()
      await uploads.wait()
    } catch (err) {
      // Free whoever waits for a read worker, so that every task ends before the error is reported.
      await readers.close()
      await workers.wait().catch(() => {})
      await uploads.wait().catch(() => {})
      if (this.o.signal?.aborted) throw new InterruptedError()
      // The first real failure, not a task that stopped because the pool closed.
      throw runFailure ?? err
    } finally {
      await readers.close()
    }
    this.checkAbort()
  }

  /** packOne makes one pack of a plan: batches of small files through the workers, then large files. */
  private async packOne(
    plan: ScanEntry[],
    meta: readonly WireEntry[],
    readers: ReaderPool,
    uploads: TaskPool,
    stop: (err: unknown) => Promise<void>,
  ): Promise<void> {
    const { dryRun } = this.o
    let writer: PackWriter | null = null
    const getWriter = async () => {
      if (!writer) {
        // Local destinations offer a temp name beside the pack's final one: the pack is then
        // encrypted straight into place and renamed, never copied.
        const id = newPackId()
        const spoolPath = dryRun ? undefined : await this.repo.storage.spoolPath?.({ type: 'pack', name: id })
        writer = await PackWriter.start(
          this.repo.ctx,
          this.repo.cache.spoolDir,
          spoolPath ? { id, spoolPath } : undefined,
        )
      }
      return writer
    }
    try {
      if (!dryRun) {
        for (const [p, kind, ref, , mtimeMs, mode] of meta) {
          const w = await getWriter()
          if (kind === 'd') await w.addDirectory(p, mode, mtimeMs)
          else await w.addSymlink(p, ref, mtimeMs)
        }
      }
      const small = plan.filter((e) => e.size <= WHOLE_READ_MAX)
      const large = plan.filter((e) => e.size > WHOLE_READ_MAX)
      // A batch is read, decided on and compressed in one go, ahead of the frames still going into
      // gpg: a worker holding a read batch would otherwise wait, idle, until the frames before it were
      // written.
      for await (const { frame, framed } of readAhead(
        cutBySize(small, BATCH_BYTES, BATCH_FILES),
        2,
        (batch) => this.readBatch(batch, readers),
      )) {
        this.checkAbort()
        if (frame) {
          try {
            await (await getWriter()).addFrame(frame.bytes, framed, frame.release)
          } catch (err) {
            frame.release()
            throw err
          }
        }
        this.report()
      }
      for (const e of large) {
        this.checkAbort()
        this.filesDone++
        await this.storeLarge(e, getWriter)
        this.report()
      }
      if (writer) {
        const w: PackWriter = writer
        writer = null
        if (w.entries === 0) {
          await w.abort()
          return
        }
        const done = await w.finish()
        await uploads.add(async () => {
          const wire = this.withNorms(await this.repo.uploadPack(done))
          for (const b of done.blobs) this.newBlobs.add(b.hash)
          this.written.push(wire)
          this.bytesUploaded += done.size
          this.report()
        })
      }
    } catch (err) {
      const stopping = stop(err)
      if (writer) await (writer as PackWriter).abort()
      await stopping
      throw err
    }
  }

  /** readBatch reads and hashes a batch on a worker and has the same worker compress what is new. */
  private async readBatch(batch: ScanEntry[], readers: ReaderPool) {
    const read = await readers.read(this.rootBytes, batch)
    const members: number[] = []
    const framed: FramedFile[] = []
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!
      const r = read.results[i]!
      this.filesDone++
      if (r.error !== null) {
        this.problem(e.path, Object.assign(new Error(r.error), { code: r.error }))
        continue
      }
      this.bytesRead += r.size
      this.hashedFile(e, r.hash, r.size)
      if (this.have(r.hash)) continue
      const norm = r.noise?.norm ?? r.hash
      const base = this.twinBase(norm)
      if (base !== undefined && base !== r.hash) {
        // The same message as one stored but for sync-tool header lines: a patch, no content.
        this.newTwins.add(r.hash)
        this.twins.push([r.hash, r.size, base, r.noise?.patch ?? ''])
        this.bytesTwins += r.size
        continue
      }
      this.newBlobs.add(r.hash)
      if (r.noise) {
        this.newNorms.set(norm, r.hash)
      }
      this.bytesNew += r.size
      members.push(i)
      framed.push({ hash: r.hash, size: r.size, tarPath: e.path })
    }
    const frame = await read.pack(this.o.dryRun ? [] : members)
    this.headers.pushLines(read.headers.text, read.headers.count)
    return { frame, framed }
  }

  /** withNorms adds to a pack's contents their normalized hashes (the `b` line's sixth element). */
  private withNorms(wire: WirePack): WirePack {
    if (!this.newNorms.size) return wire
    const [id, size, contentBytes, blobs] = wire
    const out = new BlobList()
    for (const b of blobs) out.push(b[0], b[1], b[2], b[3], this.newNorms.normFor(b[0]))
    return [id, size, contentBytes, out]
  }

  /**
   * storeLarge streams a large file twice: once to hash it (is it new?), once into the pack; the second
   * pass must hash the same, or the file changed while being read and is left for the next run.
   */
  private async storeLarge(e: ScanEntry, getWriter: () => Promise<PackWriter>): Promise<void> {
    const abs = Buffer.concat([this.rootBytes, Buffer.from('/'), encodePath(e.path)])
    let hashing: { hash: string; size: number }
    try {
      hashing = await hashFile(abs)
    } catch (err) {
      this.problem(e.path, err as NodeJS.ErrnoException)
      return
    }
    const { hash, size } = hashing
    this.bytesRead += size
    if (this.have(hash) || this.o.dryRun) {
      if (!this.have(hash)) {
        this.newBlobs.add(hash)
        this.bytesNew += size
      }
      this.hashedFile(e, hash, size)
      return
    }
    this.newBlobs.add(hash)
    this.bytesNew += size
    const w = await getWriter()
    const second = createHash('sha256')
    let entry = -1
    try {
      entry = await w.addStream(
        e.path,
        e.mode,
        e.mtimeMs,
        size,
        createReadStream(abs, { highWaterMark: 1024 * 1024 }),
        (c) => second.update(c),
      )
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code) {
        this.problem(e.path, err as NodeJS.ErrnoException)
        this.newBlobs.delete(hash)
        return
      }
      throw err
    }
    if (entry < 0 || second.digest('hex') !== hash) {
      this.newBlobs.delete(hash)
      this.o.progress({
        type: 'warning',
        path: e.path,
        message: `${e.path}: changed while being read; it will be saved by the next run`,
      })
      return
    }
    w.recordBlob({ hash, size, tarPath: e.path, entry })
    this.hashedFile(e, hash, size)
  }

  /** forget lets the per-file working lists go (before the commit, where a first backup's memory peaks). */
  forget(): void {
    this.hashed.clear()
    this.newBlobs.clear()
    this.newTwins.clear()
    this.newNorms.clear()
  }
}
