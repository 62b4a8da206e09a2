// Why: the compaction policy as a pure function over the index. Deleted mail stays in its pack (the
// daily run rewrites nothing); once the snapshots that could still see it are past retention, its bytes
// are dead. A pack whose dead share reaches the threshold is rewritten with its live content only, a
// pack with no live content is dropped. Everything else is left alone, so compaction uploads only what
// it must (restic's prune with --max-unused, per pack).
import type { PackInfo, Version } from './model.js'
import type { RepoState } from './repo-state.js'

/** DEFAULT_REWRITE_THRESHOLD: a pack is rewritten when at least this share of its content is dead. */
export const DEFAULT_REWRITE_THRESHOLD = 0.1

/** PackUse is one pack's live and dead content. */
export interface PackUse {
  readonly pack: PackInfo
  readonly liveBytes: number
  readonly deadBytes: number
  readonly liveHashes: string[]
}

/** CompactionPlan says what compaction would do. */
export interface CompactionPlan {
  readonly forget: number[]
  readonly drop: PackUse[]
  readonly rewrite: PackUse[]
  readonly keep: PackUse[]
  readonly liveBytes: number
  readonly deadBytes: number
}

/** retainedHashes lists the content a state still needs once the `forget` snapshots are gone. */
export function retainedHashes(state: RepoState, forget: ReadonlySet<number>): Set<string> {
  const kept = state.snapshots.filter((s) => !forget.has(s.seq)).map((s) => s.seq)
  const visible = (v: Version) => kept.some((s) => v.from <= s && (v.to === 0 || s < v.to))
  const out = new Set<string>()
  for (const v of state.live.values()) if (v.kind === 'f') out.add(v.ref)
  for (const v of state.history) if (v.kind === 'f' && visible(v)) out.add(v.ref)
  // A twin is stored as its base: the base stays while the twin is needed.
  return state.withTwinBases(out)
}

/** planCompaction classifies every pack as keep, rewrite or drop. */
export function planCompaction(
  state: RepoState,
  forget: readonly number[],
  threshold = DEFAULT_REWRITE_THRESHOLD,
): CompactionPlan {
  const retained = retainedHashes(state, new Set(forget))
  const use = new Map<string, { live: number; liveHashes: string[]; total: number }>()
  for (const p of state.packs.values()) use.set(p.id, { live: 0, liveHashes: [], total: 0 })
  for (const [hash, loc] of state.blobs) {
    const u = use.get(loc.pack)
    if (!u) continue
    u.total += loc.size
    if (retained.has(hash)) {
      u.live += loc.size
      u.liveHashes.push(hash)
    }
  }
  const drop: PackUse[] = []
  const rewrite: PackUse[] = []
  const keep: PackUse[] = []
  let liveBytes = 0
  let deadBytes = 0
  for (const p of state.packs.values()) {
    const u = use.get(p.id)!
    // contentBytes counts every member ever written (also those whose content later turned out to be
    // stored elsewhere); blobs the index no longer locates in this pack are dead too.
    const dead = Math.max(0, p.contentBytes - u.live)
    const pu: PackUse = { pack: p, liveBytes: u.live, deadBytes: dead, liveHashes: u.liveHashes }
    liveBytes += u.live
    deadBytes += dead
    if (u.live === 0 && u.liveHashes.length === 0 && p.contentBytes > 0) drop.push(pu)
    else if (dead > 0 && p.contentBytes > 0 && dead / p.contentBytes >= threshold) rewrite.push(pu)
    else keep.push(pu)
  }
  return { forget: [...forget], drop, rewrite, keep, liveBytes, deadBytes }
}

/** AUTO_COMPACT_DEAD_SHARE: a backup compacts by itself when this share of stored content is dead. */
export const AUTO_COMPACT_DEAD_SHARE = 0.2

/** worthCompacting tells whether a backup should compact by itself: a pack all dead, or enough dead. */
export function worthCompacting(state: RepoState): boolean {
  const plan = planCompaction(state, [])
  const total = plan.liveBytes + plan.deadBytes
  return plan.drop.length > 0 || (total > 0 && plan.deadBytes / total >= AUTO_COMPACT_DEAD_SHARE)
}
