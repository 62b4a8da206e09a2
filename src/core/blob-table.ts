// Why: where each stored content lives (pack, entry, size, tar path), for every blob of the repository:
// a million small mails are a million entries. As a Map of hex strings to objects that cost some 200
// bytes each; here a blob is one row of typed columns (its hash as 32 raw bytes, the pack as an index into
// the few pack ids), found through a bucket map keyed by the hash's first 30 bits. It reads like a
// ReadonlyMap<hash, BlobLocation> so callers need not know. Pure: no I/O.
import { HashColumn } from './hash-column.js'
import type { BlobLocation } from './model.js'

/** BlobColumns are the blobs in a dense order (the cache's state file stores them so). */
export interface BlobColumns {
  /** 32 bytes per blob: its hash */
  readonly hashes: Uint8Array
  /** blobs whose key is not a hex hash: [index, key] */
  readonly otherKeys: [number, string][]
  /** pack ids, by the ordinals `packOf` holds */
  readonly packIds: string[]
  readonly packOf: Int32Array
  readonly entryOf: Int32Array
  readonly sizeOf: Float64Array
  readonly tarPaths: string[]
}

/** BlobTable maps content hashes (SHA-256 hex) to where they are stored. */
export class BlobTable implements ReadonlyMap<string, BlobLocation> {
  private cap = 0
  private readonly hashes = new HashColumn()
  private packOf: Int32Array = new Int32Array(0)
  private entryOf: Int32Array = new Int32Array(0)
  private sizeOf: Float64Array = new Float64Array(0)
  private tarPathOf: (string | undefined)[] = []
  /** the next row in the same bucket, plus one (0 ends the chain) */
  private next: Int32Array = new Int32Array(0)
  /** first row (plus one) of each bucket of 64-hex keys */
  private readonly buckets = new Map<number, number>()
  /** rows of keys that are not 64-hex hashes (tests, damaged input) */
  private readonly otherKeys = new Map<string, number>()
  private readonly packIds: string[] = []
  private readonly packIndex = new Map<string, number>()
  private readonly free: number[] = []
  private used = 0
  private count = 0
  private readonly scratchBytes = Buffer.alloc(32)
  private readonly scratch = new Uint32Array(this.scratchBytes.buffer, this.scratchBytes.byteOffset, 8)

  get size(): number {
    return this.count
  }

  get [Symbol.toStringTag](): string {
    return 'BlobTable'
  }

  private row(hash: string, hex = HashColumn.isHash(hash)): number {
    if (!hex) return this.otherKeys.get(hash) ?? -1
    HashColumn.toWords(hash, this.scratchBytes)
    let r = (this.buckets.get(HashColumn.key32(hash)) ?? 0) - 1
    while (r >= 0) {
      if (this.hashes.equalsWords(r, this.scratch)) return r
      r = this.next[r]! - 1
    }
    return -1
  }

  has(hash: string): boolean {
    return this.row(hash) >= 0
  }

  get(hash: string): BlobLocation | undefined {
    const r = this.row(hash)
    return r < 0 ? undefined : this.at(r)
  }

  private at(r: number): BlobLocation {
    return {
      pack: this.packIds[this.packOf[r]!]!,
      entry: this.entryOf[r]!,
      size: this.sizeOf[r]!,
      tarPath: this.tarPathOf[r]!,
    }
  }

  /** reserve makes room for `n` blobs at once (no regrowing while a large commit is applied). */
  reserve(n: number): void {
    if (n > this.cap) this.grow(n)
  }

  /** set records (or replaces) where `hash` is stored. */
  set(hash: string, loc: BlobLocation): this {
    const hex = HashColumn.isHash(hash)
    let r = this.row(hash, hex)
    if (r < 0) {
      r = this.free.pop() ?? this.used++
      if (r >= this.cap) this.grow(Math.max(1024, this.cap * 2))
      this.hashes.set(r, hash, hex)
      if (hex) {
        const key = HashColumn.key32(hash)
        this.next[r] = this.buckets.get(key) ?? 0
        this.buckets.set(key, r + 1)
      } else this.otherKeys.set(hash, r)
      this.count++
    }
    let p = this.packIndex.get(loc.pack)
    if (p === undefined) {
      p = this.packIds.length
      this.packIds.push(loc.pack)
      this.packIndex.set(loc.pack, p)
    }
    this.packOf[r] = p
    this.entryOf[r] = loc.entry
    this.sizeOf[r] = loc.size
    this.tarPathOf[r] = loc.tarPath
    return this
  }

