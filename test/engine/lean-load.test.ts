// A read-only command (restore, ls, find) loads a cache at the destination's head without the tables
// only a backup uses. These tests show it never costs the next backup anything: a lean load saves
// nothing, and a cache behind the head, rebuilt by a restore, is loaded and saved whole.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

describe('a reader’s lean load of the cache', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const storage = new LocalStorage(path.join(work.dir, 'dest'))
  const atHead = path.join(work.dir, 'cache-at-head')
  const behind = path.join(work.dir, 'cache-behind')
  const late = 'late mail, after the cache copy\n'.repeat(50)

  before(async () => {
    process.env.GNUPGHOME = g.home
    await makeMaildir(src, 40)
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    await backup({ source: src, storage, cacheBase: atHead })
    await fs.cp(atHead, behind, { recursive: true })
    await fs.writeFile(path.join(src, 'INBOX', 'cur', '1800000000.M1P1.host:2,S'), late)
    await backup({ source: src, storage, cacheBase: atHead })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  /** restoreThenBackUp restores the newest snapshot with `cacheBase`, checks it, then backs up with it. */
  async function restoreThenBackUp(cacheBase: string) {
    const out = path.join(work.dir, `restored-${path.basename(cacheBase)}`)
    const r = await restore({ storage, target: out, cacheBase })
    assert.deepEqual(r.failed, [])
    await assertSameTree(src, out, { ignore: isExcludedByDefault })
    return backup({ source: src, storage, cacheBase })
  }

  it('a restore from a cache at the head leaves it whole: the next backup reads no file', async () => {
    const s = await restoreThenBackUp(atHead)
    assert.equal(s.bytesRead, 0)
    assert.equal(s.filesAdded + s.filesChanged + s.filesDeleted, 0)
  })

  it('a restore from a cache behind the head rebuilds and saves it with its facts: the next backup reads only the file the cache never saw', async () => {
    const s = await restoreThenBackUp(behind)
    assert.equal(s.bytesRead, Buffer.byteLength(late))
    assert.equal(s.bytesUploaded < 4096 + Buffer.byteLength(late), true, `uploaded ${s.bytesUploaded}`)
  })
})
