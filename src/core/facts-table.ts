// Why: the local facts (size, mtime, inode, ctime) of every file, which tell a file is unchanged
// without reading it. At a million files a Map of objects costs some 150 bytes a file; here the four
// numbers are one row of a Float64Array, found by path. The path strings can be shared with the index
// (VersionTable.canonicalPath), so a path is held once. It reads like a Map<path, LocalFacts>. Pure.
import type { LocalFacts } from './model.js'
import { PathRows } from './path-rows.js'

/** FactsTable holds the local facts of files by path. */
export class FactsTable extends PathRows<LocalFacts> {
  private cols: Float64Array = new Float64Array(0)

  /** FactsTable.of builds a table from [path, facts] pairs (tests, small inputs). */
  static of(pairs: Iterable<readonly [string, LocalFacts]>): FactsTable {
    const t = new FactsTable()
    for (const [p, f] of pairs) t.set(p, f)
    return t
  }

  override get [Symbol.toStringTag](): string {
    return 'FactsTable'
  }

  /** same says whether `path` has exactly these facts, without making an object. */
  same(path: string, size: number, mtimeMs: number, ino: number, ctimeMs: number): boolean {
    const r = this.rows.get(path)
    if (r === undefined) return false
    const c = this.cols
    const at = r * 4
    return c[at] === size && c[at + 1] === mtimeMs && c[at + 2] === ino && c[at + 3] === ctimeMs
  }

  protected at(r: number): LocalFacts {
    const c = this.cols
    return { size: c[r * 4]!, mtimeMs: c[r * 4 + 1]!, ino: c[r * 4 + 2]!, ctimeMs: c[r * 4 + 3]! }
  }

  set(path: string, f: LocalFacts): this {
    return this.put(path, f.size, f.mtimeMs, f.ino, f.ctimeMs)
  }

  /** put is set() without a facts object. */
  put(path: string, size: number, mtimeMs: number, ino: number, ctimeMs: number): this {
    const { row: r } = this.rowOf(path)
    if (r * 4 >= this.cols.length) {
      const bigger = new Float64Array(Math.max(4096, this.cols.length * 2))
      bigger.set(this.cols)
      this.cols = bigger
    }
    const c = this.cols
    c[r * 4] = size
    c[r * 4 + 1] = mtimeMs
    c[r * 4 + 2] = ino
    c[r * 4 + 3] = ctimeMs
    return this
  }

  delete(path: string): boolean {
    return this.dropRow(path) >= 0
  }

  /**
   * exportColumns gives the facts densely: paths, and size, mtimeMs, ino, ctimeMs per path (a view of
   * the table's own column when no row was ever freed, valid until the table changes; else a copy).
   */
  exportColumns(): { paths: string[]; numbers: Float64Array } {
    if (this.dense)
      return { paths: [...this.rows.keys()], numbers: this.cols.subarray(0, 4 * this.rows.size) }
    const paths = new Array<string>(this.rows.size)
    const numbers = new Float64Array(4 * this.rows.size)
    let i = 0
    for (const [p, r] of this.rows) {
      paths[i] = p
      numbers.set(this.cols.subarray(4 * r, 4 * r + 4), 4 * i)
      i++
    }
    return { paths, numbers }
  }

  /** fromColumns builds a table from exported columns (which it keeps). */
  static fromColumns(paths: readonly string[], numbers: Float64Array): FactsTable {
    const t = new FactsTable()
    for (let i = 0; i < paths.length; i++) t.rows.set(paths[i]!, i)
    t.cols = numbers
    t.used = paths.length
    return t
  }
}
