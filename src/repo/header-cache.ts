// Why: the search headers of every stored message (docs/design.md, `h` lines) are read only by
// `seb find` and `seb restore --message-id`, so they are not part of the index a backup holds in memory:
// the local cache keeps them in `headers.jsonl`, one JSON array per message, with a marker line
// `["c","<commit>"]` after each commit's lines that says up to which commit the file is complete. A
// commit appends its own lines; a checkpoint and a rebuild from the destination rewrite the file with
// only what the index keeps. A stale or missing file is rebuilt from the commits (secret key).
import { createReadStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { createInterface } from 'node:readline'
import type { WireHeaders } from '../core/commit-codec.js'
import { writeFileAtomic } from '../util/atomic-file.js'

/** HEADERS_FILE is the cache file's name. */
export const HEADERS_FILE = 'headers.jsonl'

/** HeaderSet is the search headers by content hash, and the commit they are complete at (null: unknown). */
export interface HeaderSet {
  readonly byHash: Map<string, WireHeaders>
  readonly at: string | null
}

const marker = (commit: string) => `${JSON.stringify(['c', commit])}\n`

/** HeaderCache is one repository's headers.jsonl. */
export class HeaderCache {
  readonly file: string

  constructor(cacheDir: string) {
    this.file = path.join(cacheDir, HEADERS_FILE)
  }

  /** at returns the commit the file is complete at (its last marker), or null. */
  async at(): Promise<string | null> {
    let fh: fs.FileHandle
    try {
      fh = await fs.open(this.file, 'r')
    } catch {
      return null
    }
    try {
      const size = (await fh.stat()).size
      const n = Math.min(size, 256)
      const buf = Buffer.alloc(n)
      await fh.read(buf, 0, n, size - n)
      const lines = buf.toString('utf8').split('\n').filter(Boolean)
      return parseMarker(lines[lines.length - 1] ?? '')
    } finally {
      await fh.close()
    }
  }

  /**
   * append adds a commit's headers, each as its JSON text (commit-codec's headerTexts); the marker
   * follows only when the file was complete at `after` (the commit before), so that a stale file never
   * claims to be complete. Best effort: a cache.
   */
  async append(texts: Iterable<string>, commit: string, after: string | null): Promise<void> {
    try {
      const complete = (await this.at()) === after || (after === null && !(await exists(this.file)))
      // Written a few thousand lines at a time: a first backup's headers are never one string.
      let text = ''
      let n = 0
      for (const t of texts) {
        text += `${t}\n`
        if (++n % 4096 === 0) {
          await fs.appendFile(this.file, text, { mode: 0o600 })
          text = ''
        }
      }
      if (complete) text += marker(commit)
      if (text) await fs.appendFile(this.file, text, { mode: 0o600 })
    } catch {}
  }

  /** write replaces the file with `headers`, complete at `commit`. */
  async write(headers: Iterable<WireHeaders>, commit: string): Promise<void> {
    function* pieces(): Generator<Uint8Array> {
      let batch = ''
      for (const h of headers) {
        batch += `${JSON.stringify(h)}\n`
        if (batch.length > 1 << 16) {
          yield Buffer.from(batch)
          batch = ''
        }
      }
      yield Buffer.from(batch + marker(commit))
    }
    await writeFileAtomic(this.file, pieces())
  }

  /** read returns every header line (the last for a hash wins) and the commit the file is complete at. */
  async read(): Promise<HeaderSet> {
    const byHash = new Map<string, WireHeaders>()
    let at: string | null = null
    if (!(await exists(this.file))) return { byHash, at }
    const rl = createInterface({ input: createReadStream(this.file, 'utf8'), crlfDelay: Infinity })
    for await (const line of rl) {
      if (!line) continue
      let v: unknown
      try {
        v = JSON.parse(line)
      } catch {
        at = null // a line cut short: the file is not complete at any commit
        continue
      }
      if (!Array.isArray(v)) continue
      if (v[0] === 'c' && v.length === 2 && typeof v[1] === 'string') at = v[1]
      else if (v.length === 6 && typeof v[0] === 'string') {
        byHash.set(v[0], v as WireHeaders)
        at = null
      }
    }
    return { byHash, at }
  }
}

function parseMarker(line: string): string | null {
  try {
    const v = JSON.parse(line) as unknown
    return Array.isArray(v) && v[0] === 'c' && typeof v[1] === 'string' ? v[1] : null
  } catch {
    return null
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  )
}
