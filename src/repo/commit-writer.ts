// Why: the one way a run ends — build the commit record from its changes, decide delta or checkpoint,
// and make the commit in the write order of docs/design.md (cache ahead, lock checked, commit object,
// signature = commit point, pin, cache). Backup, compaction and key rotation share it.
import {
  type CommitRecord,
  emptyCommit,
  type HeaderLines,
  headerTexts,
  type WireEntry,
  type WireHeaders,
  type WireList,
  type WirePack,
  type WireTwin,
} from '../core/commit-codec.js'
import { checkpointLines, deltaLines, shortBase } from '../core/commit-lines.js'
import type { FactsUpdate } from '../core/diff.js'
import type { SnapshotInfo } from '../core/model.js'
import type { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import type { SigningKey } from '../crypto/signing.js'
import { isValidName } from '../storage/layout.js'
import type { Storage } from '../storage/storage.js'
import { fault } from '../util/fault.js'
import { LOG_MAX, type LocalCache } from './cache.js'
import { type CommitSig, chainAfter, genesisChain, saveSig, seqOf } from './commit-sigs.js'
import { commitFrames, commitName, type HardLink, type WrittenCommit, writeCommit } from './commits.js'
import { HeaderCache } from './header-cache.js'
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
export function needsCheckpoint(commits: readonly CommitObject[], checkpointSeq: number): boolean {
  const baseSeq = checkpointSeq || 1
  const base = commits.find((c) => c.seq === baseSeq)
  if (!base) return true // the base is gone (damage): consolidate
  const since = commits.filter((c) => c.seq > baseSeq)
  const bytes = since.reduce((n, c) => n + c.size, 0)
  return since.length >= CHECKPOINT_MAX_DELTAS || bytes >= CHECKPOINT_SHARE * base.size
}

/** CommitObject is a commit object as listed: its name, sequence number and size. */
export interface CommitObject {
  readonly name: string
  readonly seq: number
  readonly size: number
}

/** Changes are what one run adds to the index. */
export interface Changes {
  readonly packs: WirePack[]
  readonly dropPacks: string[]
  readonly add: WireList<WireEntry>
  readonly del: string[]
  readonly forget: number[]
  /** twins found by a backup (docs/design.md) */
  readonly twins?: WireTwin[]
  /** search headers of the messages a backup stores */
  readonly headers?: HeaderLines
}

/** Committed says what was written. */
export interface Committed {
  readonly ref: WrittenCommit
  readonly checkpoint: boolean
  /** seq of the checkpoint before this commit (commits older than it may now be removed) */
  readonly previousCheckpoint: number
  readonly snapshot: SnapshotInfo | null
}

/** CommitContext is what making a commit needs from the opened repository. */
export interface CommitContext {
  readonly storage: Storage
  readonly ctx: GpgContext
  readonly cache: LocalCache
  readonly journal: Journal
  readonly repository: string
  /** the repository key (this machine's copy, or derived from the passphrase) */
  readonly key: SigningKey
  /** fails when this run's lock is gone: nothing is committed then */
  readonly checkLock: () => Promise<void>
  /** records the new head as this machine's pin */
  readonly pinHead: (head: CommitSig) => Promise<void>
  readonly signal?: AbortSignal
}

/**
 * commitChanges applies `changes` to the loaded state and makes the commit, in the write order of
 * docs/design.md: the cache's next state first (pending), the lock checked, the commit object, its
 * signature (the commit point), then the pin and the cache. `makeSnapshot` describes the snapshot
 * (null for a maintenance commit).
 */
export async function commitChanges(
  c: CommitContext,
  loaded: LoadedState,
  changes: Changes,
  facts: FactsUpdate,
  makeSnapshot: ((state: RepoState, seq: number) => SnapshotInfo) | null,
): Promise<Committed> {
  const { state } = loaded
  const seq = loaded.nextSeq
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
  const objects = await listCommitObjects(c.storage, c.signal)
  const checkpoint = mustCheckpoint || (seq > 1 && needsCheckpoint(objects, previousCheckpoint))
  if (checkpoint) state.checkpointSeq = seq
  const record: CommitRecord = { ...delta, snapshot }
  const headerCache = new HeaderCache(c.cache.dir)
  // A checkpoint carries the search headers of every content it keeps: the cache's and this run's.
  const kept = checkpoint ? await keptHeaders(headerCache, state, changes.headers ?? []) : null
  const lines = kept
    ? checkpointLines(state, { repository: c.repository, seq, time, snapshot }, kept.values())
    : deltaLines(
        {
          ...record,
          twins: record.twins?.map(([h, size, base, patch]) => [h, size, shortBase(state, base), patch]),
        },
        c.repository,
      )
  const name = commitName(seq)
  const links = hardLinks(state, checkpoint ? null : changes.add)
  const frames = commitFrames(seq, time, lines, links, c.cache.spoolDir)
  // 1. The cache's next state, ahead: a small log line on top of its state file for a delta; the whole
  // state after a checkpoint, when the log is long, or when the cache was not at the previous head.
  const base = loaded.cacheBase
  const after = loaded.cacheAt ?? loaded.head?.name ?? null
  if (!checkpoint && base && loaded.cacheLogLines < LOG_MAX && !loaded.rebuilt)
    await c.cache.prepare(
      { kind: 'line', commit: name, base, record: { ...record, headers: undefined }, facts },
      after,
    )
  else
    await c.cache.prepare(
      { kind: 'state', commit: name, after: after ?? '', state, facts: facts.table },
      after,
    )
  fault('cache:prepared')
  // 2. Still ours to write?
  await c.checkLock()
  // 3. The commit object, then 4. its signature: the commit point.
  const ref = await writeCommit(c.storage, c.ctx, name, frames, c.cache.spoolDir, c.signal)
  fault('commit:object-saved')
  const sig: CommitSig = {
    repository: c.repository,
    seq,
    name,
    kind: checkpoint ? 'checkpoint' : 'delta',
    time,
    size: ref.size,
    sha256: ref.sha256,
    chain: chainAfter(loaded.head?.chain ?? genesisChain(c.repository), name),
  }
  await saveSig(c.storage, sig, c.key, c.signal)
  fault('commit:signed')
  // ---- committed ----
  await c.pinHead(sig)
  await c.cache.rememberSigs(c.key.publicKey, [sig])
  await c.cache.promote(name)
  if (kept) await headerCache.write(kept.values(), name).catch(() => {})
  else await headerCache.append(changes.headers ? headerTexts(changes.headers) : [], name, after)
  await c.journal.clear()
  await c.cache.cleanSpool()
  return { ref, checkpoint, previousCheckpoint, snapshot }
}

/** listCommitObjects lists the commit objects on the destination, by seq. */
export async function listCommitObjects(storage: Storage, signal?: AbortSignal): Promise<CommitObject[]> {
  const out: CommitObject[] = []
  for await (const o of storage.list('commit', signal))
    if (isValidName('commit', o.name)) out.push({ name: o.name, seq: seqOf(o.name), size: o.size })
  return out.sort((a, b) => a.seq - b.seq || (a.name < b.name ? -1 : 1))
}

/**
 * keptHeaders gives the search headers of the contents `state` keeps (twins share their base's), from
 * the local cache and this run's.
 */
async function keptHeaders(
  cache: HeaderCache,
  state: RepoState,
  fresh: Iterable<WireHeaders>,
): Promise<Map<string, WireHeaders>> {
  const { byHash } = await cache.read().catch(() => ({ byHash: new Map<string, WireHeaders>() }))
  for (const h of fresh) byHash.set(h[0], h)
  for (const hash of byHash.keys()) if (!state.blobs.has(hash)) byHash.delete(hash)
  return byHash
}

/**
 * hardLinks lists files whose content is stored under another path (all live files when `adds` is
 * null); a twin links to its base's path (a manual restore gives it its base's noise lines).
 */
function hardLinks(state: RepoState, adds: WireList<WireEntry> | null): HardLink[] {
  const links: HardLink[] = []
  const linkFor = (p: string, hash: string, mtimeMs: number, mode: number) => {
    const ref = state.twins.get(hash)?.base ?? hash
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
