// Why: a content hash is a 64-character hex string, and a large mailbox's index holds one per version
// and one per stored blob: as JS strings that is some 80 bytes each on the heap, plus a pointer. This
// column keeps them as their 32 raw bytes in one typed array, one row per record, and hands the hex text
// back on demand. Values that are not SHA-256 hex (a symlink's target, a folder's empty ref) are kept as
// strings beside it. Pure: no I/O.

const EMPTY_OTHER = 0

/**
 * isHexHash says whether `value` is 64 lowercase hex digits (a SHA-256 as the index writes it), and is
 * false for anything that is not a string (a hostile index).
 */
export function isHexHash(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 64) return false
  for (let i = 0; i < 64; i++) if (LOWER_HEX[value.charCodeAt(i) & 0xffff] !== 1) return false
  return true
}

/** LOWER_HEX marks the UTF-16 code units 0–9 and a–f (a table: checked for every hash a backup handles). */
const LOWER_HEX = new Uint8Array(65536)
for (const c of '0123456789abcdef') LOWER_HEX[c.charCodeAt(0)] = 1

/** HashColumn is a growable column of hash values, indexed by row. */
export class HashColumn {
  private bytes: Buffer = Buffer.alloc(0)
  /** the same memory as 32-bit words, for fast comparison */
  private words: Uint32Array = new Uint32Array(0)
  /** rows holding a value that is not a 64-character hex hash */
  private readonly other = new Map<number, string>()

  /** capacity is the number of rows the column holds. */
  get capacity(): number {
    return this.bytes.length / 32
  }

  /** grow makes room for `rows` rows, keeping the values. */
  grow(rows: number): void {
    if (rows <= this.capacity) return
    const bigger = Buffer.alloc(rows * 32)
    this.bytes.copy(bigger)
    this.bytes = bigger
    this.words = new Uint32Array(bigger.buffer, bigger.byteOffset, rows * 8)
  }

  /** set stores `value` at `row` (`hex`: whether it is a hex hash, when the caller knows already). */
  set(row: number, value: string, hex = isHexHash(value)): void {
    if (hex) {
      this.bytes.write(value, row * 32, 32, 'hex')
      if (this.other.size) this.other.delete(row)
    } else {
      this.words.fill(EMPTY_OTHER, row * 8, row * 8 + 8)
      this.other.set(row, value)
    }
  }

  /** setRaw stores a hex hash at `row` from its 32 raw bytes. */
  setRaw(row: number, bytes: Uint8Array): void {
    this.bytes.set(bytes.subarray(0, 32), row * 32)
    if (this.other.size) this.other.delete(row)
  }

  /** get returns the value at `row` as it was set. */
  get(row: number): string {
    if (this.other.size) {
      const o = this.other.get(row)
      if (o !== undefined) return o
    }
    return this.bytes.toString('hex', row * 32, row * 32 + 32)
  }

  /** clear forgets a row's value (its bytes are overwritten when the row is reused). */
  clear(row: number): void {
    if (this.other.size) this.other.delete(row)
  }

  /** raw returns the 32 bytes of `row` (meaningless for a row holding another value) and that value. */
  raw(row: number): { bytes: Buffer; other: string | undefined } {
    return { bytes: this.bytes.subarray(row * 32, row * 32 + 32), other: this.other.get(row) }
  }

  /** load replaces the column with `bytes` (32 per row; kept, not copied) and the rows holding other values. */
  load(bytes: Uint8Array, other: Iterable<readonly [number, string]>): void {
    // Adopted as it is when it can be viewed as 32-bit words, else copied.
    this.bytes = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
    if (bytes.byteOffset % 4) this.bytes = Buffer.from(this.bytes)
    this.words = new Uint32Array(this.bytes.buffer, this.bytes.byteOffset, bytes.length / 4)
    this.other.clear()
    for (const [row, value] of other) this.other.set(row, value)
  }

  /** prefix views the first `n` rows: their bytes (not copied) and the rows holding other values. */
  prefix(n: number): { bytes: Uint8Array; other: [number, string][] } {
    const other = [...this.other].filter(([row]) => row < n)
    return { bytes: this.bytes.subarray(0, 32 * n), other }
  }

  /** key32At is key32Of the hash held at `row` (meaningless for a row holding another value). */
  key32At(row: number): number {
    return this.bytes.readUInt32BE(row * 32) >>> 2
  }

  /** isOther says whether `row` holds a value that is not a hex hash. */
  isOther(row: number): boolean {
    return this.other.size > 0 && this.other.has(row)
  }

  /** key32Of is the 30-bit bucket key of a hash's raw bytes (its first bytes are uniformly random). */
  static key32Of(bytes: Buffer): number {
    return bytes.readUInt32BE(0) >>> 2
  }

  /** equalsWords says whether `row` holds the raw bytes of `scratch` (8 words, see toWords). */
  equalsWords(row: number, scratch: Uint32Array): boolean {
    const w = this.words
    const at = row * 8
    for (let i = 0; i < 8; i++) if (w[at + i] !== scratch[i]) return false
    return this.other.size === 0 || !this.other.has(row)
  }

  /** toWords writes a hex hash's bytes into `scratch` (8 words, viewing 32 bytes of `scratchBytes`). */
  static toWords(hex: string, scratchBytes: Buffer): void {
    scratchBytes.write(hex, 0, 32, 'hex')
  }
}
