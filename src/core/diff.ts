// Why: decide, from the last committed state and a fresh scan, what must be read, what is unchanged and
// what was deleted — without reading a byte. A file is unchanged only when its path, size, mtime, inode
// and ctime all match what the local cache saw last time (Maildir renames keep mtime, offlineimap can
// set old mtimes on new files, so mtime alone lies). Pure.
import type { WireEntry } from './commit-codec.js'
import type { LocalFacts, ScanEntry, Version } from './model.js'

/** ScanDiff is what a scan means against the last commit. */
export interface ScanDiff {
  /** regular files that must be read and hashed (new path, or any local fact changed) */
  readonly toHash: ScanEntry[]
  /** directories and symlinks that are new or changed: recorded directly */
  readonly metaAdds: WireEntry[]
  /** paths of the last commit that are gone */
  readonly deleted: string[]
  /** number of entries found unchanged */
  readonly unchanged: number
}

/** diffScan compares scan entries with the live versions and the local facts of the last run. */
export function diffScan(
  live: ReadonlyMap<string, Version>,
  facts: ReadonlyMap<string, LocalFacts>,
  scan: Iterable<ScanEntry>,
): ScanDiff {
  const toHash: ScanEntry[] = []
  const metaAdds: WireEntry[] = []
  let unchanged = 0
  const seen = new Set<string>()
  for (const e of scan) {
    seen.add(e.path)
    const prev = live.get(e.path)
    if (e.kind === 'f') {
      const f = facts.get(e.path)
      const same =
        prev?.kind === 'f' &&
        f &&
        f.size === e.size &&
        f.mtimeMs === e.mtimeMs &&
        f.ino === e.ino &&
        f.ctimeMs === e.ctimeMs
      if (same) unchanged++
      else toHash.push(e)
      continue
    }
    const ref = e.kind === 'l' ? (e.target ?? '') : ''
    if (
      prev &&
      prev.kind === e.kind &&
      prev.ref === ref &&
      prev.mtimeMs === e.mtimeMs &&
      prev.mode === e.mode
    )
      unchanged++
    else metaAdds.push([e.path, e.kind, ref, 0, e.mtimeMs, e.mode])
  }
  const deleted: string[] = []
  for (const path of live.keys()) if (!seen.has(path)) deleted.push(path)
  return { toHash, metaAdds, deleted, unchanged }
}

/** HashedFile is a file that was read: its scan entry and the SHA-256 of what was read. */
export interface HashedFile {
  readonly entry: ScanEntry
  readonly hash: string
  /** bytes actually read (a file may change size between scan and read) */
  readonly size: number
}

/** ChangeCounts summarise a run for the user (added / changed / renamed / deleted / unchanged). */
export interface ChangeCounts {
  added: number
  changed: number
  renamed: number
  deleted: number
  unchanged: number
}

/**
 * fileAdds turns hashed files into index entries, keeping only real changes (content, mtime or mode),
 * and counts what happened. A new path whose content was at a deleted path this run counts as renamed.
 */
export function fileAdds(
  live: ReadonlyMap<string, Version>,
  hashed: readonly HashedFile[],
  deleted: readonly string[],
): { adds: WireEntry[]; counts: ChangeCounts; sameContent: number } {
  // How many deleted paths held each content: each can explain one rename.
  const deletedHashes = new Map<string, number>()
  for (const p of deleted) {
    const v = live.get(p)
    if (v?.kind === 'f') deletedHashes.set(v.ref, (deletedHashes.get(v.ref) ?? 0) + 1)
  }
  const counts: ChangeCounts = { added: 0, changed: 0, renamed: 0, deleted: deleted.length, unchanged: 0 }
  const adds: WireEntry[] = []
  let sameContent = 0
  for (const { entry: e, hash, size } of hashed) {
    const prev = live.get(e.path)
    if (prev?.kind === 'f' && prev.ref === hash && prev.mtimeMs === e.mtimeMs && prev.mode === e.mode) {
      sameContent++
      counts.unchanged++
      continue
    }
    adds.push([e.path, 'f', hash, size, e.mtimeMs, e.mode])
    if (prev) counts.changed++
    else if (deletedHashes.get(hash)) {
      deletedHashes.set(hash, deletedHashes.get(hash)! - 1)
      counts.renamed++
      counts.deleted--
    } else counts.added++
  }
  return { adds, counts, sameContent }
}
