// Why: twins (docs/design.md, "Commit record") need two lookups in the index. For every stored content
// that carries sync-tool noise (with mbsync: every message), its SHA-256 without the noise lines, so a
// later file whose bytes differ only there is recognised: as a Map of hex strings that costs some 200
// bytes a message, so here it is two columns of raw hashes and an open-addressing table of rows (about
// 72 bytes a message). And the twins themselves, each a few dozen bytes and rare (a message moved or
// downloaded again): a small Map. Pure: no I/O.
import { HashColumn, isHexHash } from './hash-column.js'

/** TwinInfo is a twin: its size, the stored content it is a twin of, and the patch (encodePatch). */
export interface TwinInfo {
  readonly size: number
  readonly base: string
  readonly patch: string
}

/** NormColumns are the pairs (normalized hash → stored hash) as raw bytes, 32 + 32 per pair. */
export interface NormColumns {
  readonly norms: Uint8Array
  readonly bases: Uint8Array
}

/**
 * NormTable maps the SHA-256 of a content without its noise lines to the stored content's SHA-256.
 * Made `byBase`, it also answers the other way (normFor), from a second slot table over the same two
 * columns: the backup's new contents need both directions, and two tables cost 64 bytes more a message.
 */
export class NormTable {
  private readonly keys = new HashColumn()
  private readonly values = new HashColumn()
  private slots: Int32Array = new Int32Array(0)
  /** with byBase: the rows by their stored hash */
  private baseSlots: Int32Array = new Int32Array(0)
  private count = 0
  private readonly scratchBytes = Buffer.alloc(32)
  private readonly scratch = new Uint32Array(this.scratchBytes.buffer, this.scratchBytes.byteOffset, 8)

  constructor(private readonly byBase = false) {}

  get size(): number {
    return this.count
  }

  /** probe finds `hash`'s slot (or the free slot for it) in `slots`, whose rows hold it in `column`. */
  private probe(hash: string, slots = this.slots, column = this.keys): number {
    HashColumn.toWords(hash, this.scratchBytes)
    const mask = slots.length - 1
    for (let i = HashColumn.key32Of(this.scratchBytes) & mask; ; i = (i + 1) & mask) {
      const v = slots[i]!
      if (v === 0 || column.equalsWords(v - 1, this.scratch)) return i
    }
  }

  private grow(n: number): void {
    if (n * 2 <= this.slots.length) return
    let size = Math.max(1024, this.slots.length)
    while (size < n * 2) size *= 2
    this.keys.grow(size / 2)
    this.values.grow(size / 2)
    this.slots = this.slotsOf(this.keys, size)
    if (this.byBase) this.baseSlots = this.slotsOf(this.values, size)
  }

  /** slotsOf places every row in a new slot table of `size`, by the hash `column` holds for it. */
  private slotsOf(column: HashColumn, size: number): Int32Array {
    const slots = new Int32Array(size)
    const mask = size - 1
    for (let r = 0; r < this.count; r++) {
      let i = column.key32At(r) & mask
      while (slots[i]) i = (i + 1) & mask
      slots[i] = r + 1
    }
    return slots
  }

  /** normFor returns the normalized hash of the stored content `base` (a table made byBase), or undefined. */
  normFor(base: string): string | undefined {
    if (!this.byBase || !this.count || !isHexHash(base)) return undefined
    const v = this.baseSlots[this.probe(base, this.baseSlots, this.values)]!
    return v ? this.keys.get(v - 1) : undefined
  }

  /** get returns the stored hash whose normalized hash is `norm`, or undefined. */
  get(norm: string): string | undefined {
    if (!this.count || !isHexHash(norm)) return undefined
    const v = this.slots[this.probe(norm)]!
    return v ? this.values.get(v - 1) : undefined
  }

  /** set records that the stored content `base` has the normalized hash `norm` (the first one stays). */
  set(norm: string, base: string): void {
    if (!isHexHash(norm) || !isHexHash(base)) return
    this.grow(this.count + 1)
    const i = this.probe(norm)
    if (this.slots[i]) return
    const r = this.count++
    this.keys.setRaw(r, this.scratchBytes)
    this.values.set(r, base, true)
    this.slots[i] = r + 1
    if (this.byBase) {
      // A content's first normalized hash stays, as a norm's first content does.
      const j = this.probe(base, this.baseSlots, this.values)
      if (!this.baseSlots[j]) this.baseSlots[j] = r + 1
    }
  }

  /** retain keeps the pairs whose stored hash passes `keep` (after contents are dropped). */
  retain(keep: (base: string) => boolean): void {
    const pairs: [string, string][] = []
    for (const p of this.entries()) if (keep(p[1])) pairs.push(p)
    if (pairs.length === this.count) return
    this.clear()
    for (const [n, b] of pairs) this.set(n, b)
  }

  clear(): void {
    this.slots = new Int32Array(0)
    this.baseSlots = new Int32Array(0)
    this.count = 0
  }

  *entries(): Generator<[norm: string, base: string]> {
    for (let r = 0; r < this.count; r++) yield [this.keys.get(r), this.values.get(r)]
  }

  /** exportColumns gives the pairs as raw bytes (for the cache's state file). */
  exportColumns(): NormColumns {
    const norms = new Uint8Array(32 * this.count)
    const bases = new Uint8Array(32 * this.count)
    for (let r = 0; r < this.count; r++) {
      norms.set(this.keys.raw(r).bytes, 32 * r)
      bases.set(this.values.raw(r).bytes, 32 * r)
    }
    return { norms, bases }
  }

  /** loadColumns adds the pairs of exportColumns. */
  loadColumns(c: NormColumns): void {
    const n = c.norms.length / 32
    this.grow(this.count + n)
    const hex = (b: Uint8Array, i: number) => Buffer.from(b.buffer, b.byteOffset + 32 * i, 32).toString('hex')
    for (let i = 0; i < n; i++) this.set(hex(c.norms, i), hex(c.bases, i))
  }
}
