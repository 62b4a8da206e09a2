// Why: one backup run, in the repository's write order (docs/design.md, "Write order"): take the lock,
// load the state, scan, read and hash what changed, stream new content into packs (tar | zstd | gpg,
// several at once) and upload them, journalling each; then write the one commit object that makes the
// snapshot real; then update the cache and remove what killed runs left behind. A kill at any instant
// leaves the last commit intact, and the next run adopts the packs already uploaded.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { WireEntry, WirePack } from '../core/commit-codec.js'
import { planCompaction } from '../core/compaction.js'
import { type ChangeCounts, diffScan, fileAdds, HashedFiles, updateFacts } from '../core/diff.js'
import { DEFAULT_EXCLUDES } from '../core/excludes.js'
import type { ScanEntry } from '../core/model.js'
import { encodePath } from '../core/path-bytes.js'
import { cutBySize, planPacks } from '../core/plan.js'
import type { RepoState } from '../core/repo-state.js'
import { checkTools, type GpgContext } from '../crypto/gpg.js'
import { canDecrypt } from '../crypto/keyring.js'
import { InterruptedError, UsageError } from '../errors.js'
import { MEMBER_OVERHEAD } from '../pack/member.js'
import { type FramedFile, newPackId, PackWriter } from '../pack/pack-writer.js'
import { frameBound } from '../pack/zstd.js'
import { hashFile } from '../pipeline/hash-file.js'
import { PoolClosedError, ReaderPool } from '../pipeline/reader-pool.js'
import { scanTreeInWorker } from '../pipeline/scanner.js'
import { LocalCache } from '../repo/cache.js'
import { removeOrphans } from '../repo/cleanup.js'
import { commitChanges, expiredSnapshots } from '../repo/commit-writer.js'
import { readConfig } from '../repo/config.js'
import { acquireLock } from '../repo/lock.js'
import { loadState } from '../repo/state-loader.js'
import { uploadPack } from '../repo/upload.js'
import type { Storage } from '../storage/storage.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { readAhead, TaskPool } from '../util/concurrency.js'
import { compact } from './compact.js'

/**
 * Files up to this size are read whole into a worker's memory (one read, one hash, compressed there);
 * larger ones are streamed twice and compressed on the main thread. Mail attachments rarely pass it.
 */
const WHOLE_READ_MAX = 16 * 1024 * 1024
/** Files are read and hashed on worker threads in batches of at most this many files or bytes. */
const BATCH_FILES = 128
const BATCH_BYTES = 4 * 1024 * 1024

/** BackupOptions are the inputs of one run. */
export interface BackupOptions {
  readonly source: string
  readonly storage: Storage
  readonly cacheBase: string
  readonly passphrase?: Buffer
  readonly excludes?: readonly string[]
  readonly defaultExcludes?: boolean
  readonly dryRun?: boolean
  readonly host?: string
  readonly workers?: number
  readonly progress?: ProgressSink
  readonly signal?: AbortSignal
  /** compact automatically when worth it (default true) */
  readonly autoCompact?: boolean
  /** clock, for tests of retention (ms since the epoch) */
  readonly now?: () => number
}

/** BackupSummary is what a run did (the CLI prints it; --json emits it as the final object). */
export interface BackupSummary {
  readonly snapshot: string | null
  readonly seq: number
  readonly dryRun: boolean
  readonly filesAdded: number
  readonly filesChanged: number
  readonly filesRenamed: number
  readonly filesDeleted: number
  readonly filesUnchanged: number
  readonly files: number
  readonly bytes: number
  readonly bytesRead: number
  readonly bytesNew: number
  readonly bytesUploaded: number
  readonly packsWritten: number
  readonly packsRewritten: number
  readonly packsDropped: number
  readonly indexBytes: number
  readonly durationMs: number
  readonly unreadable: { path: string; reason: string }[]
  readonly skipped: { path: string; reason: string }[]
  /** per exclude pattern, the files it left out (patterns that left out nothing are listed too) */
  readonly excluded: { pattern: string; files: number }[]
  /** with dryRun: the paths the excludes matched (a folder ends in '/'; its contents are not listed) */
  readonly excludedPaths: string[]
  readonly indexRebuilt: boolean
}

