// Why: a scan lists every entry of the source, a million at most scales: kept as entry objects that is
// some 200 bytes each for the whole run, although a daily run needs an object only for the few files
// that changed. ScanList keeps the scan as columns and makes a ScanEntry only when one is asked for
// (iteration makes short-lived ones). Pure: no I/O.
import type { EntryKind, ScanEntry } from './model.js'

const KINDS: readonly EntryKind[] = ['f', 'l', 'd']

/** SCAN_FILE is a regular file's code in ScanColumns.kinds. */
export const SCAN_FILE = 0

/** ScanColumns are a scan's entries as columns; kinds: 0 file, 1 symlink, 2 folder. */
export interface ScanColumns {
  readonly paths: string[]
  readonly kinds: Uint8Array
  readonly modes: Uint16Array
  /** size, mtimeMs, ino, ctimeMs of each entry */
  readonly numbers: Float64Array
  /** symlink targets by entry index */
  readonly targets: ReadonlyMap<number, string>
}

/** ScanList is the entries of one scan, in scan order. */
export class ScanList implements Iterable<ScanEntry> {
  private c: ScanColumns

  constructor(columns: ScanColumns) {
    this.c = columns
  }

  /** ScanList.of builds a list from entry objects (tests, small inputs). */
  static of(entries: readonly ScanEntry[]): ScanList {
    const n = entries.length
    const c = {
      paths: entries.map((e) => e.path),
      kinds: new Uint8Array(n),
      modes: new Uint16Array(n),
      numbers: new Float64Array(4 * n),
      targets: new Map<number, string>(),
    }
    entries.forEach((e, i) => {
      c.kinds[i] = KINDS.indexOf(e.kind)
      c.modes[i] = e.mode
      c.numbers.set([e.size, e.mtimeMs, e.ino, e.ctimeMs], 4 * i)
      if (e.kind === 'l') c.targets.set(i, e.target ?? '')
    })
    return new ScanList(c)
  }

  get length(): number {
    return this.c.paths.length
  }

  /** columns are the entries as the scan made them (read them, never change them). */
  get columns(): ScanColumns {
    return this.c
  }

  /** at makes the entry at index i. */
  at(i: number): ScanEntry {
    const { paths, kinds, modes, numbers: n } = this.c
    const kind = KINDS[kinds[i]!]!
    const e = {
      path: paths[i]!,
      kind,
      size: n[i * 4]!,
      mtimeMs: n[i * 4 + 1]!,
      mode: modes[i]!,
      ino: n[i * 4 + 2]!,
      ctimeMs: n[i * 4 + 3]!,
    }
    return kind === 'l' ? { ...e, target: this.c.targets.get(i) ?? '' } : e
  }

  *[Symbol.iterator](): Iterator<ScanEntry> {
    for (let i = 0; i < this.length; i++) yield this.at(i)
  }

  /** totals counts entries, regular files and their bytes. */
  totals(): { entries: number; files: number; bytes: number } {
    let files = 0
    let bytes = 0
    const { kinds, numbers } = this.c
    for (let i = 0; i < this.length; i++) {
      if (kinds[i] !== SCAN_FILE) continue
      files++
      bytes += numbers[i * 4]!
    }
    return { entries: this.length, files, bytes }
  }

  /** clear lets the columns go (the list is then empty). */
  clear(): void {
    this.c = {
      paths: [],
      kinds: new Uint8Array(0),
      modes: new Uint16Array(0),
      numbers: new Float64Array(0),
      targets: new Map(),
    }
  }
}
