// Lock staleness exactly as docs/design.md ("Locks") says: a lock is stale only when it names this
// machine and PID namespace and its pid is not running, or when the destination has not seen it
// rewritten for 30 minutes. An unreadable lock — JSON that does not parse, an object that cannot be
// read — is judged by its age alone: a fresh one blocks, whatever it holds.
import assert from 'node:assert/strict'
import type { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { RepositoryLockedError } from '../../src/errors.js'
import { acquireLock, isStale, type ListedLock, listLocks, STALE_AFTER_MS } from '../../src/repo/lock.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { type ByteRange, bufferBody, type Handle } from '../../src/storage/storage.js'

const me = { machine: 'a'.repeat(32), pidns: 'pid:[4026531836]' }
const dead = () => false
const alive = () => true
const now = { destination: 10 * STALE_AFTER_MS, local: 10 * STALE_AFTER_MS }
const info = (over: object = {}) => ({
  host: 'h',
  machine: me.machine,
  pidns: me.pidns,
  pid: 4242,
  command: 'backup',
  kind: 'backup' as const,
  created: new Date(now.local).toISOString(),
  heartbeat: new Date(now.local).toISOString(),
  ...over,
})
const listed = (i: ReturnType<typeof info> | null, modified: number): ListedLock => ({
  name: 'b'.repeat(32),
  info: i,
  object: { name: 'b'.repeat(32), size: 100, modified },
})

/** UnreadableLocks is a destination on which one lock object is listed but cannot be read. */
class UnreadableLocks extends MemoryStorage {
  override load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (s: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (h.type === 'lock' && h.name === 'd'.repeat(32)) return Promise.reject(new Error('EIO: cannot read'))
    return super.load(h, range, consume, signal)
  }
}

describe('lock staleness', () => {
  it('a dead pid is stale only on this machine and in this PID namespace', () => {
    assert.equal(isStale(listed(info(), now.destination), now, me, dead), true)
    assert.equal(isStale(listed(info(), now.destination), now, me, alive), false)
    assert.equal(isStale(listed(info({ pidns: 'pid:[1]' }), now.destination), now, me, dead), false)
    assert.equal(isStale(listed(info({ machine: 'c'.repeat(32) }), now.destination), now, me, dead), false)
  })

  it('an old heartbeat, by the destination clock, is stale; a fresh one is not', () => {
    const old = now.destination - STALE_AFTER_MS - 1000
    assert.equal(isStale(listed(info({ pidns: 'x' }), old), now, me, alive), true)
    assert.equal(isStale(listed(info({ pidns: 'x' }), now.destination - 1000), now, me, alive), false)
  })

  it('an unreadable lock is not stale for being unreadable: only its age counts', () => {
    assert.equal(isStale(listed(null, now.destination), now, me, dead), false)
    assert.equal(isStale(listed(null, now.destination - STALE_AFTER_MS - 1000), now, me, dead), true)
    // Without destination times, an unreadable lock has no age that can be trusted: never stale.
    assert.equal(isStale(listed(null, 0), { destination: 0, local: now.local }, me, dead), false)
  })

  it('a fresh lock whose JSON does not parse, or whose object cannot be read, blocks a writer (exit 11) and stays', async () => {
    for (const [name, bytes] of [
      ['c'.repeat(32), '{"host":"h","machine":'],
      ['d'.repeat(32), '{}'],
    ] as const) {
      const storage = new UnreadableLocks()
      await storage.save({ type: 'lock', name }, bufferBody(Buffer.from(bytes)))
      const locks = await listLocks(storage)
      assert.equal(locks.length, 1)
      assert.equal(locks[0]!.info, null)
      await assert.rejects(acquireLock(storage, 'backup', 'backup', me), (err: unknown) => {
        assert.ok(err instanceof RepositoryLockedError)
        assert.match((err as Error).message, /an unreadable lock \(judged by its age only\)/)
        return true
      })
      assert.deepEqual(
        (await listLocks(storage)).map((l) => l.name),
        [name],
      )
    }
  })
})
