// Why: the shared utilities of src/util (the semaphore that bounds SSH connections and rclone
// processes, the errno wording) are used by storage and config alike; their contracts are pinned here.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errnoCode, errnoText } from '../../src/util/errno.js'
import { Semaphore } from '../../src/util/semaphore.js'

describe('Semaphore', () => {
  it('hands out permits in order and never more than its count', async () => {
    const sem = new Semaphore(2)
    const order: number[] = []
    let running = 0
    let peak = 0
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) =>
        sem.run(async () => {
          order.push(i)
          running++
          peak = Math.max(peak, running)
          await new Promise((r) => setTimeout(r, 5))
          running--
        }),
      ),
    )
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5])
    assert.equal(peak, 2)
    assert.equal(sem.available, 2)
  })

  it('a release called twice gives back one permit', async () => {
    const sem = new Semaphore(1)
    const release = await sem.acquire()
    release()
    release()
    assert.equal(sem.available, 1)
  })

  it('an aborted waiter leaves the queue with the signal reason and loses no permit', async () => {
    const sem = new Semaphore(1)
    const held = await sem.acquire()
    const ac = new AbortController()
    const waiting = sem.acquire(ac.signal)
    assert.equal(sem.waiting, 1)
    ac.abort(new Error('stop'))
    await assert.rejects(waiting, /stop/)
    assert.equal(sem.waiting, 0)
    held()
    assert.equal(sem.available, 1)
    await assert.rejects(sem.acquire(AbortSignal.abort(new Error('already'))), /already/)
  })

  it('refuses a permit count below one', () => {
    assert.throws(() => new Semaphore(0), RangeError)
  })
})

describe('errnoText', () => {
  it('words errno codes the same everywhere', () => {
    const err = Object.assign(new Error('EACCES: permission denied, open x'), { code: 'EACCES' })
    assert.equal(errnoText(err), 'permission denied')
    assert.equal(errnoText('EPERM'), 'permission denied')
    assert.equal(errnoText('ENOENT'), 'no such file')
    assert.equal(errnoText('EWHATEVER'), 'EWHATEVER')
    assert.equal(errnoText(new Error('plain')), 'plain')
    assert.equal(errnoCode(err), 'EACCES')
    assert.equal(errnoCode({ code: 2 }), undefined)
  })
})
