// Why: the one way a run ends — build the commit record from its changes, decide delta or checkpoint,
// write it (the commit point), then bring the local cache up to date. Backup and compaction share it,
// so the write order of docs/design.md holds for both.
import { type CommitRecord, emptyCommit, type WireEntry, type WirePack } from '../core/commit-codec.js'
import type { FactsUpdate } from '../core/diff.js'
import type { SnapshotInfo } from '../core/model.js'
import type { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import type { Storage } from '../storage/storage.js'
import { LOG_MAX, type LocalCache } from './cache.js'
import { type CommitRef, type HardLink, writeCommit } from './commits.js'
import type { Journal } from './journal.js'
import type { LoadedState } from './state-loader.js'

/**
 * CHECKPOINT_SHARE: a checkpoint (the whole index in one commit) is written when the deltas written
 * since the last one (or since the first commit) add up to this share of its size. A rebuild then reads
 * at most 1.5× one checkpoint, and a mailbox's daily deltas (tens of kB against an index of ~13 MB at
 * 87,000 files) trigger one only every few months instead of re-uploading the index monthly.
 */
export const CHECKPOINT_SHARE = 0.5
/** CHECKPOINT_MAX_DELTAS: and at the latest after this many deltas, to bound the replay. */
export const CHECKPOINT_MAX_DELTAS = 500

/** needsCheckpoint applies the consolidation rule to the commits on the destination. */
export function needsCheckpoint(commits: readonly CommitRef[], checkpointSeq: number): boolean {
  const baseSeq = checkpointSeq || 1
  const base = commits.find((c) => c.seq === baseSeq)
  if (!base) return true // the base is gone (damage): consolidate
  const since = commits.filter((c) => c.seq > baseSeq)
  const bytes = since.reduce((n, c) => n + c.size, 0)
  return since.length >= CHECKPOINT_MAX_DELTAS || bytes >= CHECKPOINT_SHARE * base.size
}

/** Changes are what one run adds to the index. */
export interface Changes {
  readonly packs: WirePack[]
  readonly dropPacks: string[]
  readonly add: WireEntry[]
  readonly del: string[]
  readonly forget: number[]
}

/** Committed says what was written. */
export interface Committed {
  readonly ref: CommitRef
  readonly checkpoint: boolean
  /** seq of the checkpoint before this commit (commits older than it may now be removed) */
  readonly previousCheckpoint: number
  readonly snapshot: SnapshotInfo | null
}

/**
 * commitChanges applies `changes` to the loaded state and writes the commit. `makeSnapshot` is called
 * with the new state to describe the snapshot (null for a maintenance commit).
 */
export async function commitChanges(
  storage: Storage,
  ctx: GpgContext,
  cache: LocalCache,
  journal: Journal,
  loaded: LoadedState,
  changes: Changes,
  facts: FactsUpdate,
  makeSnapshot: ((state: RepoState, seq: number) => SnapshotInfo) | null,
): Promise<Committed> {
  const { state } = loaded
  const seq = (loaded.head?.seq ?? 0) + 1
  const previousCheckpoint = state.checkpointSeq
  const time = new Date().toISOString()
  const delta: CommitRecord = { ...emptyCommit('delta', seq, null, time), ...changes }
  // After a fall-back past a damaged commit the state is older than the head: the new commit cannot
  // be a delta on the head, so it is written as a checkpoint of the whole state.
  const mustCheckpoint = state.seq !== (loaded.head?.seq ?? 0)
  if (mustCheckpoint) state.seq = seq - 1
  state.applyCommit(delta)
  let snapshot: SnapshotInfo | null = null
  if (makeSnapshot) {
    snapshot = makeSnapshot(state, seq)
    state.snapshots.push(snapshot)
  }
  const checkpoint = mustCheckpoint || (seq > 1 && needsCheckpoint(loaded.commits, previousCheckpoint))
  const record: CommitRecord = checkpoint
    ? { ...emptyCommit('checkpoint', seq, snapshot, time), ...state.checkpointLists() }
    : { ...delta, snapshot }
  if (checkpoint) state.checkpointSeq = seq
  const links = hardLinks(state, checkpoint ? null : changes.add)
  const ref = await writeCommit(storage, ctx, record, links, cache.spoolDir)
  // ---- committed ----
  // The cache follows: a small log line on top of its state file for a delta, the whole state after a
  // checkpoint, when the log is long, or when the cache was not at the previous head.
  const base = loaded.cacheBase
  if (!checkpoint && base && loaded.cacheLogLines < LOG_MAX && !loaded.rebuilt)
    await cache.append(ref.name, base, record, facts)
  else await cache.save(ref.name, state, facts.table)
  await journal.clear()
  await cache.cleanSpool()
  return { ref, checkpoint, previousCheckpoint, snapshot }
}

/** hardLinks lists files whose content is stored under another path (all live files when `adds` is null). */
function hardLinks(state: RepoState, adds: readonly WireEntry[] | null): HardLink[] {
  const links: HardLink[] = []
  const linkFor = (p: string, ref: string, mtimeMs: number, mode: number) => {
    const row = state.blobs.locate(ref)
    if (row < 0) return
    const target = state.blobs.tarPathAt(row)
    if (target !== p) links.push({ path: p, target, mtimeMs, mode })
  }
  if (adds) {
    for (const [p, kind, ref, , mtimeMs, mode] of adds) if (kind === 'f') linkFor(p, ref, mtimeMs, mode)
  } else for (const v of state.live.values()) if (v.kind === 'f') linkFor(v.path, v.ref, v.mtimeMs, v.mode)
  return links
}

/** expiredSnapshots lists snapshots older than the retention period (never the newest). */
export function expiredSnapshots(state: RepoState, retentionDays: number, now = Date.now()): number[] {
  const limit = now - retentionDays * 86_400_000
  const snaps = state.snapshots
  return snaps
    .slice(0, -1)
    .filter((s) => Date.parse(s.time) < limit)
    .map((s) => s.seq)
}
