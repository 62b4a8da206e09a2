// Why: the repository-write half of compaction, shared by `seb compact` and a backup's automatic
// compaction: reclaim the space of deleted mail once it is past retention, in restic's removal order —
// write the new packs (live content of the packs being rewritten), then the commit that adds them,
// drops the old packs and forgets the expired snapshots, then delete the old packs. Rewriting a pack
// means decrypting it, so it needs the secret key (or passphrase); with public keys only, compaction
// only drops packs whose content is all dead.
import { createHash } from 'node:crypto'
import type { WirePack } from '../core/commit-codec.js'
import { type CompactionPlan, DEFAULT_REWRITE_THRESHOLD, planCompaction } from '../core/compaction.js'
import { unchangedFacts } from '../core/diff.js'
import type { RepoState } from '../core/repo-state.js'
import { DamageError } from '../errors.js'
import { readPack, wholeMembers } from '../pack/pack-reader.js'
import { PackWriter } from '../pack/pack-writer.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { fault } from '../util/fault.js'
import { expiredSnapshots } from './commit-writer.js'
import type { Repository } from './repository.js'
import type { LoadedState } from './state-loader.js'

/** CompactionOptions choose what a compaction does. */
export interface CompactionOptions {
  readonly dryRun?: boolean
  /** rewrite packs with at least this share of dead content (0..1) */
  readonly threshold?: number
  /** only drop packs whose content is all dead (no decryption needed: public keys suffice) */
  readonly dropOnly?: boolean
  readonly now?: () => number
  readonly progress?: ProgressSink
}

/** CompactSummary says what compaction did (or would do, with dryRun). */
export interface CompactSummary {
  readonly dryRun: boolean
  readonly snapshotsForgotten: number
  readonly packsDropped: number
  readonly packsRewritten: number
  readonly packsWritten: number
  readonly bytesDeleted: number
  readonly bytesUploaded: number
  readonly deadBytesBefore: number
  readonly liveBytes: number
  readonly durationMs: number
}

/** compactRepository compacts an opened repository (exclusive lock) from its loaded, undamaged index. */
export async function compactRepository(
  repo: Repository,
  loaded: LoadedState,
  o: CompactionOptions = {},
): Promise<CompactSummary> {
  const t0 = Date.now()
  const progress = o.progress ?? silent
  if (loaded.damaged.length)
    throw new DamageError(
      `${loaded.damaged[0]!.error}; compaction refuses to run on a damaged index (run seb verify)`,
    )
  const { state } = loaded
  const forget = expiredSnapshots(state, repo.config.retentionDays, o.now?.() ?? Date.now())
  const full = planCompaction(state, forget, o.threshold ?? DEFAULT_REWRITE_THRESHOLD)
  const plan: CompactionPlan = o.dropOnly
    ? { ...full, rewrite: [], keep: [...full.keep, ...full.rewrite] }
    : full
  const summary = (extra: Partial<CompactSummary>): CompactSummary => ({
    dryRun: Boolean(o.dryRun),
    snapshotsForgotten: forget.length,
    packsDropped: plan.drop.length,
    packsRewritten: plan.rewrite.length,
    packsWritten: 0,
    bytesDeleted: [...plan.drop, ...plan.rewrite].reduce((n, u) => n + u.pack.size, 0),
    bytesUploaded: 0,
    deadBytesBefore: plan.deadBytes,
    liveBytes: plan.liveBytes,
    durationMs: Date.now() - t0,
    ...extra,
  })
  if (o.dryRun || (!forget.length && !plan.drop.length && !plan.rewrite.length)) return summary({})
  progress({ type: 'phase', phase: 'compact' })
  // A dropped pack may hold the only folder entries a manual restore has: rewritePacks re-stores every
  // live folder and symlink. Writing needs public keys only; reading old packs needs the secret key.
  const written = plan.rewrite.length || plan.drop.length ? await rewritePacks(repo, state, plan) : []
  const uploaded = written.reduce((n, p) => n + p[1], 0)
  const dropPacks = [...plan.drop, ...plan.rewrite].map((u) => u.pack.id)
  const committed = await repo.commit(
    loaded,
    { packs: written, dropPacks, add: [], del: [], forget },
    unchangedFacts(loaded.facts),
    null,
  )
  fault('compact:committed')
  // ---- committed: the old packs are no longer referenced ----
  for (const id of dropPacks) {
    fault('compact:deleting')
    await repo.storage.remove({ type: 'pack', name: id }).catch(() => {})
  }
  return summary({
    packsWritten: written.length,
    bytesUploaded: uploaded + committed.ref.size,
    durationMs: Date.now() - t0,
  })
}

/**
 * rewritePacks copies the live content of the packs being rewritten into new packs (same tar paths,
 * so manual-restore hard links stay valid), plus every live folder and symlink entry, so that a manual
 * restore still recreates empty folders whose original pack is dropped.
 */
async function rewritePacks(repo: Repository, state: RepoState, plan: CompactionPlan): Promise<WirePack[]> {
  const { ctx, cache } = repo
  const live = new Set(plan.rewrite.flatMap((u) => u.liveHashes))
  const meta = new Map<string, { mode: number; mtimeMs: number }>()
  for (const v of state.live.values())
    if (v.kind === 'f' && live.has(v.ref) && !meta.has(v.ref))
      meta.set(v.ref, { mode: v.mode, mtimeMs: v.mtimeMs })
  for (const v of state.history)
    if (v.kind === 'f' && live.has(v.ref) && !meta.has(v.ref))
      meta.set(v.ref, { mode: v.mode, mtimeMs: v.mtimeMs })
  let writer = await PackWriter.start(ctx, cache.spoolDir)
  const written: WirePack[] = []
  const flush = async () => {
    if (writer.entries === 0) return writer.abort()
    const done = await writer.finish()
    const wire = await repo.uploadPack(done)
    fault('compact:pack-written')
    written.push(wire)
  }
  try {
    for (const v of [...state.live.values()].sort((a, b) => (a.path < b.path ? -1 : 1))) {
      if (v.kind === 'd') await writer.addDirectory(v.path, v.mode, v.mtimeMs)
      else if (v.kind === 'l') await writer.addSymlink(v.path, v.ref, v.mtimeMs)
    }
    const byHash = new Map<string, { pack: string; entry: number; tarPath: string }>()
    for (const h of live) {
      const loc = state.blobs.get(h)
      if (loc)
        byHash.set(`${loc.pack}:${loc.entry}`, { pack: loc.pack, entry: loc.entry, tarPath: loc.tarPath })
    }
    for (const u of plan.rewrite) {
      await readPack(
        repo.storage,
        ctx,
        u.pack.id,
        wholeMembers(
          (entry) => byHash.has(`${u.pack.id}:${entry}`),
          async (entry, buf) => {
            const want = byHash.get(`${u.pack.id}:${entry}`)!
            const hash = createHash('sha256').update(buf).digest('hex')
            const loc = state.blobs.get(hash)
            if (loc?.pack !== u.pack.id || loc.entry !== entry)
              throw new DamageError(
                `pack ${u.pack.id}: member ${entry} does not match the index; run seb verify`,
              )
            const m = meta.get(hash) ?? { mode: 0o600, mtimeMs: 0 }
            await writer.addFile(want.tarPath, m.mode, m.mtimeMs, buf, hash)
            if (writer.contentBytes >= 32 * 1024 * 1024) {
              await flush()
              writer = await PackWriter.start(ctx, cache.spoolDir)
            }
          },
        ),
        repo.signal,
      )
    }
    await flush()
  } catch (err) {
    await writer.abort().catch(() => {})
    throw err
  }
  return written
}
