// Why: verify must check what it says (issue 18). These are the checks that need no decryption, so a
// machine with the public key only runs them too: the commit objects from the newest checkpoint to the
// head are there with the size and SHA-256 their signatures name (a corrupted newest commit is found
// without decrypting it), and every file of every retained snapshot resolves to stored content in a
// pack the destination holds — what restore needs, whatever the packs' own check says.
import { createHash } from 'node:crypto'
import type { RepoState } from '../core/repo-state.js'
import type { CommitSig } from '../repo/commit-sigs.js'
import type { Storage } from '../storage/storage.js'

/** checkCommitBytes returns why a commit object is not the one its signature names, or null when it is. */
export async function checkCommitBytes(
  storage: Storage,
  sig: CommitSig,
  signal?: AbortSignal,
): Promise<string | null> {
  try {
    const { size, sha256 } = await storage.load(
      { type: 'commit', name: sig.name },
      undefined,
      async (s) => {
        const hash = createHash('sha256')
        let n = 0
        for await (const c of s) {
          n += (c as Buffer).length
          hash.update(c as Buffer)
        }
        return { size: n, sha256: hash.digest('hex') }
      },
      signal,
    )
    if (size !== sig.size || sha256 !== sig.sha256)
      return `commit ${sig.name} is damaged: its bytes are not the ones its signature names (${size} bytes, the signature says ${sig.size})`
    return null
  } catch (err) {
    if ((err as { code?: string }).code === 'not-found')
      return `commit ${sig.name} is missing from the destination`
    throw err
  }
}

/**
 * unresolvedFiles lists the files of retained snapshots whose content is stored nowhere: not in the
 * index, or in a pack the index or the destination (`listed`: pack name → size) does not hold.
 */
export function unresolvedFiles(state: RepoState, listed: ReadonlyMap<string, number>): string[] {
  const out = new Set<string>()
  const resolves = (ref: string): boolean => {
    const loc = state.blobs.get(ref)
    return Boolean(loc && state.packs.has(loc.pack) && listed.has(loc.pack))
  }
  const retained = state.snapshots.map((s) => s.seq)
  const seen = (from: number, to: number) => retained.some((s) => from <= s && (to === 0 || s < to))
  for (const v of state.live.values())
    if (v.kind === 'f' && seen(v.from, v.to) && !resolves(v.ref)) out.add(v.path)
  for (const v of state.history) if (v.kind === 'f' && seen(v.from, v.to) && !resolves(v.ref)) out.add(v.path)
  return [...out].sort()
}
