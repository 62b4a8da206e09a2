// Why: the local files seb keeps (the cache's state, key rotation's progress, the machine data's pins
// and keys) must never be seen half-written after a crash: each is written to a temporary name beside
// it, synced, and renamed over the old one (the classic atomic replace), with owner-only permissions.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'

/** writeFileAtomic replaces `file` with `data` (pieces written in order), or leaves it as it was. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
  mode = 0o600,
): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`
  const fh = await fs.open(tmp, 'w', mode)
  try {
    if (typeof data === 'string') await fh.write(data)
    else if (data instanceof Uint8Array) await fh.write(data)
    else for (const piece of data) await fh.write(piece)
    await fh.sync()
  } catch (err) {
    await fh.close()
    await fs.rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  await fs.rename(tmp, file)
}

/** appendLineSynced appends one line to `file` (created owner-only) and syncs it: a journal entry. */
export async function appendLineSynced(file: string, line: string, mode = 0o600): Promise<void> {
  const fh = await fs.open(file, 'a', mode)
  try {
    await fh.write(`${line}\n`)
    await fh.sync()
  } finally {
    await fh.close()
  }
}
