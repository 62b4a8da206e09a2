// Why: the index's per-path tables (live versions, local facts) keep each path's data in a row of typed
// columns and find the row through one Map. This is what they share: reading like a ReadonlyMap, with
// an object made for a row only when one is asked for. Pure: no I/O.

/** PathRows maps paths to rows; a subclass says what a row holds (`at`). */
export abstract class PathRows<V> implements ReadonlyMap<string, V> {
  protected readonly rows = new Map<string, number>()

  /** at makes the value held in row `r`. */
  protected abstract at(r: number): V

  abstract get [Symbol.toStringTag](): string

  get size(): number {
    return this.rows.size
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