  /** delete forgets `hash`; true when it was there. */
  delete(hash: string): boolean {
    const r = this.row(hash)
    if (r < 0) return false
    if (HashColumn.isHash(hash)) {
      const key = HashColumn.key32(hash)
      const first = this.buckets.get(key)! - 1
      if (first === r) {
        if (this.next[r]) this.buckets.set(key, this.next[r]!)
        else this.buckets.delete(key)
      } else {
        let prev = first
        while (this.next[prev]! - 1 !== r) prev = this.next[prev]! - 1
        this.next[prev] = this.next[r]!
      }
    } else this.otherKeys.delete(hash)
    this.hashes.clear(r)
    this.tarPathOf[r] = undefined
    this.packOf[r] = -1
    this.next[r] = 0
    this.free.push(r)
    this.count--
    return true
  }

  clear(): void {
    this.buckets.clear()
    this.otherKeys.clear()
    this.packIds.length = 0
    this.packIndex.clear()
    this.free.length = 0
    this.tarPathOf = []
    this.used = 0
    this.count = 0
    this.cap = 0
    this.packOf = new Int32Array(0)
    this.entryOf = new Int32Array(0)
    this.sizeOf = new Float64Array(0)
    this.next = new Int32Array(0)
  }

  private grow(cap: number): void {
    const widen = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap)
      b.set(a)
      return b
    }
    this.packOf = widen(this.packOf, (n) => new Int32Array(n).fill(-1))
    this.entryOf = widen(this.entryOf, (n) => new Int32Array(n))
    this.sizeOf = widen(this.sizeOf, (n) => new Float64Array(n))
    this.next = widen(this.next, (n) => new Int32Array(n))
    this.hashes.grow(cap)
    this.cap = cap
  }

  /** exportColumns copies the blobs out in a dense order (see BlobColumns). */
  exportColumns(): BlobColumns {
    const n = this.count
    const c = {
      hashes: new Uint8Array(32 * n),
      otherKeys: [] as [number, string][],
      packIds: [...this.packIds],
      packOf: new Int32Array(n),
      entryOf: new Int32Array(n),
      sizeOf: new Float64Array(n),
      tarPaths: new Array<string>(n),
    }
    let i = 0
    for (let r = 0; r < this.used; r++) {
      if (this.packOf[r]! < 0) continue
      const { bytes, other } = this.hashes.raw(r)
      if (other === undefined) c.hashes.set(bytes, 32 * i)
      else c.otherKeys.push([i, other])
      c.packOf[i] = this.packOf[r]!
      c.entryOf[i] = this.entryOf[r]!
      c.sizeOf[i] = this.sizeOf[r]!
      c.tarPaths[i] = this.tarPathOf[r]!
      i++
    }
    return c
  }

  /** fromColumns builds a table from exported columns (which it keeps: do not reuse them). */
  static fromColumns(c: BlobColumns): BlobTable {
    const t = new BlobTable()
    const n = c.packOf.length
    t.hashes.load(c.hashes, c.otherKeys)
    t.packOf = c.packOf
    t.entryOf = c.entryOf
    t.sizeOf = c.sizeOf
    t.next = new Int32Array(n)
    t.cap = n
    t.tarPathOf = c.tarPaths
    c.packIds.forEach((id, i) => {
      t.packIds.push(id)
      t.packIndex.set(id, i)
    })
    const others = new Map(c.otherKeys)
    const hex = Buffer.from(c.hashes.buffer, c.hashes.byteOffset, c.hashes.length)
    for (let r = 0; r < n; r++) {
      const other = others.get(r)
      if (other !== undefined) {
        t.otherKeys.set(other, r)
        continue
      }
      const key = hex.readUInt32BE(32 * r) >>> 2
      t.next[r] = t.buckets.get(key) ?? 0
      t.buckets.set(key, r + 1)
    }
    t.used = n
    t.count = n
    return t
  }

  *entries(): MapIterator<[string, BlobLocation]> {
    for (let r = 0; r < this.used; r++) if (this.packOf[r]! >= 0) yield [this.hashes.get(r), this.at(r)]
  }

  *keys(): MapIterator<string> {
    for (let r = 0; r < this.used; r++) if (this.packOf[r]! >= 0) yield this.hashes.get(r)
  }

  *values(): MapIterator<BlobLocation> {
    for (let r = 0; r < this.used; r++) if (this.packOf[r]! >= 0) yield this.at(r)
  }

  [Symbol.iterator](): MapIterator<[string, BlobLocation]> {
    return this.entries()
  }

  forEach(fn: (value: BlobLocation, key: string, map: ReadonlyMap<string, BlobLocation>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this)
  }
}
