// Why: the one layout of a member in seb's archives, for every writer: the read workers (which lay out
// a batch of files as tar members before compressing it), the pack writer (folders, symlinks, large
// files, the end of the archive) and the commit writer (the record and its hard links). A member is a
// header (a pax extended header when the name, target or mtime need it, then ustar: tar-header.ts),
// the content, and zero padding to the 512-byte block; uid and gid are the writing process's.
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type TarEntry } from './tar-header.js'

export { END_OF_ARCHIVE, paddingFor }

/** MEMBER_OVERHEAD is what a member adds to a file's bytes, at most for usual names: header, pax header, padding. */
export const MEMBER_OVERHEAD = 2048

const uid = process.getuid?.() ?? 0
const gid = process.getgid?.() ?? 0

/** memberHeader is the header block(s) of a member, owned by the writing process. */
export function memberHeader(e: Omit<TarEntry, 'uid' | 'gid'>): Buffer {
  return encodeHeader({ ...e, uid, gid })
}

/**
 * fileHeader is the header of a regular file's member. Called for every file a backup reads, it builds
 * the entry in one literal: going through memberHeader's spread made a read worker's V8 heap grow to
 * twice its size (13 → 24 MiB each, docs/decisions.md).
 */
export function fileHeader(path: string, size: number, mode: number, mtimeMs: number): Buffer {
  return encodeHeader({ path, type: 'file', size, mode, mtimeMs, uid, gid })
}

/** fileMember is a whole regular-file member, as the pieces to write in order (header, data, padding). */
export function fileMember(path: string, mode: number, mtimeMs: number, data: Uint8Array): Uint8Array[] {
  const parts: Uint8Array[] = [fileHeader(path, data.length, mode, mtimeMs)]
  if (data.length) parts.push(data)
  const pad = paddingFor(data.length)
  if (pad.length) parts.push(pad)
  return parts
}
