// One writer per repository: a second backup fails fast with exit 11 and says who holds the lock;
// stale locks (dead process on this host, or an old heartbeat) do not block; `seb unlock` removes
// stale locks only, or all with --force; readers do not block each other; Ctrl-C leaves the
// repository consistent and exits 130.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb, startSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

describe('locking and interruption', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache') }
  const lockFile = (name: string) => path.join(dest, 'locks', name)
  const writeLock = async (name: string, info: object) => {
    await fs.mkdir(path.join(dest, 'locks'), { recursive: true })
    await fs.writeFile(lockFile(name), JSON.stringify(info))
  }
  const now = () => new Date().toISOString()
  before(async () => {
    await makeMaildir(src, 20)
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('a live exclusive lock makes backup and compact fail fast with exit 11, naming the holder', async () => {
    await writeLock('a'.repeat(32), {
      host: 'otherhost',
      pid: 4242,
      command: 'backup',
      exclusive: true,
      created: now(),
      heartbeat: now(),
    })
    const b = await runSeb(['backup', src, dest], env)
    assert.equal(b.code, 11)
    assert.match(
      b.stderr,
      /seb: .*: repository is locked by backup \(pid 4242 on otherhost, since .*\); wait for it, or run 'seb unlock/,
    )
    assert.equal((await runSeb(['compact', dest], env)).code, 11)
    // Readers are blocked by a writer, too (compaction could delete what they read).
    assert.equal((await runSeb(['snapshots', dest], env)).code, 11)
    // unlock without --force keeps a live lock; --force removes it and says so.
    const u = await runSeb(['unlock', dest], env)
    assert.equal(u.code, 0)
    assert.match(u.stdout, /0 locks removed/)
    const f = await runSeb(['unlock', dest, '--force'], env)
    assert.match(f.stdout, new RegExp(`removed lock ${'a'.repeat(32)} \\(backup, pid 4242 on otherhost`))
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
  })

  it('stale locks do not block: a dead pid on this host, or a heartbeat older than 30 minutes', async () => {
    await writeLock('b'.repeat(32), {
      host: os.hostname(),
      pid: 2 ** 22 + 7,
      command: 'backup',
      exclusive: true,
      created: now(),
      heartbeat: now(),
    })
    const old = new Date(Date.now() - 31 * 60_000).toISOString()
    await writeLock('c'.repeat(32), {
      host: 'otherhost',
      pid: 1,
      command: 'backup',
      exclusive: true,
      created: old,
      heartbeat: old,
    })
    assert.deepEqual((await fs.readdir(path.join(dest, 'locks'))).sort(), ['b'.repeat(32), 'c'.repeat(32)])
    const u = await runSeb(['unlock', dest], env)
    assert.match(u.stdout, /2 locks removed/)
    assert.deepEqual(await fs.readdir(path.join(dest, 'locks')), [])
    // Neither blocks a run, which removes them by itself (crashed cron runs do not pile up locks).
    await writeLock('b'.repeat(32), {
      host: os.hostname(),
      pid: 2 ** 22 + 7,
      command: 'backup',
      exclusive: true,
      created: now(),
      heartbeat: now(),
    })
    await writeLock('c'.repeat(32), {
      host: 'otherhost',
      pid: 1,
      command: 'backup',
      exclusive: true,
      created: old,
      heartbeat: old,
    })
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
    assert.deepEqual(await fs.readdir(path.join(dest, 'locks')), [])
  })

  it('shared (reader) locks do not block each other', async () => {
    await writeLock('d'.repeat(32), {
      host: 'otherhost',
      pid: 1,
      command: 'restore',
      exclusive: false,
      created: now(),
      heartbeat: now(),
    })
    const s = await runSeb(['snapshots', dest], env)
    assert.equal(s.code, 0, s.stderr)
    const v = await runSeb(['verify', dest], env)
    assert.equal(v.code, 0, v.stderr)
    // …but a writer waits for readers.
    assert.equal((await runSeb(['backup', src, dest], env)).code, 11)
    await fs.rm(lockFile('d'.repeat(32)))
  })

  it('SIGINT during a backup stops it, exits 130, leaves no lock, and the next run completes', async () => {
    for (let i = 0; i < 300; i++)
      await fs.writeFile(path.join(src, `INBOX/new/big-${i}`), Buffer.alloc(200_000, i % 251))
    const run = startSeb(['backup', src, dest], env)
    let sent = false
    run.child.stderr.on('data', () => {
      if (!sent && run.stderr().includes('to read')) {
        sent = true // once: a second Ctrl-C means "exit now"
        run.child.kill('SIGINT')
      }
    })
    const { code, stderr } = await run.done
    assert.equal(code, 130, stderr)
    assert.match(stderr, /interrupted: the repository is consistent/)
    assert.deepEqual(await fs.readdir(path.join(dest, 'locks')), [])
    const v = await runSeb(['verify', dest], env)
    assert.equal(v.code, 0, v.stderr)
    const again = await runSeb(['backup', src, dest, '--json'], env)
    assert.equal(again.code, 0, again.stderr)
    const out = path.join(work.dir, 'restored')
    assert.equal((await runSeb(['restore', dest, out], env)).code, 0)
    assert.equal(
      (await fs.readdir(path.join(out, 'INBOX/new'))).filter((f) => f.startsWith('big-')).length,
      300,
    )
  })
})
