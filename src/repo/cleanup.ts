// Why: what killed runs leave behind — packs uploaded but never committed, commit objects whose
// signature was never saved, temporary objects — and what the history no longer needs — commits older
// than the previous checkpoint, format 1's `index/` after an upgrade — is removed here, and only here:
// after a commit, under the writer's lock, only from a fully authenticated index, and never anything
// that index uses. Commit signatures are never deleted (they are the history's proof).
import type { RepoState } from '../core/repo-state.js'
import type { Storage } from '../storage/storage.js'
import { fault } from '../util/fault.js'
import type { CommitObject } from './commit-writer.js'

/** Cleaned counts what cleanup removed. */
export interface Cleaned {
  readonly packs: number
  readonly commits: number
}

/**
 * removeOrphans deletes packs the index does not reference, commit objects without a signature,
 * commits older than `keepFromSeq`, format 1's index objects and temporary objects.
 */
export async function removeOrphans(
  storage: Storage,
  state: RepoState,
  o: {
    commits: readonly CommitObject[]
    signed: ReadonlySet<string>
    keepFromSeq: number
    signal?: AbortSignal
  },
): Promise<Cleaned> {
  let packs = 0
  const orphans: string[] = []
  for await (const p of storage.list('pack', o.signal)) if (!state.packs.has(p.name)) orphans.push(p.name)
  for (const name of orphans) {
    fault('cleanup:deleting')
    await storage.remove({ type: 'pack', name }).catch(() => {})
    packs++
  }
  let commits = 0
  // Commits before the previous checkpoint are no longer needed by any replay (the newest checkpoint
  // and the previous one with its deltas stay, so one damaged checkpoint is survivable).
  for (const c of o.commits) {
    if (o.signed.has(c.name) && !(o.keepFromSeq > 0 && c.seq < o.keepFromSeq)) continue
    fault('cleanup:deleting')
    await storage.remove({ type: 'commit', name: c.name }).catch(() => {})
    commits++
  }
  for await (const i of storage.list('index', o.signal))
    await storage.remove({ type: 'index', name: i.name }).catch(() => {})
  await storage.removeTemp?.()
  return { packs, commits }
}
