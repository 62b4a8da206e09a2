// Why: what killed runs leave behind — packs uploaded but never committed, temp objects, index objects
// superseded by two checkpoints — is removed here, and only here: after a commit, under the exclusive
// lock, so nothing another run may still own is touched, and never anything the committed index uses.
import type { RepoState } from '../core/repo-state.js'
import type { Storage } from '../storage/storage.js'
import type { CommitRef } from './commits.js'

/** removeOrphans deletes packs the index does not reference and commits older than `keepFromSeq`. */
export async function removeOrphans(
  storage: Storage,
  state: RepoState,
  commits: readonly CommitRef[],
  keepFromSeq: number,
): Promise<{ packs: number; commits: number }> {
  let packs = 0
  const orphans: string[] = []
  for await (const o of storage.list('pack')) if (!state.packs.has(o.name)) orphans.push(o.name)
  for (const name of orphans) {
    await storage.remove({ type: 'pack', name }).catch(() => {})
    packs++
  }
  let removed = 0
  // Commits before the previous checkpoint are no longer needed by any replay (the newest checkpoint
  // and the previous one with its deltas stay, so one damaged checkpoint is survivable).
  for (const c of commits) {
    if (keepFromSeq > 0 && c.seq < keepFromSeq) {
      await storage.remove({ type: 'index', name: c.name }).catch(() => {})
      removed++
    }
  }
  await storage.removeTemp?.()
  return { packs, commits: removed }
}
