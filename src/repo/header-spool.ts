// Why: a backup learns the search headers of every message it stores (docs/design.md, `h` lines) as it
// reads them, and writes them into the commit at the end. Held in memory they were the largest thing a
// first backup kept per file (a JSON text of ~250 bytes a message: 22 MiB at 87,000 messages, 250 MiB
// at a million). This list keeps them in a file of the local cache's spool folder instead, one JSON
// line per message, and reads them back a piece at a time whenever the commit (or the cache) walks
// it. The file is plaintext headers, owner-only, like the cache's headers.jsonl; it goes with the spool.
import { randomBytes } from 'node:crypto'
import { closeSync, mkdirSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import type { HeaderLines, WireHeaders } from '../core/commit-codec.js'

/** Lines are written when this many bytes are buffered, and read back this many bytes at a time. */
const PIECE = 64 * 1024

/** HeaderSpool is a run's search headers, one JSON line each, in a spool file. */
export class HeaderSpool implements HeaderLines {
  private file: string | null = null
  private pending = ''
  private count = 0
  private keep: ((hash: string) => boolean) | null = null

  constructor(private readonly dir: string) {}

  /** length is the number of lines pushed (before `retain`'s filter). */
  get length(): number {
    return this.count
  }

  /** push appends one message's headers. */
  push(...h: WireHeaders): void {
    this.pushLines(`${JSON.stringify(h)}\n`, 1)
  }

  /** pushLines appends `count` messages' headers given as JSON lines, each ending in a newline. */
  pushLines(text: string, count: number): void {
    this.pending += text
    this.count += count
    if (this.pending.length >= PIECE) this.flush()
  }

  /** retain keeps, when read, only the messages whose content hash passes `keep`. */
  retain(keep: (hash: string) => boolean): this {
    this.keep = keep
    return this
  }

  *[Symbol.iterator](): Iterator<WireHeaders> {
    for (const t of this.texts()) yield JSON.parse(t) as WireHeaders
  }

  /** texts gives each message's headers as the JSON text pushed (after `retain`'s filter). */
  *texts(): Generator<string> {
    this.flush()
    if (!this.file) return
    const fd = openSync(this.file, 'r')
    try {
      const buf = Buffer.allocUnsafe(PIECE)
      let rest: Buffer = Buffer.alloc(0)
      let at = 0
      for (;;) {
        const n = readSync(fd, buf, 0, PIECE, at)
        if (n === 0) break
        at += n
        // A piece may end inside a UTF-8 sequence: cut at its last newline, keep the rest as bytes.
        const cut = buf.lastIndexOf(10, n - 1)
        if (cut < 0) {
          rest = Buffer.concat([rest, buf.subarray(0, n)])
          continue
        }
        const lines = Buffer.concat([rest, buf.subarray(0, cut)])
          .toString('utf8')
          .split('\n')
        rest = Buffer.alloc(0)
        at -= n - cut - 1
        for (const line of lines) {
          // Each line starts `["<64 hex digits>"`: the filter reads the hash without parsing.
          if (line && (!this.keep || this.keep(line.slice(2, 66)))) yield line
        }
      }
      if (rest.length) throw new Error(`header spool ${this.file}: its last line is cut short`)
    } finally {
      closeSync(fd)
    }
  }

  /** remove deletes the file (also done with the whole spool folder after a commit). */
  remove(): void {
    if (this.file) rmSync(this.file, { force: true })
    this.file = null
    this.pending = ''
    this.count = 0
  }

  private flush(): void {
    if (!this.pending) return
    if (!this.file) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      this.file = path.join(this.dir, `headers-${process.pid}-${randomBytes(6).toString('hex')}.jsonl`)
    }
    const fd = openSync(this.file, 'a', 0o600)
    try {
      const bytes = Buffer.from(this.pending)
      let off = 0
      while (off < bytes.length) off += writeSync(fd, bytes, off)
    } finally {
      closeSync(fd)
    }
    this.pending = ''
  }
}
