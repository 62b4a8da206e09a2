// The lock rules of docs/design.md: one backup at a time, reads beside a backup and beside each
// other, compaction and key changes alone; a second writer fails fast with exit 11 and says who holds
// the lock; a lock is stale only when its process is provably gone (this machine, this PID namespace)
// or the destination has not seen it rewritten for 30 minutes — never because of a clock, a host name
// or an unreadable lock; `seb unlock` removes stale locks only, or all with --force; Ctrl-C leaves the
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
  let machine = ''
  let pidns = ''
  /** lock is a lock object as seb writes it (docs/design.md, "Locks"). */
  const lock = (kind: string, over: object = {}) => ({
    host: 'otherhost',
    machine: 'f'.repeat(32),
    pidns: 'pid:[1]',
    pid: 4242,
    command: kind === 'shared' ? 'restore' : kind === 'backup' ? 'backup' : 'compact',
    kind,
    created: now(),
    heartbeat: now(),
    ...over,
  })
  /** age makes the destination record a lock object as last written `minutes` ago. */
  const age = async (name: string, minutes: number) => {
    const t = (Date.now() - minutes * 60_000) / 1000
    await fs.utimes(lockFile(name), t, t)
  }
  before(async () => {
    await makeMaildir(src, 20)
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
    machine = (await fs.readFile(path.join(process.env.SEB_DATA_DIR!, 'machine-id'), 'utf8')).trim()
    pidns = await fs.readlink('/proc/self/ns/pid')
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('a live backup lock makes backup and compact fail fast with exit 11, naming the holder; reads go on', async () => {
    await writeLock('a'.repeat(32), lock('backup'))
    const b = await runSeb(['backup', src, dest], env)
    assert.equal(b.code, 11)
    assert.match(
      b.stderr,
      /seb: .*: repository is locked by backup \(pid 4242 on otherhost, since .*\); wait for it, or run 'seb unlock/,
    )
    assert.equal((await runSeb(['compact', dest], env)).code, 11)
    // Readers run beside a backup: it never deletes what they read.
    const s = await runSeb(['snapshots', dest], env)
    assert.equal(s.code, 0, s.stderr)
    // unlock without --force keeps a live lock; --force removes it and says so.
    const u = await runSeb(['unlock', dest], env)
    assert.equal(u.code, 0)
    assert.match(u.stdout, /0 locks removed/)
    const f = await runSeb(['unlock', dest, '--force'], env)
    assert.match(f.stdout, new RegExp(`removed lock ${'a'.repeat(32)} \\(backup, pid 4242 on otherhost`))
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
  })

  it('an exclusive lock (compaction, key rotation) stops readers too', async () => {
    await writeLock('e'.repeat(32), lock('exclusive'))
    assert.equal((await runSeb(['snapshots', dest], env)).code, 11)
    assert.equal((await runSeb(['restore', dest, path.join(work.dir, 'r-excl')], env)).code, 11)
    await fs.rm(lockFile('e'.repeat(32)))
  })

  it('stale locks do not block: a dead pid of this machine and PID namespace, or one the destination has not seen rewritten for 30 minutes', async () => {
    await writeLock('b'.repeat(32), lock('backup', { host: os.hostname(), machine, pidns, pid: 2 ** 22 + 7 }))
    await writeLock('c'.repeat(32), lock('backup'))
    await age('c'.repeat(32), 31)
    assert.deepEqual((await fs.readdir(path.join(dest, 'locks'))).sort(), ['b'.repeat(32), 'c'.repeat(32)])
    const u = await runSeb(['unlock', dest], env)
    assert.match(u.stdout, /2 locks removed/)
    assert.deepEqual(await fs.readdir(path.join(dest, 'locks')), [])
    // Neither blocks a run, which removes them by itself (crashed cron runs do not pile up locks).
    await writeLock('b'.repeat(32), lock('backup', { host: os.hostname(), machine, pidns, pid: 2 ** 22 + 7 }))
    await writeLock('c'.repeat(32), lock('backup'))
    await age('c'.repeat(32), 31)
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
    assert.deepEqual(await fs.readdir(path.join(dest, 'locks')), [])
  })

  it('what does not make a lock stale: a dead pid in another PID namespace, an old heartbeat the destination just saw written, an unreadable lock', async () => {
    // Another container with the same host name and machine data: its pids are not ours to judge.
    await writeLock(
      'f'.repeat(32),
      lock('backup', { host: os.hostname(), machine, pidns: 'pid:[4026539999]', pid: 2 ** 22 + 7 }),
    )
    // A writer whose clock is an hour behind: its heartbeat text is old, but the destination saw it now.
    const hourAgo = new Date(Date.now() - 60 * 60_000).toISOString()
    await writeLock('9'.repeat(32), lock('backup', { created: hourAgo, heartbeat: hourAgo }))
    await writeLock('8'.repeat(32), { not: 'a lock' })
    const u = await runSeb(['unlock', dest], env)
    assert.match(u.stdout, /0 locks removed/)
    for (const name of ['f'.repeat(32), '9'.repeat(32), '8'.repeat(32)]) {
      const b = await runSeb(['backup', src, dest], env)
      assert.equal(b.code, 11, `${name} blocks: ${b.stderr}`)
      await fs.rm(lockFile(name))
    }
  })

  it('shared (reader) locks do not block each other', async () => {
    await writeLock('d'.repeat(32), lock('shared'))
    const s = await runSeb(['snapshots', dest], env)
    assert.equal(s.code, 0, s.stderr)
    const v = await runSeb(['verify', dest], env)
    assert.equal(v.code, 0, v.stderr)
    // …and a backup goes on beside them; compaction waits for them.
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
    assert.equal((await runSeb(['compact', dest], env)).code, 11)
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
