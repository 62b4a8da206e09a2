// Why: the read and unpack workers are sent thousands of paths at a time. As one byte array of full
// paths (a root, '/', then each path as its exact bytes) with where each ends, they are cloned in one
// copy; as a Buffer per path, each was a structured clone of its own. Backup's read batches and
// restore's unpack lists both travel this way. Pure.
import { encodePath, hasEscapedBytes } from './path-bytes.js'

/** PathList is full paths one after the other, as bytes: path i ends at ends[i], where i + 1 starts. */
export interface PathList {
  readonly bytes: Uint8Array
  readonly ends: Uint32Array
}

/** joinPaths lays out `root` + '/' + each of `paths` (seb's path strings, turned back into their bytes). */
export function joinPaths(root: Uint8Array, paths: readonly string[]): PathList {
  // An escaped byte (a name that is not UTF-8) counts 3 in byteLength and is 1 raw: an upper bound.
  let size = 0
  for (const p of paths) size += root.length + 1 + Buffer.byteLength(p)
  const bytes = Buffer.allocUnsafeSlow(size)
  const ends = new Uint32Array(paths.length)
  let at = 0
  paths.forEach((p, i) => {
    bytes.set(root, at)
    at += root.length
    bytes[at++] = 0x2f // '/'
    if (hasEscapedBytes(p)) {
      const raw = encodePath(p)
      bytes.set(raw, at)
      at += raw.length
    } else at += bytes.write(p, at)
    ends[i] = at
  })
  return { bytes: bytes.subarray(0, at), ends }
}

/** pathAt is path i of a list, as a view of its bytes. */
export function pathAt(list: PathList, i: number): Buffer {
  const start = i === 0 ? 0 : list.ends[i - 1]!
  return Buffer.from(list.bytes.buffer, list.bytes.byteOffset + start, list.ends[i]! - start)
}
