// Why: the live version of every path, which every run holds in memory: at a million mails, objects
// and hex strings cost about 300 bytes each. Here a version is one row of typed columns (the content hash
// as 32 raw bytes in a HashColumn), found by path through one Map of path → row; a Version object is
// made only when asked for. It reads like a ReadonlyMap<path, Version>. Pure: no I/O.
import { HashColumn } from './hash-column.js'
import type { EntryKind, Version } from './model.js'
import { PathRows } from './path-rows.js'

const KINDS: readonly EntryKind[] = ['f', 'l', 'd']
const KIND_CODE: Record<EntryKind, number> = { f: 0, l: 1, d: 2 }

/** VersionColumns are the live versions in a dense order (the cache's state file stores them so). */
export interface VersionColumns {
  readonly paths: string[]
  readonly kinds: Uint8Array
  readonly modes: Uint32Array
  readonly froms: Uint32Array
  readonly sizes: Float64Array
  readonly mtimes: Float64Array
  /** 32 bytes per version: its content hash */
  readonly refs: Uint8Array
  /** versions whose ref is not a hash (symlink target, folder): [index, ref] */
  readonly otherRefs: [number, string][]
}

/** VersionTable holds live versions (to = 0) by path. */
export class VersionTable extends PathRows<Version> {
  private paths: (string | undefined)[] = []
  private readonly refs = new HashColumn()
  private kinds: Uint8Array = new Uint8Array(0)
  private sizes: Float64Array = new Float64Array(0)
  private mtimes: Float64Array = new Float64Array(0)
  private modes: Uint32Array = new Uint32Array(0)
  private froms: Uint32Array = new Uint32Array(0)

  override get [Symbol.toStringTag](): string {
    return 'VersionTable'
  }

  /** kindOf is get(path)?.kind without making the version. */
  kindOf(path: string): EntryKind | undefined {
    const r = this.rows.get(path)
    return r === undefined ? undefined : KINDS[this.kinds[r]!]
  }

  /** fileTotals counts the live regular files and their bytes, from the columns (no version objects). */
  fileTotals(): { files: number; bytes: number } {
    const file = KINDS.indexOf('f')
    let files = 0
    let bytes = 0
    const count = (r: number) => {
      if (this.kinds[r] !== file) return
      files++
      bytes += this.sizes[r]!
    }
    if (this.dense) for (let r = 0; r < this.used; r++) count(r)
    else for (const r of this.rows.values()) count(r)
    return { files, bytes }
  }

  /** kindAt is the kind of the version in row `r` (a row rowIndex gave). */
  kindAt(r: number): EntryKind {
    return KINDS[this.kinds[r]!]!
  }

  /**
   * canonicalPath returns the table's own string for `path` (or undefined): other structures keyed by
   * path can share it instead of holding a copy.
   */
  canonicalPath(path: string): string | undefined {
    const r = this.rows.get(path)
    return r === undefined ? undefined : this.paths[r]
  }

  protected at(r: number): Version {
    return {
      path: this.paths[r]!,
      kind: KINDS[this.kinds[r]!]!,
      ref: this.refs.get(r),
      size: this.sizes[r]!,
      mtimeMs: this.mtimes[r]!,
      mode: this.modes[r]!,
      from: this.froms[r]!,
      to: 0,
    }
  }

  /** reserve makes room for `n` versions at once (no regrowing while a large commit is applied). */
  reserve(n: number): void {
    if (n > this.kinds.length) this.grow(n)
  }

  /** set records `v` as the live version of `path` (v.path must equal path). */
  set(path: string, v: Version): this {
    const { row: r, taken } = this.rowOf(path)
    if (taken) {
      if (r >= this.kinds.length) this.grow(Math.max(1024, this.kinds.length * 2))
      this.paths[r] = path
    }
    this.kinds[r] = KIND_CODE[v.kind]
    this.refs.set(r, v.ref)
    this.sizes[r] = v.size
    this.mtimes[r] = v.mtimeMs
    this.modes[r] = v.mode
    this.froms[r] = v.from
    return this
  }

  delete(path: string): boolean {
    const r = this.dropRow(path)
    if (r < 0) return false
    this.paths[r] = undefined
    this.refs.clear(r)
    return true
  }

  clear(): void {
    this.resetRows()
    this.paths = []
  }

  private grow(cap: number): void {
    const widen = <T extends Uint8Array | Uint32Array | Float64Array>(a: T, b: T): T => {
      b.set(a)
      return b
    }
    this.kinds = widen(this.kinds, new Uint8Array(cap))
    this.sizes = widen(this.sizes, new Float64Array(cap))
    this.mtimes = widen(this.mtimes, new Float64Array(cap))
    this.modes = widen(this.modes, new Uint32Array(cap))
    this.froms = widen(this.froms, new Uint32Array(cap))
    this.refs.grow(cap)
  }

  /**
   * exportColumns gives the versions in a dense order (see VersionColumns): views of the table's own
   * columns when no row was ever freed (valid until the table changes), else copies.
   */
  exportColumns(): VersionColumns {
    const n = this.rows.size
    if (this.dense) {
      const refs = this.refs.prefix(n)
      return {
        paths: [...this.rows.keys()],
        kinds: this.kinds.subarray(0, n),
        modes: this.modes.subarray(0, n),
        froms: this.froms.subarray(0, n),
        sizes: this.sizes.subarray(0, n),
        mtimes: this.mtimes.subarray(0, n),
        refs: refs.bytes,
        otherRefs: refs.other,
      }
    }
    const c = {
      paths: new Array<string>(n),
      kinds: new Uint8Array(n),
      modes: new Uint32Array(n),
      froms: new Uint32Array(n),
      sizes: new Float64Array(n),
      mtimes: new Float64Array(n),
      refs: new Uint8Array(32 * n),
      otherRefs: [] as [number, string][],
    }
    let i = 0
    for (const [path, r] of this.rows) {
      c.paths[i] = path
      c.kinds[i] = this.kinds[r]!
      c.modes[i] = this.modes[r]!
      c.froms[i] = this.froms[r]!
      c.sizes[i] = this.sizes[r]!
      c.mtimes[i] = this.mtimes[r]!
      const { bytes, other } = this.refs.raw(r)
      if (other === undefined) c.refs.set(bytes, 32 * i)
      else c.otherRefs.push([i, other])
      i++
    }
    return c
  }

  /** fromColumns builds a table from exported columns (which it keeps: do not reuse them). */
  static fromColumns(c: VersionColumns): VersionTable {
    const t = new VersionTable()
    for (let i = 0; i < c.paths.length; i++) t.rows.set(c.paths[i]!, i)
    t.paths = c.paths
    t.kinds = c.kinds
    t.modes = c.modes
    t.froms = c.froms
    t.sizes = c.sizes
    t.mtimes = c.mtimes
    t.refs.load(c.refs, c.otherRefs)
    t.used = c.paths.length
    return t
  }
}
