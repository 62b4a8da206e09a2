// Why: every destination (local directory, SFTP, S3, rclone) looks the same to the engine. This is the
// one contract they implement, translated from restic's internal/backend/backend.go. Backends never see
// arbitrary paths: only typed handles, mapped to object names by src/storage/layout.ts.
import { createReadStream } from 'node:fs'
import { Readable } from 'node:stream'

/** FileType is the closed set of object kinds a repository holds. */
export type FileType = 'config' | 'pack' | 'commit' | 'sig' | 'key' | 'lock' | 'index'

/** Handle names one object: its kind and its name within that kind ('' for the single config). */
export interface Handle {
  readonly type: FileType
  readonly name: string
}

/** ObjectInfo is what list and stat report about an object. */
export interface ObjectInfo {
  readonly name: string
  readonly size: number
  /**
   * when the object was last written, by the destination's own clock (ms since the epoch; 0 when the
   * backend cannot tell). Locks compare these with each other, never with this machine's clock.
   */
  readonly modified: number
}

/**
 * SaveBody is a body that can be sent more than once: open() must return a fresh stream of exactly
 * `length` bytes on every call, so that a retry can re-send it.
 */
export interface SaveBody {
  readonly length: number
  open(): Readable
  /**
   * file, when set, is a path the backend issued with spoolPath(): the bytes are already there, and the
   * backend may move the file into place instead of copying it.
   */
  readonly file?: string
}

/** ByteRange selects part of an object; both fields optional (whole object by default). */
export interface ByteRange {
  readonly offset?: number
  readonly length?: number
}

/**
 * Storage is one repository destination.
 *
 * Contracts (the conformance suite in test/storage/suite.ts checks each):
 * - save is atomic: a reader sees the whole object or nothing, never a partial one. Saving over an
 *   existing name replaces it atomically (seb only does so for the config at init).
 *   A body shorter or longer than `length` fails and leaves nothing behind.
 * - load calls `consume` with a stream of the object (or range); the backend opens and closes it.
 *   consume may be called more than once (on retry) and must be idempotent. A missing object rejects
 *   with NotFoundError, as does stat.
 * - list yields every object of a type exactly once (no missing or extra names), in no set order.
 * - remove of a missing object rejects with NotFoundError.
 * - every method honours `signal`: an aborted call rejects promptly with the signal's reason.
 * - failures that retrying cannot fix (auth, permission, no space) are PermanentStorageError.
 */
export interface Storage {
  /** location is the destination as the user would write it, without secrets. */
  readonly location: string
  /** connections is how many transfers the engine may run at once. */
  readonly connections: number
  save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void>
  load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T>
  stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo>
  list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo>
  remove(h: Handle, signal?: AbortSignal): Promise<void>
  /**
   * removeTemp deletes the temporary objects (`*.seb-tmp-*`) that killed uploads left behind and returns
   * how many it removed. Only backends that write temp names have it; the engine calls it after a commit,
   * under the exclusive lock (src/engine/cleanup.ts), so no upload of another run can be in progress —
   * except a reader's shared lock, which is why temp objects in `locks/` are left while recent.
   */
  removeTemp?(signal?: AbortSignal): Promise<number>
  /**
   * spoolPath (optional) returns a temporary path on the destination's own filesystem where the caller
   * may write the object's bytes and then save() it with `body.file` set: the backend renames instead
   * of copying. The path is a temporary name, so a killed run's leftover is removed by removeTemp.
   */
  spoolPath?(h: Handle): Promise<string>
  /**
   * localPath (optional) returns the path of an object on the local filesystem, for a reader that
   * hands the file itself to another process (gpg) instead of streaming it through Node.
   */
  localPath?(h: Handle): string
  close(): Promise<void>
}

/** bufferBody makes a SaveBody from bytes held in memory. */
export function bufferBody(data: Buffer): SaveBody {
  // A fresh stream per call so that a retry can re-send.
  return { length: data.length, open: () => Readable.from([data]) }
}

/**
 * fileBody makes a SaveBody from a file of `length` bytes. `file` is set so that a local destination
 * may move a file spooled at its spoolPath into place instead of copying it.
 */
export function fileBody(file: string, length: number): SaveBody {
  return { length, open: () => createReadStream(file, { highWaterMark: 1024 * 1024 }), file }
}
