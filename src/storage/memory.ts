// Why: an in-memory destination for fast engine tests. It enforces the same contracts as the real
// backends (atomic save, length check, typed not-found), so tests using it prove something.
import { Readable } from 'node:stream'
import { NotFoundError } from '../errors.js'
import { assertValidHandle } from './layout.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'

/** MemoryStorage keeps objects in a Map; `writes` counts bytes saved, for tests of upload volume. */
export class MemoryStorage implements Storage {
  readonly location = 'memory:'
  readonly connections = 4
  readonly objects = new Map<string, Buffer>()
  /** when each object was saved (this process's clock stands in for the destination's) */
  private readonly modified = new Map<string, number>()
  bytesWritten = 0

  private key(h: Handle): string {
    assertValidHandle(h)
    return `${h.type}/${h.name}`
  }

  async save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    const chunks: Buffer[] = []
    const src = body.open()
    // A stalled body must not outlive an abort: destroying the source ends the loop below.
    const onAbort = () => src.destroy(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      for await (const c of src) chunks.push(Buffer.from(c as Buffer))
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
    const data = Buffer.concat(chunks)
    if (data.length !== body.length)
      throw new Error(`${h.type} ${h.name}: body has ${data.length} bytes, expected ${body.length}`)
    signal?.throwIfAborted()
    this.objects.set(this.key(h), data)
    this.modified.set(this.key(h), Date.now())
    this.bytesWritten += data.length
  }

  async load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (s: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    signal?.throwIfAborted()
    const data = this.objects.get(this.key(h))
    if (!data) throw new NotFoundError(`${h.type} ${h.name || 'config'}`)
    const start = range?.offset ?? 0
    const end = range?.length === undefined ? data.length : start + range.length
    // Copies in 64 KiB chunks, like a real stream: the consumer cannot alter the stored object and an
    // abort can interrupt a long read.
    const part = data.subarray(start, end)
    const pieces: Buffer[] = []
    for (let off = 0; off < part.length; off += 65536)
      pieces.push(Buffer.from(part.subarray(off, off + 65536)))
    const stream = Readable.from(pieces, { objectMode: false })
    const onAbort = () => stream.destroy(signal?.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      const out = await consume(stream)
      signal?.throwIfAborted()
      return out
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
      stream.destroy()
    }
  }

  async stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    signal?.throwIfAborted()
    const data = this.objects.get(this.key(h))
    if (!data) throw new NotFoundError(`${h.type} ${h.name || 'config'}`)
    return { name: h.name, size: data.length, modified: this.modified.get(this.key(h)) ?? 0 }
  }

  async *list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    signal?.throwIfAborted()
    const prefix = `${type}/`
    for (const [k, v] of [...this.objects]) {
      if (!k.startsWith(prefix)) continue
      signal?.throwIfAborted()
      yield { name: k.slice(prefix.length), size: v.length, modified: this.modified.get(k) ?? 0 }
    }
  }

  async remove(h: Handle, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    if (!this.objects.delete(this.key(h))) throw new NotFoundError(`${h.type} ${h.name || 'config'}`)
  }

  async close(): Promise<void> {}
}
