// Why: one backup run, in the repository's write order (docs/design.md, "Write order"), as stages:
// open the repository under the lock; scan the source (on worker threads) while the index loads;
// adopt the packs a killed run uploaded; compare the scan with the index; pack and upload what is new
// (packer.ts); work out the run's changes; write the one commit that makes the snapshot real; clean up
// what killed runs left; then, when worth it, compact. A kill at any instant leaves the last commit
// intact, and the next run adopts the packs already uploaded.

import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { worthCompacting } from '../../core/compaction.js'
import { type ChangeCounts, diffScan, fileAdds, updateFacts } from '../../core/diff.js'
import { DEFAULT_EXCLUDES } from '../../core/excludes.js'
import { HashSet } from '../../core/hash-set.js'
import { planPacks } from '../../core/plan.js'
import { EntryList } from '../../core/wire-lists.js'
import { canDecrypt } from '../../crypto/keyring.js'
import { RepositoryLockedError, UsageError } from '../../errors.js'
import { scanTreeInWorker } from '../../pipeline/scanner.js'
import { expiredSnapshots } from '../../repo/commit-writer.js'
import { compactRepository } from '../../repo/compaction.js'
import { Repository, withRepository } from '../../repo/repository.js'
import { silent } from '../../ui/progress.js'
import { safeText } from '../../util/terminal-text.js'
import { Packer } from './packer.js'
import { type BackupOptions, type BackupSummary, excludedBy, summarize } from './summary.js'

export type { BackupOptions, BackupSummary } from './summary.js'

/** backup runs one backup of `source` into the repository at `storage`. */
export async function backup(o: BackupOptions): Promise<BackupSummary> {
  const t0 = Date.now()
  const progress = o.progress ?? silent
  const st = await fs.stat(o.source).catch(() => null)
  if (!st) throw new UsageError(`${o.source}: source folder does not exist`)
  if (!st.isDirectory()) throw new UsageError(`${o.source}: source is not a folder`)
  progress({ type: 'phase', phase: 'lock' })
  const repo = await Repository.open(o, { lock: o.dryRun ? 'none' : 'backup', command: 'backup' })
  let compactAfter = false
  let result: BackupSummary
  try {
    ;({ result, compactAfter } = await run(repo, o, t0))
  } finally {
    await repo.close()
  }
  if (compactAfter && o.autoCompact !== false) return autoCompact(o, result)
  return result
}

