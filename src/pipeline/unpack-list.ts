// Why: a pack holds some 2,400 mails, and restore tells an unpack worker, for each, its ordinal, hash and
// the paths it goes to. As objects (a Uint8Array path per file) that message cost the main thread 0.15 s
// of structured cloning over a 1.2 GB restore, the worker as much to rebuild, and the replies (an array
// per member) as much again. Here the list is a few typed arrays, cloned in one copy each; the worker
// answers with one byte per target. Pure: no I/O.
import { joinPaths, type PathList, pathAt } from '../core/path-list.js'

/** UnpackList is the wanted members of one pack and their targets (in the order added). */
export interface UnpackList {
  /** per member: its ordinal in the pack */
  readonly entries: Uint32Array
  /** per member: its SHA-256, 32 raw bytes each */
  readonly hashes: Uint8Array
  /** per member: its size in bytes, as the index says (a tar header claiming another is damage) */
  readonly sizes: Float64Array
  /** per member and one more: member i's targets are firstTarget[i] … firstTarget[i + 1] - 1 */
  readonly firstTarget: Uint32Array
  /** every target's full path */
  readonly paths: PathList
  readonly modes: Uint32Array
  /** per target: mtime in seconds, as utimes takes it */
  readonly mtimes: Float64Array
}

/** Written, Damaged and Missing are a target's outcome codes; an error code comes as text beside them. */
export const WRITTEN = 0
export const DAMAGED = 1
/** the member never came (the pack ended, or was unreadable, before it) */
export const MISSING = 2
export const FAILED = 3

/** TargetOutcomes is a worker's answer: one code per target, and the error code of each FAILED one. */
export interface TargetOutcomes {
  readonly codes: Uint8Array
  readonly errors: [target: number, code: string][]
}

/** UnpackListBuilder gathers the members wanted from one pack, with their paths under `root`. */
export class UnpackListBuilder {
  private readonly entries: number[] = []
  private readonly hashes: string[] = []
  private readonly sizes: number[] = []
  private readonly firstTarget: number[] = []
  private readonly paths: string[] = []
  private readonly modes: number[] = []
  private readonly mtimes: number[] = []

  /** `root` is the restore target's absolute path. */
  constructor(private readonly root: Uint8Array) {}

  /** size is the number of members added. */
  get size(): number {
    return this.entries.length
  }

  /** member starts member `entry` of `size` bytes, whose SHA-256 is `hash` (hex); its targets follow (`target`). */
  member(entry: number, hash: string, size: number): void {
    this.entries.push(entry)
    this.hashes.push(hash)
    this.sizes.push(size)
    this.firstTarget.push(this.paths.length)
  }

  /** target adds a path the last member goes to (mtime in seconds, as utimes takes it). */
  target(path: string, mode: number, mtime: number): void {
    this.paths.push(path)
    this.modes.push(mode)
    this.mtimes.push(mtime)
  }

  /** build makes the list. */
  build(): UnpackList {
    const hashes = Buffer.alloc(this.hashes.length * 32)
    this.hashes.forEach((h, i) => {
      hashes.write(h, i * 32, 32, 'hex')
    })
    return {
      entries: Uint32Array.from(this.entries),
      hashes: new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.length),
      sizes: Float64Array.from(this.sizes),
      firstTarget: Uint32Array.from([...this.firstTarget, this.paths.length]),
      paths: joinPaths(this.root, this.paths),
      modes: Uint32Array.from(this.modes),
      mtimes: Float64Array.from(this.mtimes),
    }
  }
}

/** targetPath is target t's path, as a view of the list's bytes. */
export function targetPath(list: UnpackList, t: number): Buffer {
  return pathAt(list.paths, t)
}

/** memberHash is member i's SHA-256, as a view of the list's bytes. */
export function memberHash(list: UnpackList, i: number): Buffer {
  return Buffer.from(list.hashes.buffer, list.hashes.byteOffset + i * 32, 32)
}
