// Why: decide, from the last committed state and a fresh scan, what must be read, what is unchanged and
// what was deleted — without reading a byte. A file is unchanged only when its path, size, mtime, inode
// and ctime all match what the local cache saw last time (Maildir renames keep mtime, offlineimap can
// set old mtimes on new files, so mtime alone lies). Pure.
import type { WireEntry } from './commit-codec.js'
import type { FactsTable } from './facts-table.js'
import { HashColumn } from './hash-column.js'
import type { ScanEntry, Version } from './model.js'
import { SCAN_FILE, type ScanList } from './scan-list.js'
import type { VersionTable } from './version-table.js'
import { EntryList } from './wire-lists.js'

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
export function diffScan(live: VersionTable, facts: FactsTable, scan: ScanList): ScanDiff {
  const toHash: ScanEntry[] = []
  const metaAdds: WireEntry[] = []
  let unchanged = 0
  // Rows of the live versions the scan saw, marked by row: what is left unmarked was deleted.
  const seen = new Uint8Array(live.rowCount)
  const { paths, kinds, numbers: n } = scan.columns
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!
    const r = live.rowIndex(path)
    if (r >= 0) seen[r] = 1
    if (kinds[i] === SCAN_FILE) {
      // Compared in the columns: a run with nothing changed makes no object per file.
      const same =
        r >= 0 &&
        live.kindAt(r) === 'f' &&
        facts.same(path, n[4 * i]!, n[4 * i + 1]!, n[4 * i + 2]!, n[4 * i + 3]!)
      if (same) unchanged++
      else toHash.push(scan.at(i))
      continue
    }
    const e = scan.at(i)
    const prev = r >= 0 ? live.get(path) : undefined
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
  return { toHash, metaAdds, deleted: live.pathsNotIn(seen), unchanged }
}

/** FactsUpdate is the local facts after a run: the table, and what changed since the last run's. */
export interface FactsUpdate {
  readonly table: FactsTable
  /** paths whose facts were set or replaced (their values are in the table) */
  readonly set: string[]
  /** paths whose facts were dropped */
  readonly drop: string[]
}

/** unchangedFacts is a FactsUpdate that changes nothing (a run that scanned nothing). */
export function unchangedFacts(table: FactsTable): FactsUpdate {
  return { table, set: [], drop: [] }
}

/**
 * updateFacts turns the last run's facts (`facts`, changed in place) into this run's: the facts of a
 * file that was read come from its scan entry (under the index's own path string, from `canonical`);
 * those of an unchanged file stay; those of paths that are no longer files, or could not be read
 * (`unreadable`), go. It returns what changed, which is all a daily run's cache log records: with
 * nothing changed, no facts object is made and nothing is copied.
 */
export function updateFacts(
  facts: FactsTable,
  scan: ScanList,
  read: ReadonlySet<string>,
  unreadable: ReadonlySet<string>,
  canonical: (path: string) => string,
): FactsUpdate {
  const { paths, kinds, numbers: n } = scan.columns
  // Facts rows still backed by a file of this scan; the rest are dropped before new facts take rows.
  const kept = new Uint8Array(facts.rowCount)
  for (let i = 0; i < paths.length; i++) {
    if (kinds[i] !== SCAN_FILE || unreadable.has(paths[i]!)) continue
    const r = facts.rowIndex(paths[i]!)
    if (r >= 0) kept[r] = 1
  }
  const drop = facts.pathsNotIn(kept)
  for (const p of drop) facts.delete(p)
  // Paths only: a first backup sets all 87,000, and a row array each would sit in memory at its peak.
  const set: string[] = []
  if (read.size)
    for (let i = 0; i < paths.length; i++) {
      if (kinds[i] !== SCAN_FILE || !read.has(paths[i]!)) continue
      const key = canonical(paths[i]!)
      facts.put(key, n[4 * i]!, n[4 * i + 1]!, n[4 * i + 2]!, n[4 * i + 3]!)
      set.push(key)
    }
  return { table: facts, set, drop }
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
  private hashes = new HashColumn()
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
    this.hashes.set(i, f.hash)
    this.numbers[2 * i] = f.size
    this.numbers[2 * i + 1] = f.mtimeMs
    this.modes[i] = f.mode
  }

  /** at makes the record of file i. */
  at(i: number): HashedFile {
    const n = this.numbers
    return {
      path: this.paths[i]!,
      hash: this.hashes.get(i),
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
    this.hashes = new HashColumn()
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
    this.hashes.grow(n)
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
 * The entries are appended to `adds` (columns, core/wire-lists.ts), a new list unless one is given.
 */
export function fileAdds(
  live: ReadonlyMap<string, Version>,
  hashed: Iterable<HashedFile>,
  deleted: readonly string[],
  adds = new EntryList(),
): { adds: EntryList; counts: ChangeCounts; sameContent: number } {
  // How many deleted paths held each content: each can explain one rename.
  const deletedHashes = new Map<string, number>()
  for (const p of deleted) {
    const v = live.get(p)
    if (v?.kind === 'f') deletedHashes.set(v.ref, (deletedHashes.get(v.ref) ?? 0) + 1)
  }
  const counts: ChangeCounts = { added: 0, changed: 0, renamed: 0, deleted: deleted.length, unchanged: 0 }
  let sameContent = 0
  for (const { path, hash, size, mtimeMs, mode } of hashed) {
    const prev = live.get(path)
    if (prev?.kind === 'f' && prev.ref === hash && prev.mtimeMs === mtimeMs && prev.mode === mode) {
      sameContent++
      counts.unchanged++
      continue
    }
    adds.push(path, 'f', hash, size, mtimeMs, mode)
    if (prev) counts.changed++
    else if (deletedHashes.get(hash)) {
      deletedHashes.set(hash, deletedHashes.get(hash)! - 1)
      counts.renamed++
      counts.deleted--
    } else counts.added++
  }
  return { adds, counts, sameContent }
}