async function run(
  repo: Repository,
  o: BackupOptions,
  t0: number,
): Promise<{ result: BackupSummary; compactAfter: boolean }> {
  const progress = o.progress ?? silent
  const dryRun = Boolean(o.dryRun)
  progress({ type: 'phase', phase: 'index' })
  // The scan runs on worker threads while the index loads here. seb's own folders inside the source
  // (the repository itself, the cache, the machine data) are never backed up.
  const own = ownFoldersInside(o.source, repo)
  for (const rel of own)
    progress({
      type: 'warning',
      message: `${rel}: inside the source, and seb's own (repository, cache or data): left out`,
    })
  const patterns = [
    ...(o.defaultExcludes === false ? [] : DEFAULT_EXCLUDES),
    ...(o.excludes ?? []),
    ...own.map((rel) => `/${escapeGlob(rel)}`),
  ]
  const stopScan = new AbortController()
  const forward = () => stopScan.abort(o.signal?.reason)
  o.signal?.addEventListener('abort', forward, { once: true })
  const scanning = scanTreeInWorker(o.source, patterns, stopScan.signal).finally(() =>
    o.signal?.removeEventListener('abort', forward),
  )
  scanning.catch(() => {}) // awaited below
  const loaded = await repo.loadState().catch((err: unknown) => {
    stopScan.abort()
    throw err
  })
  for (const d of loaded.damaged)
    progress({ type: 'warning', message: `${d.error}; continuing from the newest readable commit` })
  const { state } = loaded
  // Another folder into this repository would record all of its mail as deleted.
  const source = path.resolve(o.source)
  const last = state.snapshots[state.snapshots.length - 1]
  if (last && last.source !== source && !o.allowNewSource) {
    stopScan.abort()
    throw new UsageError(
      `${repo.storage.location} holds the backup of ${safeText(last.source)}, not of ${source}: backing it up here would record every message of ${safeText(last.source)} as deleted; give --allow-new-source if the Maildir moved on purpose, or back ${source} up to a repository of its own`,
    )
  }
  // Packs uploaded by a run that was killed before its commit: reuse them (restic#59).
  const adopted = dryRun ? [] : await repo.adoptUploaded(state)

  progress({ type: 'phase', phase: 'scan' })
  const scan = await scanning
  const diff = diffScan(state.live, loaded.facts, scan.entries)
  const bytesToRead = diff.toHash.reduce((n, e) => n + e.size, 0)
  progress({ type: 'scanned', ...scan.entries.totals(), toRead: diff.toHash.length, bytesToRead })

  // What goes into packs besides file content: new folders (so a manual restore recreates empty
  // Maildir folders) and symlinks.
  const meta = diff.metaAdds.filter((e) => e[1] === 'l' || state.live.kindOf(e[0]) !== 'd')
  const plans = planPacks(diff.toHash, repo.config.packBytes)
  if (!plans.length && meta.length) plans.push([])
  const packsPlanned = plans.length
  // From here the plans hold the scan entries to read, and each lets its own go once handed out.
  const filesToRead = diff.toHash.length
  diff.toHash.length = 0

  progress({ type: 'phase', phase: 'pack' })
  const packer = new Packer(repo, {
    source: o.source,
    state,
    adopted,
    dryRun,
    workers: o.workers,
    progress,
    signal: o.signal,
    filesTotal: filesToRead,
    bytesTotal: bytesToRead,
  })
  await packer.run(plans, meta)

  // The run's changes. Paths that could not be read keep their last version: only what is really gone
  // is deleted.
  const unreadable = [...scan.unreadable.map((u) => ({ ...u })), ...packer.unreadable]
  const keep = new Set(unreadable.map((u) => u.path))
  const keptDirs = unreadable.map((u) => `${u.path}/`)
  const deleted = diff.deleted.filter((p) => !keep.has(p) && !keptDirs.some((d) => p.startsWith(d)))
  for (const p of packer.vanished) if (state.live.has(p) && !deleted.includes(p)) deleted.push(p)
  const adds = new EntryList()
  for (const e of diff.metaAdds) adds.push(...e)
  const files = fileAdds(state.live, packer.hashed, deleted, adds)
  const counts: ChangeCounts = { ...files.counts, unchanged: files.counts.unchanged + diff.unchanged }
  // Keyed by the index's own path strings where it has them: a path is held once, not per table.
  const facts = updateFacts(
    loaded.facts,
    scan.entries,
    new Set(packer.hashed.pathList()),
    keep,
    (p) => state.live.canonicalPath(p) ?? p,
  )
  // The per-file working lists are not needed any more: let them go before the commit, which is
  // where a first backup's memory peaks.
  packer.forget()
  scan.entries.clear()
  const common = {
    counts,
    bytesRead: packer.bytesRead,
    bytesNew: packer.bytesNew,
    t0,
    unreadable,
    skipped: scan.skipped,
    excluded: excludedBy(patterns, scan.excludedCounts),
    rebuilt: loaded.rebuilt,
  }
  const seq = (loaded.head?.seq ?? 0) + 1
  if (dryRun) {
    const result = summarize({
      ...common,
      snapshot: null,
      seq,
      dryRun: true,
      files: 0,
      bytes: 0,
      bytesUploaded: 0,
      packsWritten: packsPlanned,
      indexBytes: 0,
      excludedPaths: scan.excludedPaths,
    })
    return { result, compactAfter: false }
  }

  progress({ type: 'phase', phase: 'commit' })
  const host = o.host ?? os.hostname()
  const forget = expiredSnapshots(state, repo.config.retentionDays, o.now?.() ?? Date.now())
  const written = packer.written
  const stored = new HashSet()
  for (const p of written) for (const b of p[3]) stored.add(b[0])
  const committed = await repo.commit(
    loaded,
    {
      packs: written,
      dropPacks: [],
      add: adds,
      del: deleted,
      forget,
      twins: packer.twins,
      // A message's headers are recorded with its content: only for contents this commit stores.
      headers: packer.headers.retain((hash) => stored.has(hash)),
    },
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
        uploaded: packer.bytesUploaded,
        packsWritten: written.length - adopted.length,
      }
    },
  )
  const snapshot = committed.snapshot!

  progress({ type: 'phase', phase: 'cleanup' })
  // After damage, packs only the unreadable commits knew of are kept: a repaired index may need them.
  if (!loaded.damaged.length)
    await repo
      .removeOrphans(state, loaded, committed.checkpoint ? committed.previousCheckpoint : 0)
      .catch((err: unknown) => {
        progress({
          type: 'warning',
          message: `cleanup skipped: ${err instanceof Error ? err.message : String(err)}`,
        })
      })
  // The dead share only grows when something is deleted or forgotten: no need to look otherwise.
  const compactAfter =
    (deleted.length > 0 || forget.length > 0 || adopted.length > 0) && worthCompacting(state)
  const result = summarize({
    ...common,
    snapshot: snapshot.id,
    seq,
    dryRun: false,
    files: snapshot.files,
    bytes: snapshot.bytes,
    bytesUploaded: packer.bytesUploaded + committed.ref.size,
    packsWritten: written.length - adopted.length,
    indexBytes: committed.ref.size,
    excludedPaths: [],
  })
  return { result, compactAfter }
}