/** backup runs one backup of `source` into the repository at `storage`. */
export async function backup(o: BackupOptions): Promise<BackupSummary> {
  const t0 = Date.now()
  const progress = o.progress ?? silent
  const st = await fs.stat(o.source).catch(() => null)
  if (!st) throw new UsageError(`${o.source}: source folder does not exist`)
  if (!st.isDirectory()) throw new UsageError(`${o.source}: source is not a folder`)
  const config = await readConfig(o.storage)
  await checkTools()
  const ctx: GpgContext = { encryption: config.encryption, passphrase: o.passphrase }
  const cache = new LocalCache(o.cacheBase, config.id)
  await cache.ensure()
  progress({ type: 'phase', phase: 'lock' })
  const lock = o.dryRun ? null : await acquireLock(o.storage, 'backup', true)
  let autoCompact = false
  const result = await (async () => {
    progress({ type: 'phase', phase: 'index' })
    // The scan runs on a worker thread while the index loads here.
    const patterns = [...(o.defaultExcludes === false ? [] : DEFAULT_EXCLUDES), ...(o.excludes ?? [])]
    const stopScan = new AbortController()
    const forward = () => stopScan.abort(o.signal?.reason)
    o.signal?.addEventListener('abort', forward, { once: true })
    const scanning = scanTreeInWorker(o.source, patterns, stopScan.signal).finally(() =>
      o.signal?.removeEventListener('abort', forward),
    )
    scanning.catch(() => {}) // awaited below
    const loaded = await loadState(o.storage, ctx, cache, o.signal).catch((err: unknown) => {
      stopScan.abort()
      throw err
    })
    for (const d of loaded.damaged)
      progress({ type: 'warning', message: `${d.error}; continuing from the newest readable commit` })
    const { state } = loaded
    const written: WirePack[] = []
    /** content stored, or being stored, by this run (the index has the rest) */
    const newBlobs = new Set<string>()
    // Packs uploaded by a run that was killed before its commit: reuse them (restic#59).
    for (const p of o.dryRun ? [] : await cache.readJournal()) {
      if (state.packs.has(p[0])) continue
      const remote = await o.storage.stat({ type: 'pack', name: p[0] }).catch(() => null)
      if (remote?.size !== p[1]) continue
      written.push(p)
      for (const [hash] of p[3]) newBlobs.add(hash)
    }
    const adoptedPacks = written.length

    progress({ type: 'phase', phase: 'scan' })
    const scan = await scanning
    const diff = diffScan(state.live, loaded.facts, scan.entries)
    const bytesToRead = diff.toHash.reduce((n, e) => n + e.size, 0)
    progress({
      type: 'scanned',
      ...scan.entries.totals(),
      toRead: diff.toHash.length,
      bytesToRead,
    })

    // What goes into packs besides file content: new folders (so a manual restore recreates empty
    // Maildir folders) and symlinks.
    const meta = diff.metaAdds.filter((e) => e[1] === 'l' || state.live.kindOf(e[0]) !== 'd')
    const plans = planPacks(diff.toHash, config.packBytes)
    if (!plans.length && meta.length) plans.push([])
    // From here the plans hold the scan entries to read, and each lets its own go once handed out.
    const filesToRead = diff.toHash.length
    diff.toHash.length = 0

    const hashed = new HashedFiles()
    const hashedFile = (e: ScanEntry, hash: string, size: number) =>
      hashed.push({ path: e.path, hash, size, mtimeMs: e.mtimeMs, mode: e.mode })
    const unreadable = scan.unreadable.map((u) => ({ ...u }))
    const vanished: string[] = []
    const rootBytes = Buffer.from(o.source)
    const abs = (rel: string) => Buffer.concat([rootBytes, Buffer.from('/'), encodePath(rel)])
    let bytesRead = 0
    let bytesNew = 0
    let bytesUploaded = 0
    let filesDone = 0
    const have = (hash: string) => state.blobs.has(hash) || newBlobs.has(hash)
    const claim = (hash: string) => newBlobs.add(hash)
    const report = () =>
      progress({
        type: 'progress',
        filesDone,
        filesTotal: filesToRead,
        bytesDone: bytesRead,
        bytesTotal: bytesToRead,
        bytesUploaded,
      })

    progress({ type: 'phase', phase: 'pack' })
    const parallel = o.workers ?? Math.max(2, os.availableParallelism())
    const readers = new ReaderPool(
      plans.length ? Math.min(parallel, 4) : 0,
      frameBound(BATCH_BYTES + BATCH_FILES * MEMBER_OVERHEAD),
    )
    const workers = new TaskPool(parallel)
    const uploads = new TaskPool(o.storage.connections)
    const checkAbort = () => {
      if (o.signal?.aborted) throw new InterruptedError()
    }

    let runFailure: unknown = null
    const packOne = async (plan: ScanEntry[], withMeta: boolean): Promise<void> => {
      let writer: PackWriter | null = null
      const getWriter = async () => {
        if (!writer) {
          // Local destinations offer a temp name beside the pack's final one: the pack is then
          // encrypted straight into place and renamed, never copied.
          const id = newPackId()
          const spoolPath = o.dryRun ? undefined : await o.storage.spoolPath?.({ type: 'pack', name: id })
          writer = await PackWriter.start(ctx, cache.spoolDir, spoolPath ? { id, spoolPath } : undefined)
        }
        return writer
      }
      try {
        if (withMeta && !o.dryRun) {
          for (const [p, kind, ref, , mtimeMs, mode] of meta) {
            const w = await getWriter()
            if (kind === 'd') await w.addDirectory(p, mode, mtimeMs)
            else await w.addSymlink(p, ref, mtimeMs)
          }
        }
        const small = plan.filter((e) => e.size <= WHOLE_READ_MAX)
        const large = plan.filter((e) => e.size > WHOLE_READ_MAX)
        // A batch is read, decided on and compressed in one go, ahead of the frames still going into
        // gpg: a worker holding a read batch would otherwise wait, idle, until the frames before it
        // were written.
        for await (const { frame, framed } of readAhead(
          cutBySize(small, BATCH_BYTES, BATCH_FILES),
          2,
          async (batch) => {
            const read = await readers.read(rootBytes, batch)
            const members: number[] = []
            const framed: FramedFile[] = []
            for (let i = 0; i < batch.length; i++) {
              const e = batch[i]!
              const r = read.results[i]!
              filesDone++
              if (r.error !== null) {
                problem(e.path, Object.assign(new Error(r.error), { code: r.error }))
                continue
              }
              bytesRead += r.size
              hashedFile(e, r.hash, r.size)
              if (!have(r.hash)) {
                claim(r.hash)
                bytesNew += r.size
                members.push(i)
                framed.push({ hash: r.hash, size: r.size, tarPath: e.path })
              }
            }
            return { frame: await read.pack(o.dryRun ? [] : members), framed }
          },
        )) {
          checkAbort()
          if (frame) {
            try {
              await (await getWriter()).addFrame(frame.bytes, framed, frame.release)
            } catch (err) {
              frame.release()
              throw err
            }
          }
          report()
        }
        for (const e of large) {
          checkAbort()
          filesDone++
          await storeLarge(e, getWriter)
          report()
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
            const wire = await uploadPack(o.storage, cache, done, o.signal)
            for (const b of done.blobs) newBlobs.add(b.hash)
            written.push(wire)
            bytesUploaded += done.size
            report()
          })
        }
      } catch (err) {
        // The run is failing: stop the read workers now, so that no other task waits for one held by a
        // batch this task will never pack.
        if (!(err instanceof PoolClosedError)) runFailure ??= err
        const stopping = readers.close()
        if (writer) await (writer as PackWriter).abort()
        await stopping
        throw err
      }
    }

    const problem = (p: string, err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') vanished.push(p)
      else {
        const reason =
          err.code === 'EACCES' || err.code === 'EPERM' ? 'permission denied' : (err.code ?? err.message)
        unreadable.push({ path: p, reason })
        progress({
          type: 'warning',
          path: p,
          message: `${p}: cannot read (${reason}); kept as in the last backup`,
        })
      }
    }

    const storeLarge = async (e: ScanEntry, getWriter: () => Promise<PackWriter>) => {
      // Large files are streamed twice: once to hash (is it new?), once into the pack, and the second
      // pass must hash the same, or the file changed while being read and is left for the next run.
      let hashing: { hash: string; size: number }
      try {
        hashing = await hashFile(abs(e.path))
      } catch (err) {
        problem(e.path, err as NodeJS.ErrnoException)
        return
      }
      const { hash, size } = hashing
      bytesRead += size
      if (have(hash)) {
        hashedFile(e, hash, size)
        return
      }
      claim(hash)
      bytesNew += size
      if (o.dryRun) {
        hashedFile(e, hash, size)
        return
      }
      const w = await getWriter()
      const second = createHash('sha256')
      let entry = -1
      try {
        entry = await w.addStream(
          e.path,
          e.mode,
          e.mtimeMs,
          size,
          createReadStream(abs(e.path), { highWaterMark: 1024 * 1024 }),
          (c) => second.update(c),
        )
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code) {
          problem(e.path, err as NodeJS.ErrnoException)
          newBlobs.delete(hash)
          return
        }
        throw err
      }
      if (entry < 0 || second.digest('hex') !== hash) {
        newBlobs.delete(hash)
        progress({
          type: 'warning',
          path: e.path,
          message: `${e.path}: changed while being read; it will be saved by the next run`,
        })
        return
      }
      w.recordBlob({ hash, size, tarPath: e.path, entry })
      hashedFile(e, hash, size)
    }

    try {
      for (let i = 0; i < plans.length; i++) {
        checkAbort()
        const plan = plans[i]!
        plans[i] = [] // the entries live as long as their pack is being made, not the whole run
        await workers.add(() => packOne(plan, i === 0))
      }
      await workers.wait()
      await uploads.wait()
    } catch (err) {
      // Free whoever waits for a read worker, so that every task ends before the error is reported.
      await readers.close()
      await workers.wait().catch(() => {})
      await uploads.wait().catch(() => {})
      if (o.signal?.aborted) throw new InterruptedError()
      // The first real failure, not a task that stopped because the pool closed.
      throw runFailure ?? err
    } finally {
      await readers.close()
    }
    checkAbort()

    // Paths that could not be read keep their last version: only what is really gone is deleted.
    const keep = new Set(unreadable.map((u) => u.path))
    const keptDirs = unreadable.map((u) => `${u.path}/`)
    const deleted = diff.deleted.filter((p) => !keep.has(p) && !keptDirs.some((d) => p.startsWith(d)))
    for (const p of vanished) if (state.live.has(p) && !deleted.includes(p)) deleted.push(p)
    const files = fileAdds(state.live, hashed, deleted)
    const counts: ChangeCounts = { ...files.counts, unchanged: files.counts.unchanged + diff.unchanged }
    const adds: WireEntry[] = [...diff.metaAdds, ...files.adds]

    // Keyed by the index's own path strings where it has them: a path is held once, not per table.
    const facts = updateFacts(
      loaded.facts,
      scan.entries,
      new Set(hashed.pathList()),
      keep,
      (p) => state.live.canonicalPath(p) ?? p,
    )

    // The per-file working lists are not needed any more: let them go before the commit, which is
    // where a first backup's memory peaks.
    hashed.clear()
    scan.entries.clear()
    plans.length = 0
    newBlobs.clear()
    const seq = (loaded.head?.seq ?? 0) + 1
    if (o.dryRun) {
      return summarize({
        snapshot: null,
        seq,
        dryRun: true,
        counts,
        files: 0,
        bytes: 0,
        bytesRead,
        bytesNew,
        bytesUploaded: 0,
        packsWritten: plans.length,
        indexBytes: 0,
        t0,
        unreadable,
        skipped: scan.skipped,
        excluded: excludedBy(patterns, scan.excludedCounts),
        excludedPaths: scan.excludedPaths,
        rebuilt: loaded.rebuilt,
      })
    }

    progress({ type: 'phase', phase: 'commit' })
    const host = o.host ?? os.hostname()
    const forget = expiredSnapshots(state, config.retentionDays, o.now?.() ?? Date.now())
    const committed = await commitChanges(
      o.storage,
      ctx,
      cache,
      loaded,
      { packs: written, dropPacks: [], add: adds, del: deleted, forget },
      facts,
      (st, seq) => {
        const { files, bytes } = st.live.fileTotals()
        return {
          seq,
          id: randomBytes(4).toString('hex'),
          time: new Date(o.now?.() ?? Date.now()).toISOString(),
          host,
          source: path.resolve(o.source),
          files,
          bytes,
          uploaded: bytesUploaded,
          packsWritten: written.length - adoptedPacks,
        }
      },
    )
    const snapshot = committed.snapshot!
    const ref = committed.ref
    const checkpoint = committed.checkpoint
    const prevCheckpoint = committed.previousCheckpoint

    progress({ type: 'phase', phase: 'cleanup' })
    // After damage, packs only the unreadable commits knew of are kept: a repaired index may need them.
    if (!loaded.damaged.length)
      await removeOrphans(o.storage, state, loaded.commits, checkpoint ? prevCheckpoint : 0).catch(
        (err: unknown) => {
          progress({
            type: 'warning',
            message: `cleanup skipped: ${err instanceof Error ? err.message : String(err)}`,
          })
        },
      )
    // The dead share only grows when something is deleted or forgotten: no need to look otherwise.
    autoCompact = (deleted.length > 0 || forget.length > 0 || adoptedPacks > 0) && worthCompacting(state)
    return summarize({
      snapshot: snapshot.id,
      seq,
      dryRun: false,
      counts,
      files: snapshot.files,
      bytes: snapshot.bytes,
      bytesRead,
      bytesNew,
      bytesUploaded: bytesUploaded + ref.size,
      packsWritten: written.length - adoptedPacks,
      indexBytes: ref.size,
      t0,
      unreadable,
      skipped: scan.skipped,
      excluded: excludedBy(patterns, scan.excludedCounts),
      excludedPaths: [],
      rebuilt: loaded.rebuilt,
    })
  })().finally(() => lock?.release())
  if (autoCompact && o.autoCompact !== false) {
    // Compaction rewrites packs, which needs the secret key; with public keys only it can still drop
    // packs whose content is all dead. It runs after the backup is committed and unlocked: a failure
    // here loses nothing.
    const c = await compact({
      storage: o.storage,
      cacheBase: o.cacheBase,
      passphrase: o.passphrase,
      progress,
      signal: o.signal,
      now: o.now,
      dropOnly: !(await canDecrypt(ctx)),
    }).catch((err: unknown) => {
      progress({
        type: 'warning',
        message: `automatic compaction skipped: ${err instanceof Error ? err.message : String(err)}`,
      })
      return null
    })
    if (c)
      return {
        ...result,
        packsRewritten: c.packsRewritten,
        packsDropped: c.packsDropped,
        bytesUploaded: result.bytesUploaded + c.bytesUploaded,
      }
  }
  return result
}

