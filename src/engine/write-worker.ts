// Why: restoring is tens of thousands of small files — a SHA-256 check and five system calls each.
// This worker thread does both for a batch of files, so that the main thread only parses the tar
// streams coming out of gpg and zstd, and the work spreads over the cores.
import { createHash } from 'node:crypto'
import {
  closeSync,
  constants,
  fchmodSync,
  futimesSync,
  lstatSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { parentPort } from 'node:worker_threads'

/** WriteJob is one file to check and write. */
export interface WriteJob {
  readonly path: Uint8Array
  readonly data: Uint8Array
  readonly hash: string
  readonly mode: number
  /** mtime in seconds, as utimes takes it */
  readonly mtime: number
  readonly overwrite: boolean
}

/** WriteOutcome is null when the file was written, else why not ('damaged' for a hash mismatch). */
export type WriteOutcome = string | null

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW

function writeOne(j: WriteJob): WriteOutcome {
  if (createHash('sha256').update(j.data).digest('hex') !== j.hash) return 'damaged'
  const p = Buffer.from(j.path.buffer, j.path.byteOffset, j.path.byteLength)
  try {
    if (j.overwrite) {
      // Never write through a symlink that is in the way: replace the link itself.
      try {
        if (lstatSync(p).isSymbolicLink()) unlinkSync(p)
      } catch {}
    }
    const fd = openSync(p, CREATE | (j.overwrite ? constants.O_TRUNC : constants.O_EXCL), 0o600)
    try {
      let off = 0
      while (off < j.data.length) off += writeSync(fd, j.data, off, j.data.length - off)
      fchmodSync(fd, j.mode)
      futimesSync(fd, j.mtime, j.mtime)
    } finally {
      closeSync(fd)
    }
    return null
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err)
  }
}

parentPort?.on('message', (m: { id: number; jobs: WriteJob[] }) => {
  parentPort!.postMessage({ id: m.id, outcomes: m.jobs.map(writeOne) })
})
