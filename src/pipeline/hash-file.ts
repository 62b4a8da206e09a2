// Why: backup (files too large to read whole) and verify (the source compared with a snapshot) both
// need a file's SHA-256 without holding the file; one reader for both.
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'

/** HASH_READ_BYTES: the one buffer a large file is read into to be hashed. */
const HASH_READ_BYTES = 1024 * 1024

/**
 * hashFile hashes a file through one reused buffer: a stream's fresh 1 MiB chunk per read left a 16 MB
 * attachment's worth of garbage outside the heap until the next full GC, and raised a first backup's
 * peak by as much.
 */
export async function hashFile(file: Buffer): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256')
  const buf = Buffer.allocUnsafeSlow(HASH_READ_BYTES)
  const fh = await fs.open(file, 'r')
  let size = 0
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null)
      if (!bytesRead) break
      h.update(buf.subarray(0, bytesRead))
      size += bytesRead
    }
  } finally {
    await fh.close()
  }
  return { hash: h.digest('hex'), size }
}