/** AUTO_COMPACT_DEAD_SHARE: a backup compacts by itself when this share of stored content is dead. */
export const AUTO_COMPACT_DEAD_SHARE = 0.2

function worthCompacting(state: RepoState): boolean {
  const plan = planCompaction(state, [])
  const total = plan.liveBytes + plan.deadBytes
  return plan.drop.length > 0 || (total > 0 && plan.deadBytes / total >= AUTO_COMPACT_DEAD_SHARE)
}

/** excludedBy pairs each exclude pattern with the number of files it left out. */
function excludedBy(patterns: readonly string[], counts: readonly number[]): BackupSummary['excluded'] {
  return patterns.map((pattern, i) => ({ pattern, files: counts[i] ?? 0 }))
}

function summarize(a: {
  snapshot: string | null
  seq: number
  dryRun: boolean
  counts: ChangeCounts
  files: number
  bytes: number
  bytesRead: number
  bytesNew: number
  bytesUploaded: number
  packsWritten: number
  indexBytes: number
  t0: number
  unreadable: { path: string; reason: string }[]
  skipped: { path: string; reason: string }[]
  excluded: { pattern: string; files: number }[]
  excludedPaths: string[]
  rebuilt: boolean
}): BackupSummary {
  return {
    snapshot: a.snapshot,
    seq: a.seq,
    dryRun: a.dryRun,
    filesAdded: a.counts.added,
    filesChanged: a.counts.changed,
    filesRenamed: a.counts.renamed,
    filesDeleted: a.counts.deleted,
    filesUnchanged: a.counts.unchanged,
    files: a.files,
    bytes: a.bytes,
    bytesRead: a.bytesRead,
    bytesNew: a.bytesNew,
    bytesUploaded: a.bytesUploaded,
    packsWritten: a.packsWritten,
    packsRewritten: 0,
    packsDropped: 0,
    indexBytes: a.indexBytes,
    durationMs: Date.now() - a.t0,
    unreadable: a.unreadable,
    skipped: a.skipped,
    excluded: a.excluded,
    excludedPaths: a.excludedPaths,
    indexRebuilt: a.rebuilt,
  }
}
