// Why: the index's per-path tables (live versions, local facts) keep each path's data in a row of typed
// columns and find the row through one Map. This is what they share: reading like a ReadonlyMap, with
// an object made for a row only when one is asked for. Pure: no I/O.

/** PathRows maps paths to rows; a subclass says what a row holds (`at`). */
export abstract class PathRows<V> implements ReadonlyMap<string, V> {
  protected readonly rows = new Map<string, number>()
  /** rows freed by delete, taken again first */
  protected readonly free: number[] = []
  /** rows ever taken (the columns must hold this many) */
  protected used = 0
  /** no row was ever freed: row i holds the i-th path in the Map's order */
  protected dense = true

  /** rowOf returns path's row, taking one (left for the caller to fill) when it has none. */
  protected rowOf(path: string): { row: number; taken: boolean } {
    const r = this.rows.get(path)
    if (r !== undefined) return { row: r, taken: false }
    const row = this.free.pop() ?? this.used++
    this.rows.set(path, row)
    return { row, taken: true }
  }

  /** dropRow forgets path and frees its row, which it returns (-1 when path had none). */
  protected dropRow(path: string): number {
    const r = this.rows.get(path)
    if (r === undefined) return -1
    this.rows.delete(path)
    this.dense = false
    this.free.push(r)
    return r
  }

  /** resetRows forgets every path. */
  protected resetRows(): void {
    this.rows.clear()
    this.free.length = 0
    this.used = 0
    this.dense = true
  }

  /** at makes the value held in row `r`. */
  protected abstract at(r: number): V

  abstract get [Symbol.toStringTag](): string

  get size(): number {
    return this.rows.size
  }

  /** rowIndex is path's row (-1 without one): per-row reads and marks without making a value. */
  rowIndex(path: string): number {
    return this.rows.get(path) ?? -1
  }

  /** rowCount bounds the rows: every row index is below it. */
  /** isDense: rows 0..size-1 in use, in the order of the paths (no row was ever freed) */
  get isDense(): boolean {
    return this.dense
  }

  get rowCount(): number {
    return this.used
  }

  /** pathsNotIn lists the paths whose row is not marked (non-zero) in `marks`, indexed by row. */
  pathsNotIn(marks: Uint8Array): string[] {
    const out: string[] = []
    for (const [p, r] of this.rows) if (!marks[r]) out.push(p)
    return out
  }

  has(path: string): boolean {
    return this.rows.has(path)
  }

  get(path: string): V | undefined {
    const r = this.rows.get(path)
    return r === undefined ? undefined : this.at(r)
  }

  keys(): MapIterator<string> {
    return this.rows.keys()
  }

  *values(): MapIterator<V> {
    for (const r of this.rows.values()) yield this.at(r)
  }

  *entries(): MapIterator<[string, V]> {
    for (const [p, r] of this.rows) yield [p, this.at(r)]
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries()
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this)
  }
}
