// Why: packs a run uploaded but did not live to commit must not be uploaded again (restic#59): each is
// recorded here, in the local cache folder, once it is on the destination and before anything refers
// to it. The next run on this machine checks each is still there with its size and adopts it; a
// commit that refers to them clears the journal.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { WirePack } from '../core/commit-codec.js'
import { appendLineSynced } from '../util/atomic-file.js'

/** Journal is the list of uploaded, uncommitted packs of one repository on this machine. */
export class Journal {
  readonly file: string

  constructor(cacheDir: string) {
    this.file = path.join(cacheDir, 'pending.jsonl')
  }

  /** read returns the packs uploaded by runs that did not commit. */
  async read(): Promise<WirePack[]> {
    let text = ''
    try {
      text = await fs.readFile(this.file, 'utf8')
    } catch {
      return []
    }
    const out: WirePack[] = []
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        out.push(JSON.parse(line) as WirePack)
      } catch {
        // A line cut by a crash: that pack is an orphan and will be removed as such.
      }
    }
    return out
  }

  /** append records an uploaded pack before anything refers to it. */
  async append(p: WirePack): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 })
    await appendLineSynced(this.file, JSON.stringify(p))
  }

  /** clear forgets pending packs once a commit refers to them. */
  async clear(): Promise<void> {
    await fs.rm(this.file, { force: true })
  }
}
