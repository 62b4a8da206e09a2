// History: every snapshot restores to the tree as it was that day. Six simulated days of realistic mail
// churn (the benchmark's day-of-mail mutation: new mail, reads, flag renames, folder moves written the
// way mbsync and offlineimap write them, deletions, Trash emptied), a copy of the tree kept each day.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { mutateDay } from '../../bench/day-of-mail.js'
import { generateMaildir } from '../../bench/maildir-gen.js'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault } from '../helpers/maildir.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

const DAYS = 6

describe('history: every snapshot restores to its day', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const storage = new LocalStorage(path.join(work.dir, 'dest'))
  const cacheBase = path.join(work.dir, 'cache')
  const days: { snapshot: string; copy: string; uploaded: number; newBytes: number }[] = []
  before(async () => {
    process.env.GNUPGHOME = g.home
    await generateMaildir(src, { scale: 0.005, seed: 3 })
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    for (let d = 0; d <= DAYS; d++) {
      let newBytes = 0
      if (d > 0)
        newBytes = (await mutateDay(src, { seed: 3, day: d, scale: 0.02, newBytes: 64 * 1024 })).newBytes
      const s = await backup({ source: src, storage, cacheBase })
      const copy = path.join(work.dir, `day${d}`)
      await fs.cp(src, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true })
      days.push({ snapshot: s.snapshot!, copy, uploaded: s.bytesUploaded, newBytes })
    }
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('each of the snapshots restores byte- and mtime-identical to the tree of its day', async () => {
    for (const [d, day] of days.entries()) {
      const out = path.join(work.dir, `restored${d}`)
      const r = await restore({ storage, target: out, cacheBase, snapshot: day.snapshot })
      assert.deepEqual(r.failed, [], `day ${d}`)
      await assertSameTree(day.copy, out, { ignore: isExcludedByDefault })
    }
  })

  it('a day of mail uploads about its own new mail, not the archive', () => {
    for (const day of days.slice(1)) {
      // New messages compress to about half; the index adds a few kB. Never anything like the archive.
      assert.ok(
        day.uploaded < day.newBytes + 64 * 1024,
        `uploaded ${day.uploaded} for ${day.newBytes} new bytes`,
      )
    }
  })
})
