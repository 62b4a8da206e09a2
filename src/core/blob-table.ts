// Why: where each stored content lives (pack, entry, size, tar path), for every blob of the repository:
// a million small mails are a million entries. As a Map of hex strings to objects that cost some 200
// bytes each; here a blob is one row of typed columns (its hash as 32 raw bytes, the pack as an index into
// the few pack ids), found through an open-addressing table of row numbers keyed by the hash's first
// bits (no Map: at a million blobs a Map of buckets cost 0.4 s to build and some 40 MB). It reads like a
// ReadonlyMap<hash, BlobLocation> so callers need not know. Pure: no I/O.
import { HashColumn, isHexHash } from './hash-column.js'
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
  /**
   * rows (plus one; 0 is empty) of 64-hex keys, by linear probing from the key's first bits; a power
   * of two in size, at most half full
   */
  private slots: Int32Array = new Int32Array(0)
  private hexCount = 0
  /** rows of keys that are not 64-hex hashes (tests, damaged input) */
  private readonly otherKeys = new Map<string, number>()
  private readonly packIds: string[] = []
  private readonly packIndex = new Map<string, number>()
  private readonly free: number[] = []
  private used = 0
  private count = 0
  /** no row was ever freed: rows 0..used-1 are all in use */
  private dense = true
  private readonly scratchBytes = Buffer.alloc(32)
  private readonly scratch = new Uint32Array(this.scratchBytes.buffer, this.scratchBytes.byteOffset, 8)

  get size(): number {
    return this.count
  }

  get [Symbol.toStringTag](): string {
    return 'BlobTable'
  }

  private row(hash: string, hex?: boolean): number {
    // An empty table (a first backup asks once per file) needs no look at the key.
    if (!this.count) return -1
    if (!(hex ?? isHexHash(hash))) return this.otherKeys.get(hash) ?? -1
    const i = this.slotOf(hash)
    return i < 0 ? -1 : this.slots[i]! - 1
  }

  /** slotOf finds the slot holding a hex hash's row, or -1. */
  private slotOf(hash: string): number {
    if (!this.slots.length) return -1
    const i = this.probe(hash)
    return this.slots[i] ? i : -1
  }

  /**
   * probe leaves the hash's bytes in the scratch and returns the slot holding its row, or else the
   * empty slot where it would go (the slots must not be empty).
   */
  private probe(hash: string): number {
    const slots = this.slots
    HashColumn.toWords(hash, this.scratchBytes)
    const mask = slots.length - 1
    for (let i = HashColumn.key32Of(this.scratchBytes) & mask; ; i = (i + 1) & mask) {
      const v = slots[i]!
      if (v === 0 || this.hashes.equalsWords(v - 1, this.scratch)) return i
    }
  }

  /** place puts row r (whose key is not in the table) in the first free slot from its key's. */
  private place(r: number, key: number): void {
    const mask = this.slots.length - 1
    let i = key & mask
    while (this.slots[i]) i = (i + 1) & mask
    this.slots[i] = r + 1
  }

  /** ensureSlots keeps the slots at most half full for `n` hex keys (rehashing when they grow). */
  private ensureSlots(n: number): void {
    if (n * 2 <= this.slots.length) return
    let size = Math.max(1024, this.slots.length)
    while (size < n * 2) size *= 2
    const old = this.slots
    this.slots = new Int32Array(size)
    for (const v of old) if (v) this.place(v - 1, this.hashes.key32At(v - 1))
  }

  has(hash: string): boolean {
    return this.row(hash) >= 0
  }

  /**
   * findPrefix returns the one hash held that starts with `prefix` (16 to 64 lowercase hex digits, an
   * even number), or null when none or several do. Keys sharing a prefix share a home slot, so only
   * the run of slots from it to the next empty one is looked at.
   */
  findPrefix(prefix: string): string | null {
    if (!this.slots.length || prefix.length < 16 || prefix.length % 2 || !/^[0-9a-f]+$/.test(prefix))
      return null
    const want = Buffer.from(prefix, 'hex')
    const mask = this.slots.length - 1
    let found: string | null = null
    for (let i = HashColumn.key32Of(want) & mask; this.slots[i]; i = (i + 1) & mask) {
      const r = this.slots[i]! - 1
      const { bytes, other } = this.hashes.raw(r)
      if (other !== undefined || !bytes.subarray(0, want.length).equals(want)) continue
      if (found !== null) return null
      found = this.hashes.get(r)
    }
    return found
  }

  get(hash: string): BlobLocation | undefined {
    const r = this.row(hash)
    return r < 0 ? undefined : this.at(r)
  }

  /**
   * locate is the row of `hash` (-1 when absent), which packAt, entryAt and tarPathAt read without making a
   * BlobLocation: restore groups every file of a snapshot by pack this way.
   */
  locate(hash: string): number {
    return this.row(hash)
  }

  /** packAt is the pack id of the blob at a row locate gave. */
  packAt(row: number): string {
    return this.packIds[this.packOf[row]!]!
  }

  /** entryAt is the member ordinal of the blob at a row locate gave. */
  entryAt(row: number): number {
    return this.entryOf[row]!
  }

  /** tarPathAt is the path in its pack of the blob at a row locate gave. */
  tarPathAt(row: number): string {
    return this.tarPathOf[row]!
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
    this.ensureSlots(n)
  }

  /** set records (or replaces) where `hash` is stored. */
  set(hash: string, loc: BlobLocation): this {
    let r: number
    if (isHexHash(hash)) {
      // One probe finds the row or the free slot, and leaves the hash's bytes to copy (no second
      // decoding of the hex, no second probe).
      this.ensureSlots(this.hexCount + 1)
      const slot = this.probe(hash)
      r = this.slots[slot]! - 1
      if (r < 0) {
        r = this.newRow()
        this.hashes.setRaw(r, this.scratchBytes)
        this.slots[slot] = r + 1
        this.hexCount++
        this.count++
      }
    } else {
      r = this.otherKeys.get(hash) ?? -1
      if (r < 0) {
        r = this.newRow()
        this.hashes.set(r, hash, false)
        this.otherKeys.set(hash, r)
        this.count++
      }
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

  /** newRow takes a free row (growing the columns when there is none). */
  private newRow(): number {
    const r = this.free.pop() ?? this.used++
    if (r >= this.cap) this.grow(Math.max(1024, this.cap * 2))
    return r
  }

  /** delete forgets `hash`; true when it was there. */
  delete(hash: string): boolean {
    const hex = isHexHash(hash)
    const r = this.row(hash, hex)
    if (r < 0) return false
    if (hex) {
      this.unplace(this.slotOf(hash))
      this.hexCount--
    } else this.otherKeys.delete(hash)
    this.dense = false
    this.hashes.clear(r)
    this.tarPathOf[r] = undefined
    this.packOf[r] = -1
    this.free.push(r)
    this.count--
    return true
  }

  /** unplace empties slot i, moving back the rows after it that probing would no longer reach. */
  private unplace(i: number): void {
    const slots = this.slots
    const mask = slots.length - 1
    let hole = i
    for (let j = (i + 1) & mask; slots[j]; j = (j + 1) & mask) {
      const home = this.hashes.key32At(slots[j]! - 1) & mask
      // The row at j stays unless its home slot lies cyclically outside (hole, j].
      const reachable = hole <= j ? hole < home && home <= j : hole < home || home <= j
      if (!reachable) {
        slots[hole] = slots[j]!
        hole = j
      }
    }
    slots[hole] = 0
  }

  clear(): void {
    this.dense = true
    this.slots = new Int32Array(0)
    this.hexCount = 0
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
    this.hashes.grow(cap)
    this.cap = cap
  }

  /**
   * exportColumns gives the blobs in a dense order (see BlobColumns): views of the table's own columns
   * when no row was ever freed (valid until the table changes), else copies.
   */
  exportColumns(): BlobColumns {
    const n = this.count
    if (this.dense) {
      const hashes = this.hashes.prefix(n)
      return {
        hashes: hashes.bytes,
        otherKeys: hashes.other,
        packIds: [...this.packIds],
        packOf: this.packOf.subarray(0, n),
        entryOf: this.entryOf.subarray(0, n),
        sizeOf: this.sizeOf.subarray(0, n),
        tarPaths: this.tarPathOf.slice(0, n) as string[],
      }
    }
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
    t.cap = n
    t.tarPathOf = c.tarPaths
    c.packIds.forEach((id, i) => {
      t.packIds.push(id)
      t.packIndex.set(id, i)
    })
    for (const [r, key] of c.otherKeys) t.otherKeys.set(key, r)
    t.hexCount = n - c.otherKeys.length
    t.ensureSlots(t.hexCount)
    for (let r = 0; r < n; r++) if (!t.hashes.isOther(r)) t.place(r, t.hashes.key32At(r))
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
