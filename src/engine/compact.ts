// Why: `seb compact`: open the repository under the exclusive lock (none for a dry run), load its index,
// and compact it (repo/compaction.ts does the work, in restic's removal order).
import type { CompactSummary } from '../repo/compaction.js'
import { compactRepository } from '../repo/compaction.js'
import { type RepoAccess, withRepository } from '../repo/repository.js'
import type { ProgressSink } from '../ui/progress.js'

export type { CompactSummary } from '../repo/compaction.js'

/** CompactOptions are the inputs of a compaction. */
export interface CompactOptions extends RepoAccess {
  readonly dryRun?: boolean
  /** rewrite packs with at least this share of dead content (0..1) */
  readonly threshold?: number
  readonly progress?: ProgressSink
  readonly now?: () => number
  /** only drop packs whose content is all dead (no decryption needed: public keys suffice) */
  readonly dropOnly?: boolean
}

/** compact runs one compaction under the exclusive lock. */
export function compact(o: CompactOptions): Promise<CompactSummary> {
  return withRepository(o, { lock: o.dryRun ? 'none' : 'exclusive', command: 'compact' }, async (repo) =>
    compactRepository(repo, await repo.loadState(), o),
  )
}
