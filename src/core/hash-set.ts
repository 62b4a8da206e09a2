// Why: a backup remembers the contents it stored this run, to store each only once; in a first backup
// that is every file. A Set of hex strings cost some 130 bytes a content (the string, the batch string
// it was cut from, the Set's entry) until the commit, where a first backup peaks; this set keeps each
// hash as its 32 raw bytes, found by open addressing (linear probing from the hash's first bits), about
// 40 bytes a content. Only SHA-256 hex is accepted. Pure: no I/O.

import { isHexHash } from './hash-column.js'

/** HashSet is a set of SHA-256 hashes (64 lowercase hex digits). */
export class HashSet {
  private words = new Uint32Array(0)
  private gone = new Uint8Array(0)
  /** open-addressing table of row + 1 (0: empty slot) */
  private slots = new Int32Array(16)
  /**
   * per slot, the second word of its hash: a probe compares it before reading the row's words, which
   * lie elsewhere in memory (a lookup of a new content, the usual one in a backup, then reads the
   * table only)
   */
  private tags = new Uint32Array(16)
  private rows = 0
  private live = 0
  private readonly scratch = Buffer.alloc(32)
  private readonly scratchWords = new Uint32Array(8)

  get size(): number {
    return this.live
  }

  has(hash: string): boolean {
    const r = this.find(hash)
    return r >= 0 && !this.gone[r]
  }

  add(hash: string): this {
    const r = this.find(hash)
    if (r >= 0) {
      if (this.gone[r]) {
        this.gone[r] = 0
        this.live++
      }
      return this
    }
    if (this.rows >= this.gone.length) this.growRows(Math.max(1024, 2 * this.gone.length))
    if (2 * (this.rows + 1) > this.slots.length) this.rehash(2 * this.slots.length)
    const row = this.rows++
    this.words.set(this.scratchWords, row * 8)
    this.place(row)
    this.live++
    return this
  }

  delete(hash: string): boolean {
    const r = this.find(hash)
    if (r < 0 || this.gone[r]) return false
    this.gone[r] = 1
    this.live--
    return true
  }

  clear(): void {
    this.words = new Uint32Array(0)
    this.gone = new Uint8Array(0)
    this.slots = new Int32Array(16)
    this.tags = new Uint32Array(16)
    this.rows = 0
    this.live = 0
  }

  /** find loads `hash` into the scratch words and returns its row, or -1. */
  private find(hash: string): number {
    if (!isHexHash(hash) || this.scratch.write(hash, 0, 32, 'hex') !== 32)
      throw new Error(`not a SHA-256 hash: ${hash.slice(0, 70)}`)
    const s = this.scratchWords
    for (let i = 0; i < 8; i++) s[i] = this.scratch.readUInt32LE(4 * i)
    const mask = this.slots.length - 1
    for (let at = s[0]! & mask; ; at = (at + 1) & mask) {
      const v = this.slots[at]!
      if (v === 0) return -1
      if (this.tags[at] !== s[1]) continue
      const w = (v - 1) * 8
      const words = this.words
      if (
        words[w] === s[0] &&
        words[w + 1] === s[1] &&
        words[w + 2] === s[2] &&
        words[w + 3] === s[3] &&
        words[w + 4] === s[4] &&
        words[w + 5] === s[5] &&
        words[w + 6] === s[6] &&
        words[w + 7] === s[7]
      )
        return v - 1
    }
  }

  /** place puts `row` in the first empty slot on its probe sequence. */
  private place(row: number): void {
    const mask = this.slots.length - 1
    let at = this.words[row * 8]! & mask
    while (this.slots[at] !== 0) at = (at + 1) & mask
    this.slots[at] = row + 1
    this.tags[at] = this.words[row * 8 + 1]!
  }

  private growRows(n: number): void {
    const words = new Uint32Array(8 * n)
    words.set(this.words)
    this.words = words
    const gone = new Uint8Array(n)
    gone.set(this.gone)
    this.gone = gone
  }

  private rehash(n: number): void {
    this.slots = new Int32Array(n)
    this.tags = new Uint32Array(n)
    for (let r = 0; r < this.rows; r++) this.place(r)
  }
}
