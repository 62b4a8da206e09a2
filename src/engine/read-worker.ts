// Why: reading and hashing 90,000 small files is per-file system calls and SHA-256, which would keep
// Node's main thread busy while it must feed the compressors. This worker thread does both for a batch
// of files at a time and hands back the bytes (transferred, not copied) with their hashes.
import { createHash } from 'node:crypto'
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

/** ReadRequest asks for a batch of files by absolute path bytes. */
export interface ReadRequest {
  readonly id: number
  readonly paths: Uint8Array[]
}

/** ReadResult is one file: its bytes and hash, or the error code that stopped the read. */
export interface ReadResult {
  readonly data: Uint8Array | null
  readonly hash: string
  readonly error: string | null
}

function readOne(path: Uint8Array): ReadResult {
  let fd = -1
  try {
    fd = openSync(Buffer.from(path.buffer, path.byteOffset, path.byteLength), 'r')
    // One byte more than the size: a read that returns 0 there proves the end without regrowing.
    // allocUnsafeSlow: not zero-filled, and not from the shared pool (which cannot be transferred).
    let buf = Buffer.allocUnsafeSlow(fstatSync(fd).size + 1)
    let got = 0
    for (;;) {
      if (got === buf.length) {
        // The file grew while we read it: keep reading what is there now.
        const bigger = Buffer.allocUnsafeSlow(buf.length * 2)
        buf.copy(bigger, 0, 0, got)
        buf = bigger
      }
      const n = readSync(fd, buf, got, buf.length - got, got)
      if (n === 0) break
      got += n
    }
    const data = buf.subarray(0, got)
    return { data, hash: createHash('sha256').update(data).digest('hex'), error: null }
  } catch (err) {
    return { data: null, hash: '', error: (err as NodeJS.ErrnoException).code ?? String(err) }
  } finally {
    if (fd >= 0) closeSync(fd)
  }
}

parentPort?.on('message', (req: ReadRequest) => {
  const results = req.paths.map(readOne)
  const transfer = results.flatMap((r) => (r.data ? [r.data.buffer as ArrayBuffer] : []))
  parentPort!.postMessage({ id: req.id, results }, transfer)
})
