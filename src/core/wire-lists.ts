// Why: a run's changes are written as a commit record's lines and applied to the index, and a first
// backup of a million files has a million added entries and a million stored contents. As wire arrays
// (an array per record, a 64-character hex string per hash) they cost some 270 bytes a file, held from
// the last file read until the commit is written, which is where a first backup's memory peaked. These
// lists hold the same records as columns (hashes as their 32 raw bytes) and make each record's array
// only when it is read; they read like the arrays they replace (WireList), and JSON.stringify writes
// them as those arrays. Pure: no I/O.
import type { WireBlob, WireEntry, WireList } from './commit-codec.js'
import { HashColumn } from './hash-column.js'
import type { EntryKind } from './model.js'

const KINDS: readonly EntryKind[] = ['f', 'l', 'd']
const KIND_CODE: Record<EntryKind, number> = { f: 0, l: 1, d: 2 }

const widen = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(a: T, b: T): T => {
  b.set(a)
  return b
}

/** EntryList is a commit's added entries ([path, kind, ref, size, mtimeMs, mode]) as columns. */
export class EntryList implements WireList<WireEntry> {
  private readonly paths: string[] = []
  private readonly refs = new HashColumn()
  private kinds = new Uint8Array(0)
  private modes = new Uint32Array(0)
  private numbers = new Float64Array(0)

  get length(): number {
    return this.paths.length
  }

  /** push adds one entry at the end. */
  push(...[path, kind, ref, size, mtimeMs, mode]: WireEntry): void {
    const i = this.paths.length
    if (i >= this.kinds.length) {
      const n = Math.max(256, 2 * this.kinds.length)
      this.kinds = widen(this.kinds, new Uint8Array(n))
      this.modes = widen(this.modes, new Uint32Array(n))
      this.numbers = widen(this.numbers, new Float64Array(2 * n))
      this.refs.grow(n)
    }
    this.paths.push(path)
    this.kinds[i] = KIND_CODE[kind]
    this.refs.set(i, ref)
    this.numbers[2 * i] = size
    this.numbers[2 * i + 1] = mtimeMs
    this.modes[i] = mode
  }

  /** at makes entry i's array. */
  at(i: number): WireEntry {
    return [
      this.paths[i]!,
      KINDS[this.kinds[i]!]!,
      this.refs.get(i),
      this.numbers[2 * i]!,
      this.numbers[2 * i + 1]!,
      this.modes[i]!,
    ]
  }

  *[Symbol.iterator](): Iterator<WireEntry> {
    for (let i = 0; i < this.paths.length; i++) yield this.at(i)
  }

  toJSON(): WireEntry[] {
    return [...this]
  }
}

/** BlobList is a pack's stored contents ([hash, size, tarPath, entry, normalized hash?]) as columns. */
export class BlobList implements WireList<WireBlob> {
  private readonly tarPaths: string[] = []
  private readonly hashes = new HashColumn()
  private sizes = new Float64Array(0)
  private entries = new Int32Array(0)
  /** normalized hashes (the `b` line's sixth element), for the contents that have one */
  private readonly norms = new HashColumn()
  private hasNorm = new Uint8Array(0)

  get length(): number {
    return this.tarPaths.length
  }

  /** push adds one content at the end. */
  push(hash: string, size: number, tarPath: string, entry: number, norm?: string): void {
    const i = this.tarPaths.length
    if (i >= this.sizes.length) {
      const n = Math.max(64, 2 * this.sizes.length)
      this.sizes = widen(this.sizes, new Float64Array(n))
      this.entries = widen(this.entries, new Int32Array(n))
      this.hasNorm = widen(this.hasNorm, new Uint8Array(n))
      this.hashes.grow(n)
      if (this.norms.capacity) this.norms.grow(n)
    }
    this.tarPaths.push(tarPath)
    this.hashes.set(i, hash)
    this.sizes[i] = size
    this.entries[i] = entry
    if (norm !== undefined) {
      this.norms.grow(this.sizes.length)
      this.norms.set(i, norm)
      this.hasNorm[i] = 1
    }
  }

  /** at makes content i's array. */
  at(i: number): WireBlob {
    const hash = this.hashes.get(i)
    const [size, tarPath, entry] = [this.sizes[i]!, this.tarPaths[i]!, this.entries[i]!]
    return this.hasNorm[i] ? [hash, size, tarPath, entry, this.norms.get(i)] : [hash, size, tarPath, entry]
  }

  *[Symbol.iterator](): Iterator<WireBlob> {
    for (let i = 0; i < this.tarPaths.length; i++) yield this.at(i)
  }

  toJSON(): WireBlob[] {
    return [...this]
  }
}
