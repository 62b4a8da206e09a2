// Why: the vocabulary shared by every layer: what a scanned entry, a stored version, a pack, a blob
// and a snapshot are. Plain data only, so the pure core can be tested without any I/O.

/** EntryKind: 'f' regular file, 'l' symbolic link, 'd' directory. */
export type EntryKind = 'f' | 'l' | 'd'

/** ScanEntry is one entry of the source tree as the scanner saw it (local facts included). */
export interface ScanEntry {
  /** path relative to the source root, '/'-separated, in seb's lossless string form (core/path-bytes). */
  readonly path: string
  readonly kind: EntryKind
  readonly size: number
  readonly mtimeMs: number
  readonly mode: number
  readonly ino: number
  readonly ctimeMs: number
  /** target of a symbolic link (kind 'l') */
  readonly target?: string
}

/** LocalFacts are what the local cache remembers of a file to tell it is unchanged without reading it. */
export interface LocalFacts {
  readonly size: number
  readonly mtimeMs: number
  readonly ino: number
  readonly ctimeMs: number
}

/**
 * Version is one state of one path, valid from commit `from` up to (excluding) commit `to`
 * (to = 0 while it is still the live state). `ref` is the content hash (SHA-256 hex) of a file,
 * the target of a symlink, or '' for a directory.
 */
export interface Version {
  readonly path: string
  readonly kind: EntryKind
  readonly ref: string
  readonly size: number
  readonly mtimeMs: number
  readonly mode: number
  readonly from: number
  to: number
}

/** BlobLocation says where the content with a given hash is stored: pack, entry ordinal, tar path. */
export interface BlobLocation {
  readonly pack: string
  readonly entry: number
  readonly size: number
  readonly tarPath: string
}

/** PackInfo describes one pack object. */
export interface PackInfo {
  readonly id: string
  /** size of the encrypted object in bytes */
  readonly size: number
  /** commit that added it */
  readonly seq: number
  /** uncompressed bytes of file content it holds */
  readonly contentBytes: number
}

/** SnapshotInfo is the summary of one backup run (one commit). */
export interface SnapshotInfo {
  readonly seq: number
  readonly id: string
  readonly time: string
  readonly host: string
  readonly source: string
  readonly files: number
  readonly bytes: number
  readonly uploaded: number
  readonly packsWritten: number
}

/** PackBlob is one content entry of a freshly written pack, as recorded in the commit. */
export interface PackBlob {
  readonly hash: string
  readonly size: number
  readonly tarPath: string
  readonly entry: number
}

/** WrittenPack is a pack as the pack writer reports it: the object plus the blobs it holds. */
export interface WrittenPack {
  readonly id: string
  readonly size: number
  readonly contentBytes: number
  readonly blobs: readonly PackBlob[]
}
