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

/** HashedFile is a file that was read: its path, metadata and the SHA-256 of what was read. */
export interface HashedFile {
  readonly path: string
  readonly hash: string
  /** bytes actually read (a file may change size between scan and read) */
  readonly size: number
  readonly mtimeMs: number
  readonly mode: number
}

/**
 * HashedFiles is the list of files a run read, as columns: a first backup holds one per file until its
 * commit, and as objects (with the scan entry each kept alive) that was some 180 bytes a file on the
 * main thread's heap at its peak; here about 40.
 */
export class HashedFiles implements Iterable<HashedFile> {
  private paths: string[] = []
  private hashes: string[] = []
  private numbers = new Float64Array(0)
  private modes = new Uint32Array(0)

  get length(): number {
    return this.paths.length
  }

  /** push records a file read. */
  push(f: HashedFile): void {
    const i = this.paths.length
    if (i >= this.modes.length) this.grow(Math.max(1024, this.modes.length * 2))
    this.paths.push(f.path)
    this.hashes.push(f.hash)
    this.numbers[2 * i] = f.size
    this.numbers[2 * i + 1] = f.mtimeMs
    this.modes[i] = f.mode
  }

  /** at makes the record of file i. */
  at(i: number): HashedFile {
    const n = this.numbers
    return {
      path: this.paths[i]!,
      hash: this.hashes[i]!,
      size: n[2 * i]!,
      mtimeMs: n[2 * i + 1]!,
      mode: this.modes[i]!,
    }
  }

  /** pathList is the paths read, in order. */
  pathList(): readonly string[] {
    return this.paths
  }

  *[Symbol.iterator](): Iterator<HashedFile> {
    for (let i = 0; i < this.paths.length; i++) yield this.at(i)
  }

  /** clear lets the columns go. */
  clear(): void {
    this.paths = []
    this.hashes = []
    this.numbers = new Float64Array(0)
    this.modes = new Uint32Array(0)
  }

  private grow(n: number): void {
    const numbers = new Float64Array(2 * n)
    numbers.set(this.numbers)
    const modes = new Uint32Array(n)
    modes.set(this.modes)
    this.numbers = numbers
    this.modes = modes
  }
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
  hashed: Iterable<HashedFile>,
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
  for (const { path, hash, size, mtimeMs, mode } of hashed) {
    const prev = live.get(path)
    if (prev?.kind === 'f' && prev.ref === hash && prev.mtimeMs === mtimeMs && prev.mode === mode) {
      sameContent++
      counts.unchanged++
      continue
    }
    adds.push([path, 'f', hash, size, mtimeMs, mode])
    if (prev) counts.changed++
    else if (deletedHashes.get(hash)) {
      deletedHashes.set(hash, deletedHashes.get(hash)! - 1)
      counts.renamed++
      counts.deleted--
    } else counts.added++
  }
  return { adds, counts, sameContent }
}
