// Why: the index of a large mailbox is tens of MB of JSON. Building it as one string (and then one
// Buffer, and then a tar around it) held three copies at once at the end of a first backup; this
// produces the same JSON text in pieces, large arrays a batch of elements at a time. Pure.

/**
 * jsonChunks yields the JSON text of an object in pieces; joined, they equal JSON.stringify(obj). A
 * batch of 256 index entries is some 80 kB of text: under V8's 128 kB large-object limit, so each piece
 * dies young instead of waiting in the old generation for a full GC (with 2,000 a first backup's commit
 * left 27 MB of such strings, and its peak memory rose by up to 45 MB).
 */
export function* jsonChunks(obj: object, batch = 256): Generator<string> {
  yield '{'
  let first = true
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || typeof v === 'function') continue
    yield `${first ? '' : ','}${JSON.stringify(k)}:`
    first = false
    if (Array.isArray(v) && v.length > batch) {
      yield '['
      for (let i = 0; i < v.length; i += batch) {
        const part = v.slice(i, i + batch).map((x) => (x === undefined ? 'null' : JSON.stringify(x)))
        yield (i ? ',' : '') + part.join(',')
      }
      yield ']'
    } else yield JSON.stringify(v)
  }
  yield '}'
}

/** jsonBuffers returns the JSON as a list of Buffers (about `chunkBytes` each) and its total length. */
export function jsonBuffers(obj: object, chunkBytes = 1 << 20): { buffers: Buffer[]; length: number } {
  const buffers: Buffer[] = []
  let pending: string[] = []
  let pendingLength = 0
  let length = 0
  const flush = () => {
    if (!pending.length) return
    const b = Buffer.from(pending.join(''), 'utf8')
    buffers.push(b)
    length += b.length
    pending = []
    pendingLength = 0
  }
  for (const piece of jsonChunks(obj)) {
    pending.push(piece)
    pendingLength += piece.length
    if (pendingLength >= chunkBytes) flush()
  }
  flush()
  return { buffers, length }
}
