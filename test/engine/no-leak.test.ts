// Nothing leaks: every byte seb writes to the destination is searched for plaintext from the source
// (a Subject line, a body line, file and folder names) and none is found. The local cache, which does
// hold names, is readable by its owner only.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import {
  assertDecryptable,
  assertNoPlaintext,
  assertPublicFactsOnly,
  readFolder,
} from '../helpers/leak-scan.js'
import { makeMaildir, SECRET_NAME, SECRET_NEEDLES } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await allFiles(p)))
    else out.push(p)
  }
  return out
}

describe('nothing leaks to the destination', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const cacheBase = path.join(work.dir, 'cache')
  before(async () => {
    process.env.GNUPGHOME = g.home
    await makeMaildir(src)
    const storage = new LocalStorage(dest)
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    await backup({ source: src, storage, cacheBase })
    await fs.rename(path.join(src, 'INBOX/cur', SECRET_NAME), path.join(src, 'INBOX/cur', `${SECRET_NAME}F`))
    await backup({ source: src, storage, cacheBase })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('no message content, file name or folder name appears in any object, names included', async () => {
    const needles = SECRET_NEEDLES
    const objects = await readFolder(dest)
    assertNoPlaintext(objects, needles)
    // The plaintext objects besides locks are the config (the signed settings) and the commit
    // signatures, and they hold only public facts.
    assertPublicFactsOnly(objects)
  })

  it('every pack, commit and key object decrypts with the system gpg and the owner key', async () => {
    const counts = assertDecryptable(await readFolder(dest), g.home)
    assert.ok(counts.whole >= 4, `${counts.whole} objects decrypted`)
  })

  it('the local cache is readable by its owner only', async () => {
    const [repoDir] = await fs.readdir(cacheBase)
    const dir = path.join(cacheBase, repoDir!)
    assert.equal((await fs.stat(dir)).mode & 0o777, 0o700)
    for (const f of await allFiles(dir))
      assert.equal((await fs.stat(f)).mode & 0o077, 0, `${f} is readable by others`)
  })
})
