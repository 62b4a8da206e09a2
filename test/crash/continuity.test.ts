// Continuity without the secret key (issue 18): a machine can always continue from a commit it wrote
// itself. Killed after the commit point and before its cache followed (commit:signed, cache:promote),
// or when the reply to the signature's save was lost (the run fails not knowing it committed), the next public-key-only backup adopts the state
// the cache prepared ahead, tagged with the commit's name. A cache that knows nothing of the newest
// commit (put back from before the run, or lost) needs the owner's secret key once, and says so plainly.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup as backup_ } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import type { Handle, SaveBody } from '../../src/storage/storage.js'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

describe('continuity without the secret key', () => {
  const g = makeGnupgHome()
  const pub = publicOnlyHome(g.keys[0]!)
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const cacheDir = path.join(work.dir, 'cache')
  const cron = { GNUPGHOME: pub.home, SEB_CACHE_DIR: cacheDir, SEB_DATA_DIR: path.join(work.dir, 'data') }
  let n = 0
  const newMail = async () => {
    for (let i = 0; i < 3; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/c${n++}:2,S`), `mail ${n}\n`.repeat(50))
  }
  const backup = (extra: Record<string, string> = {}) =>
    runSeb(['backup', src, dest, '--json'], { ...cron, ...extra })
  before(async () => {
    process.env.GNUPGHOME = g.home
    await makeMaildir(src, 30)
    await init(new LocalStorage(dest), { recipients: [g.keys[0]!.fingerprint], dataBase: cron.SEB_DATA_DIR })
    const first = await backup()
    assert.equal(first.code, 0, first.stderr)
  })
  after(() => {
    work.cleanup()
    pub.cleanup()
    g.cleanup()
  })

  for (const point of ['commit:signed', 'cache:promote'])
    it(`killed at ${point}: the next public-key-only backup adopts the commit it made`, async () => {
      await newMail()
      const killed = await backup({ SEB_FAULT: point })
      assert.equal(killed.signal, 'SIGKILL')
      const next = await backup()
      assert.equal(next.code, 0, next.stderr)
      const s = JSON.parse(next.stdout.trim().split('\n').pop()!)
      assert.equal(s.indexRebuilt, false)
      assert.equal(s.bytesNew, 0, 'nothing the killed run committed is uploaded again')
    })

  it('the reply to a successful save of the signature is lost: the run fails, the next public-key-only backup adopts the commit', async () => {
    await newMail()
    // The signature object is saved, then the connection drops before the reply (an SFTP rename that
    // happened, whose status never arrived): the run cannot know it committed.
    class LostReply extends LocalStorage {
      override async save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
        await super.save(h, body, signal)
        if (h.type === 'sig') throw new Error('connection lost before the reply')
      }
    }
    const saved = { gnupg: process.env.GNUPGHOME, data: process.env.SEB_DATA_DIR }
    process.env.GNUPGHOME = pub.home
    process.env.SEB_DATA_DIR = cron.SEB_DATA_DIR
    try {
      await assert.rejects(
        backup_({
          source: src,
          storage: new LostReply(dest),
          cacheBase: cacheDir,
          dataBase: cron.SEB_DATA_DIR,
        }),
        /connection lost before the reply/,
      )
    } finally {
      process.env.GNUPGHOME = saved.gnupg
      process.env.SEB_DATA_DIR = saved.data
    }
    const next = await backup()
    assert.equal(next.code, 0, next.stderr)
    const s = JSON.parse(next.stdout.trim().split('\n').pop()!)
    assert.equal(s.indexRebuilt, false)
    assert.equal(s.bytesNew, 0, 'the lost-reply run committed: nothing uploaded again')
  })

  it('a cache put back from before the run, or lost, needs the secret key once, and says so plainly', async () => {
    const saved = path.join(work.dir, 'cache-before')
    await fs.cp(cacheDir, saved, { recursive: true })
    await newMail()
    assert.equal((await backup()).code, 0)
    // The cache as it was before that run: it knows nothing of the commit the run made.
    await fs.rm(cacheDir, { recursive: true })
    await fs.cp(saved, cacheDir, { recursive: true })
    const behind = await backup()
    assert.equal(behind.code, 12, behind.stderr)
    assert.match(
      behind.stderr,
      /cache is at commit \S+, behind the destination's newest commit \S+.*needs the owner's secret key \(or the passphrase\) once: run 'seb key setup /,
    )
    await fs.rm(cacheDir, { recursive: true })
    const lost = await backup()
    assert.equal(lost.code, 12)
    assert.match(lost.stderr, /cache holds no index for this repository .*needs the owner's secret key/)
    // Once, with the secret key: then the public key is enough again.
    assert.equal((await runSeb(['key', 'setup', dest], { ...cron, GNUPGHOME: g.home })).code, 0)
    await newMail()
    const again = await backup()
    assert.equal(again.code, 0, again.stderr)
    const out = path.join(work.dir, 'restored')
    assert.equal((await runSeb(['restore', dest, out], { ...cron, GNUPGHOME: g.home })).code, 0)
    await assertSameTree(src, out, { ignore: isExcludedByDefault })
  })
})