/**
 * autoCompact compacts after the backup is committed and its lock released (so a failure here loses
 * nothing), under an exclusive lock of its own: it is skipped, with a note, while readers hold theirs.
 * Rewriting packs needs the secret key; with public keys only it still drops packs whose content is all
 * dead.
 */
async function autoCompact(o: BackupOptions, result: BackupSummary): Promise<BackupSummary> {
  const progress = o.progress ?? silent
  try {
    const c = await withRepository(o, { lock: 'exclusive', command: 'compact' }, async (repo) =>
      compactRepository(repo, await repo.loadState(), {
        now: o.now,
        progress,
        dropOnly: !(await canDecrypt(repo.ctx)),
      }),
    )
    return {
      ...result,
      packsRewritten: c.packsRewritten,
      packsDropped: c.packsDropped,
      bytesUploaded: result.bytesUploaded + c.bytesUploaded,
    }
  } catch (err) {
    const why =
      err instanceof RepositoryLockedError
        ? 'the repository is in use by another run'
        : err instanceof Error
          ? err.message
          : String(err)
    progress({ type: 'warning', message: `automatic compaction skipped: ${why}` })
    return result
  }
}

/** ownFoldersInside lists seb's own folders (repository, cache, machine data) that lie inside `source`, relative to it. */
function ownFoldersInside(source: string, repo: Repository): string[] {
  const root = path.resolve(source)
  const own = [repo.storage.localPath?.({ type: 'config', name: '' }), repo.cache.dir, repo.data.base]
    .filter((p): p is string => Boolean(p))
    .map((p, i) => (i === 0 ? path.dirname(path.resolve(p)) : path.resolve(p)))
  const out = new Set<string>()
  for (const p of own) {
    const rel = path.relative(root, p)
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) out.add(rel.split(path.sep).join('/'))
  }
  return [...out]
}

/** escapeGlob makes a path match itself as a glob. */
function escapeGlob(p: string): string {
  return p.replace(/[\\*?[\]{}()!+@]/g, (c) => `\\${c}`)
}
