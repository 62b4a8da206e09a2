// Issue 17, family 9: a second writer where the first one's lock looks stale for the wrong reasons. A
// rate-limited backup (--limit-upload) holds its lock for seconds while it uploads; meanwhile a second
// backup of the same machine (same host name, same SEB_DATA_DIR so the same machine id) runs in another
// PID namespace (`unshare --pid --fork --mount-proc`: the first run's pid is not visible there), with a
// clock 45 minutes ahead (libfaketime), or both. Each must exit 11 and leave the first run's lock and
// temporary objects alone; the first run then commits. And a writer whose lock object is removed while
// it uploads stops without committing (exit 11).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { promises as fs, readdirSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SebRun } from '../helpers/cli.js'
import { requireBinary } from '../helpers/sshd.js'
import { tempDir } from '../helpers/tree.js'
import {
  assertEncryptedOnlyTo,
  assertExit,
  assertKept,
  Exit,
  type Listing,
  listing,
  written,
} from './checks.js'
import { addMail, args, Machine, makeOwner, makeRepo, type Repo, type RunOptions, World } from './victim.js'

const owner = makeOwner()
const work = tempDir('seb-sec-locks-')
const m = new Machine(work.dir, owner)
after(() => {
  owner.cleanup()
  work.cleanup()
})

const OTHER_PIDNS = ['unshare', '--pid', '--fork', '--mount-proc']
const CLOCK_AHEAD = ['faketime', '-f', '+45m']

/** tempObjects lists the temporary objects (`.seb-tmp-`) anywhere in the destination. */
function tempObjects(root: string): string[] {
  const out: string[] = []
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) walk(r)
      else if (e.name.includes('.seb-tmp-')) out.push(r)
    }
  }
  walk('')
  return out
}

const locks = (root: string) => readdirSync(path.join(root, 'locks')).filter((n) => /^[0-9a-f]{32}$/.test(n))

/** waitFor polls until `check` holds (or fails after `ms`). */
async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`${what}: not seen within ${ms} ms`)
    await sleep(20)
  }
}

describe('a second writer while a rate-limited backup holds its lock', () => {
  let repo: Repo
  let world: World
  let original: Listing
  let first: { child: import('node:child_process').ChildProcess; done: Promise<SebRun> }
  let firstLock = ''
  let firstTemps: string[] = []
  let cacheCopy = ''

  before(async () => {
    requireBinary('unshare', 'util-linux')
    requireBinary('faketime', 'faketime')
    repo = await makeRepo(m, {
      dest: path.join(work.dir, 'dest'),
      src: path.join(work.dir, 'src'),
      backups: 1,
    })
    world = new World([repo.dest, m.data, m.cache])
    await world.save()
    original = listing(repo.dest)
    // 1 MB that does not compress: 20 s of upload at 50 kB/s, longer than the three second writers
    // take on a busy machine (with 6 s, the third sometimes found the first run finished).
    await addMail(repo, 'big', randomBytes(1_000_000))
    cacheCopy = m.freshDir('cache')
    await fs.cp(m.cache, cacheCopy, { recursive: true })
    first = m.start(args(repo, 'backup', repo.src, repo.dest, '--limit-upload', '50k'), { key: 'public' })
    await waitFor('the first backup lock and temporary pack', 20_000, () => {
      const l = locks(repo.dest)
      const t = tempObjects(repo.dest)
      if (l.length !== 1 || !t.length) return false
      firstLock = l[0]!
      firstTemps = t
      return true
    })
  })
  after(() => first?.child.kill('SIGKILL'))

  const second = async (what: string, wrap: readonly string[]) => {
    assert.equal(first.child.exitCode, null, 'the first backup is still running')
    const o: RunOptions = { key: 'owner', cache: cacheCopy, wrap }
    const r = await m.run(args(repo, 'backup', repo.src, repo.dest), o)
    assertExit(r, Exit.Locked, what)
    assert.ok(locks(repo.dest).includes(firstLock), `${what}: the first run's lock was removed`)
    if (first.child.exitCode === null)
      for (const t of firstTemps)
        assert.ok(
          tempObjects(repo.dest).includes(t) || !tempObjects(repo.dest).length,
          `${what}: the first run's ${t} was deleted`,
        )
  }

  it('in another PID namespace, same host name and machine id: exit 11', () =>
    second('other PID namespace', OTHER_PIDNS))

  it('with a clock 45 minutes ahead (libfaketime), same PID namespace: exit 11', () =>
    second('clock ahead', CLOCK_AHEAD))

  it('with a clock 45 minutes ahead in another PID namespace: exit 11', () =>
    second('clock ahead, other PID namespace', [...OTHER_PIDNS, ...CLOCK_AHEAD]))

  it('nothing of the first run was deleted: it commits, and what it wrote is encrypted to the owner only', async () => {
    const r = await first.done
    assertExit(r, Exit.Ok, 'the first backup')
    const now = listing(repo.dest)
    assertKept(original, now, 'the first backup')
    const mine = written(original, now)
    assert.ok(
      mine.some((k) => k.startsWith('packs/')),
      'its pack is there',
    )
    assert.ok(
      mine.some((k) => /^(commits|index)\//.test(k)),
      'its commit is there',
    )
    assertEncryptedOnlyTo(repo.dest, mine, owner.pubHome, { keyIds: owner.encKeyIds })
  })

  it('a writer whose lock object is removed while it uploads stops without committing (exit 11) and deletes nothing', async () => {
    await world.reset()
    const run = m.start(args(repo, 'backup', repo.src, repo.dest, '--limit-upload', '50k'), { key: 'public' })
    try {
      let lock = ''
      await waitFor('the backup lock and temporary pack', 20_000, () => {
        const l = locks(repo.dest)
        if (l.length !== 1 || !tempObjects(repo.dest).length) return false
        lock = l[0]!
        return true
      })
      await fs.rm(path.join(repo.dest, 'locks', lock))
      const r = await run.done
      assertExit(r, Exit.Locked, 'the backup whose lock was removed')
      const now = listing(repo.dest)
      assertKept(original, now, 'the backup whose lock was removed')
      const commits = [...now.keys()].filter((k) => /^(commits|sigs|index)\//.test(k))
      assert.deepEqual(
        commits,
        [...original.keys()].filter((k) => /^(commits|sigs|index)\//.test(k)),
        'it committed',
      )
    } finally {
      run.child.kill('SIGKILL')
    }
  })
})
