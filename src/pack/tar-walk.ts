// Why: the tar half of the one archive reader (pack-stream.ts), on restore's hot path. A streaming
// parser such as tar-stream hands member data over as views of the buffers it was given and releases
// them asynchronously, so those buffers can never be reused: each 1 MiB of decompressed pack was fresh
// memory, and its page faults cost more than the decompression (1.7 s of a worker's 3.6 s at 87,000
// files). This walker is synchronous: it hands each piece of member data to the caller before
// returning, so the caller can decompress into one buffer over and over. It reads what seb's archives
// hold (ustar headers, pax `x` records) and skips pax globals and GNU long names; members are counted
// as GNU tar lists them (its test has GNU tar as the oracle), since the index locates content by
// ordinal, never by name. Pure.

const BLOCK = 512

/** TarWalkHandler receives each member (ordinal, size, type flag), then its data in order, then its end. */
export interface TarWalkHandler {
  member(entry: number, size: number, typeflag: string): void
  data(entry: number, piece: Uint8Array): void
  end(entry: number): void
}

/** TarWalker parses a tar stream pushed in pieces of any size; `finish` checks that it ended cleanly. */
export class TarWalker {
  private readonly header = Buffer.from(new ArrayBuffer(BLOCK))
  /** the header as 32-bit words, for its checksum */
  private readonly words = new Uint32Array(this.header.buffer, 0, BLOCK / 4)
  private headerFill = 0
  /** bytes of member data (or of a pax/long-name body) still to come, then padding to skip */
  private remaining = 0
  private padding = 0
  private meta: { type: string; parts: Buffer[] } | null = null
  private paxSize: number | null = null
  private entry = -1
  private entries = 0
  private inMember = false

  constructor(private readonly on: TarWalkHandler) {}

  /** push parses `chunk`; every piece of data it holds is handed to the handler before this returns. */
  push(chunk: Uint8Array): void {
    let off = 0
    while (off < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - off)
        const piece = chunk.subarray(off, off + n)
        if (this.meta) this.meta.parts.push(Buffer.from(piece))
        else this.on.data(this.entry, piece)
        this.remaining -= n
        off += n
        if (this.remaining === 0) this.endBody()
        continue
      }
      if (this.padding > 0) {
        const n = Math.min(this.padding, chunk.length - off)
        this.padding -= n
        off += n
        continue
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - off)
      this.header.set(chunk.subarray(off, off + n), this.headerFill)
      this.headerFill += n
      off += n
      if (this.headerFill === BLOCK) {
        this.headerFill = 0
        this.startHeader()
      }
    }
  }

  /** finish throws unless the stream ended between members. */
  finish(): void {
    if (this.remaining > 0 || this.headerFill > 0 || this.meta || this.inMember)
      throw new Error('tar: unexpected end of data')
  }

  private startHeader(): void {
    const h = this.header
    if (h.every((b) => b === 0)) return // end-of-archive blocks
    if (!checksumOk(h, this.words)) throw new Error('tar: invalid header (checksum mismatch)')
    const typeflag = String.fromCharCode(h[156]!)
    const size = readSize(h)
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      if (size > 1024 * 1024) throw new Error('tar: extended header too large')
      this.meta = { type: typeflag, parts: [] }
      this.remaining = size
      if (size === 0) this.endBody()
      return
    }
    const memberSize = this.paxSize ?? (typeflag === '5' || typeflag === '2' || typeflag === '1' ? 0 : size)
    this.paxSize = null
    this.padding = (BLOCK - (memberSize % BLOCK)) % BLOCK
    this.entry = this.entries++
    this.inMember = true
    this.on.member(this.entry, memberSize, typeflag)
    this.remaining = memberSize
    if (memberSize === 0) this.endBody()
  }

  private endBody(): void {
    if (this.meta) {
      if (this.meta.type === 'x') this.paxSize = paxSize(Buffer.concat(this.meta.parts))
      this.meta = null
      return
    }
    this.inMember = false
    this.on.end(this.entry)
  }
}

/**
 * checksumOk checks a header's checksum: the sum of its bytes with the checksum field counted as spaces.
 * The bytes are summed four at a time, as two lanes of 16-bit sums in 32-bit words (each lane gets at
 * most 128 × 255, so none carries into the next): a header a member, this was 4 % of restore's CPU.
 */
function checksumOk(h: Buffer, words: Uint32Array): boolean {
  let even = 0
  let odd = 0
  for (let i = 0; i < BLOCK / 4; i++) {
    const w = words[i]!
    even += w & 0x00ff00ff
    odd += (w >>> 8) & 0x00ff00ff
  }
  let sum = (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16)
  for (let i = 148; i < 156; i++) sum += 32 - h[i]!
  return octal(h, 148, 156) === sum
}

/** readSize reads the ustar size field: octal text, or base-256 when its first byte has the high bit. */
function readSize(h: Buffer): number {
  if (h[124]! & 0x80) {
    let n = 0
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!
    return n
  }
  const n = octal(h, 124, 136)
  if (n === null) throw new Error('tar: invalid size field')
  return n
}

/**
 * octal reads a numeric header field: octal digits, perhaps after spaces, ended by a NUL or a space or
 * the field's end; an empty field is 0. Anything else is null.
 */
function octal(h: Buffer, from: number, to: number): number | null {
  let i = from
  while (i < to && h[i] === 0x20) i++
  let n = 0
  for (; i < to; i++) {
    const c = h[i]!
    if (c < 0x30 || c > 0x37) break
    n = n * 8 + (c - 0x30)
  }
  for (; i < to; i++) if (h[i] !== 0 && h[i] !== 0x20) return null
  return n
}

/** paxSize returns the `size` record of a pax extended header, or null. */
function paxSize(body: Buffer): number | null {
  let off = 0
  let size: number | null = null
  while (off < body.length) {
    const space = body.indexOf(0x20, off)
    if (space < 0) break
    const len = Number.parseInt(body.toString('latin1', off, space), 10)
    if (!Number.isSafeInteger(len) || len <= space - off || off + len > body.length)
      throw new Error('tar: invalid pax record')
    const record = body.toString('latin1', space + 1, off + len - 1)
    const eq = record.indexOf('=')
    if (eq > 0 && record.slice(0, eq) === 'size') {
      const n = Number(record.slice(eq + 1))
      if (!Number.isSafeInteger(n) || n < 0) throw new Error('tar: invalid pax size')
      size = n
    }
    off += len
  }
  return size
}
