// Why: every backend must keep the same contracts (src/storage/storage.ts) or the engine's guarantees
// break on that destination. This conformance suite states them once; each backend's test file runs it
// against a real server.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { NotFoundError } from '../../src/errors.js'
import { TEMP_MARK } from '../../src/storage/layout.js'
import {
  bufferBody,
  type FileType,
  type Handle,
  type SaveBody,
  type Storage,
} from '../../src/storage/storage.js'

/** SuiteOptions tune the suite for slow backends. */
export interface SuiteOptions {
  /** listCount is how many packs the listing test holds (default 1100: more than one S3 page). */
  readonly listCount?: number
  /** seed stores objects for the listing test faster than save would (default: storage.save). */
  readonly seed?: (storage: Storage, h: Handle, data: Buffer) => Promise<void>
}

export const packName = (): string => randomBytes(32).toString('hex')
export const indexName = (): string => `${Math.floor(Date.now() / 1000)}-${randomBytes(8).toString('hex')}`
export const lockName = (): string => randomBytes(16).toString('hex')
export const pack = (name = packName()): Handle => ({ type: 'pack', name })
const CONFIG: Handle = { type: 'config', name: '' }

/** readAll is a consumer that collects a stream. */
export async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of s) chunks.push(Buffer.from(c as Buffer))
  return Buffer.concat(chunks)
}

/** load fetches a whole object or a range as a Buffer. */
export function load(
  st: Storage,
  h: Handle,
  range?: { offset?: number; length?: number },
  signal?: AbortSignal,
) {
  return st.load(h, range, readAll, signal)
}

/** listNames collects the names a listing yields (duplicates kept, to catch them). */
export async function listNames(
  st: Storage,
  type: FileType,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for await (const info of st.list(type, signal)) {
    assert.ok(!out.has(info.name), `listed twice: ${type} ${info.name}`)
    out.set(info.name, info.size)
  }
  return out
}

/** slowBody sends `data` in `parts` pieces with a pause before each, optionally stalling forever after `stallAfter`. */
export function slowBody(data: Buffer, parts: number, pauseMs: number, stallAfter?: number): SaveBody {
  return {
    length: data.length,
    open() {
      const step = Math.ceil(data.length / parts)
      let i = 0
      return new Readable({
        read() {
          if (stallAfter !== undefined && i >= stallAfter) return
          if (i * step >= data.length) return void this.push(null)
          const piece = data.subarray(i * step, (i + 1) * step)
          i++
          setTimeout(() => this.push(piece), pauseMs)
        },
      })
    },
  }
}

/** wrongLengthBody announces `claimed` bytes but sends `data`. */
export function wrongLengthBody(data: Buffer, claimed: number): SaveBody {
  return { length: claimed, open: () => Readable.from([data]) }
}

async function parallel<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

async function expectAbort(p: Promise<unknown>, reason: unknown, withinMs: number): Promise<void> {
  const t0 = Date.now()
  await assert.rejects(p, (err) => {
    assert.equal(err, reason, `rejected with ${String(err)} instead of the signal's reason`)
    return true
  })
  assert.ok(Date.now() - t0 < withinMs, `took ${Date.now() - t0} ms to honour the abort`)
}

/**
 * runStorageSuite checks one backend against the Storage contracts. `makeStorage` must return a
 * storage on a fresh, empty repository location each time it is called.
 */
export function runStorageSuite(
  name: string,
  makeStorage: () => Promise<Storage>,
  options: SuiteOptions = {},
): void {
  describe(`${name}: storage conformance`, () => {
    const opened: Storage[] = []
    let st: Storage
    const fresh = async () => {
      const s = await makeStorage()
      opened.push(s)
      return s
    }

    before(async () => {
      st = await fresh()
    })
    after(async () => {
      for (const s of opened) await s.close().catch(() => {})
    })

    it('saves and loads each kind of object, and stat reports the size', async () => {
      const objs: [Handle, Buffer][] = [
        [pack(), randomBytes(3 * 1024 * 1024 + 17)],
        [{ type: 'index', name: indexName() }, randomBytes(4000)],
        [{ type: 'lock', name: lockName() }, Buffer.from('{"host":"x"}')],
        [CONFIG, randomBytes(300)],
        [pack(), Buffer.alloc(0)],
        [{ type: 'commit', name: indexName() }, randomBytes(500)],
        [{ type: 'sig', name: indexName() }, randomBytes(200)],
        [{ type: 'key', name: 'signing' }, randomBytes(100)],
      ]
      const before = Date.now()
      for (const [h, data] of objs) await st.save(h, bufferBody(data))
      for (const [h, data] of objs) {
        assert.deepEqual(await load(st, h), data, `${h.type} ${h.name}`)
        const { modified, ...rest } = await st.stat(h)
        assert.deepEqual(rest, { name: h.name, size: data.length })
        // The destination's clock, only used to judge a lock's age: within a minute of ours.
        assert.ok(Math.abs(modified - before) < 60_000, `${h.type} modified ${modified} vs ${before}`)
      }
      assert.equal((await listNames(st, 'config')).get(''), 300)
    })

    it('reports missing objects as NotFoundError from load, stat and remove', async () => {
      const h = pack()
      let called = false
      await assert.rejects(
        st.load(h, undefined, async () => {
          called = true
        }),
        NotFoundError,
      )
      await assert.rejects(st.load(h, { offset: 5, length: 0 }, readAll), NotFoundError)
      assert.equal(called, false, 'consume must not run for a missing object')
      await assert.rejects(st.stat(h), NotFoundError)
      await assert.rejects(st.remove(h), NotFoundError)
      await assert.rejects(st.stat({ type: 'index', name: indexName() }), NotFoundError)
    })

    it('removes objects', async () => {
      const h = { type: 'lock', name: lockName() } as const
      await st.save(h, bufferBody(Buffer.from('x')))
      await st.remove(h)
      await assert.rejects(st.stat(h), NotFoundError)
      assert.ok(!(await listNames(st, 'lock')).has(h.name))
    })

    it('loads byte ranges at random offsets, empty ranges and ranges to the end', async () => {
      const data = randomBytes(1024 * 1024 + 123)
      const h = pack()
      await st.save(h, bufferBody(data))
      const size = data.length
      const ranges: { offset?: number; length?: number }[] = [
        { offset: 0, length: size },
        { offset: 0 },
        {},
        { offset: 0, length: 0 },
        { offset: 1000, length: 0 },
        { offset: size, length: 0 },
        { offset: size - 1 },
        { offset: size },
        { offset: 0, length: 1 },
        { length: 10 },
        { offset: size - 10, length: 10 },
      ]
      for (let i = 0; i < 12; i++) {
        const offset = Math.floor(Math.random() * size)
        const length = Math.floor(Math.random() * (size - offset))
        ranges.push(i % 3 === 0 ? { offset } : { offset, length })
      }
      for (const r of ranges) {
        const start = r.offset ?? 0
        const end = r.length === undefined ? size : start + r.length
        const got = await load(st, h, r)
        assert.equal(got.length, end - start, `range ${JSON.stringify(r)}`)
        assert.ok(got.equals(data.subarray(start, end)), `range ${JSON.stringify(r)}`)
      }
    })

    it('lists every object exactly once, over more than 1000 objects', async () => {
      const s = await fresh()
      const n = options.listCount ?? 1100
      const want = new Map<string, number>()
      const handles: [Handle, Buffer][] = []
      for (let i = 0; i < n; i++) {
        const data = randomBytes(1 + (i % 37))
        const h = pack()
        want.set(h.name, data.length)
        handles.push([h, data])
      }
      const indexes = new Map<string, number>()
      for (let i = 0; i < 3; i++) {
        const name = indexName()
        indexes.set(name, 10 + i)
        handles.push([{ type: 'index', name }, randomBytes(10 + i)])
      }
      const seed = options.seed ?? ((x: Storage, h: Handle, d: Buffer) => x.save(h, bufferBody(d)))
      await parallel(handles, Math.max(4, s.connections * 2), ([h, d]) => seed(s, h, d))
      assert.deepEqual(await listNames(s, 'pack'), want)
      assert.deepEqual(await listNames(s, 'index'), indexes)
      assert.deepEqual(await listNames(s, 'lock'), new Map())
      assert.deepEqual(await listNames(s, 'config'), new Map())
    })

    it('fails a body shorter or longer than announced and leaves nothing listed', async () => {
      const s = await fresh()
      const short = pack()
      const long = pack()
      await assert.rejects(s.save(short, wrongLengthBody(randomBytes(1000), 2000)))
      await assert.rejects(s.save(long, wrongLengthBody(randomBytes(3000), 2000)))
      const big = pack()
      await assert.rejects(s.save(big, wrongLengthBody(randomBytes(600 * 1024), 300 * 1024)))
      for (const h of [short, long, big]) await assert.rejects(s.stat(h), NotFoundError)
      assert.deepEqual(await listNames(s, 'pack'), new Map())
    })

    it('handles odd but valid names', async () => {
      const s = await fresh()
      const hs: Handle[] = [
        pack('0'.repeat(64)),
        pack('f'.repeat(64)),
        { type: 'index', name: '0000000000-0000000000000000' },
        { type: 'index', name: '9999999999-ffffffffffffffff' },
        { type: 'lock', name: '0'.repeat(32) },
      ]
      for (const h of hs) await s.save(h, bufferBody(Buffer.from(h.name)))
      for (const h of hs) assert.equal((await load(s, h)).toString(), h.name)
      assert.deepEqual([...(await listNames(s, 'pack')).keys()].sort(), ['0'.repeat(64), 'f'.repeat(64)])
      assert.equal((await listNames(s, 'index')).size, 2)
      assert.deepEqual([...(await listNames(s, 'lock')).keys()], ['0'.repeat(32)])
    })

    it('replaces the config atomically: readers see the old or the new one, never a mix', async () => {
      const s = await fresh()
      const a = Buffer.alloc(512 * 1024, 'a')
      const b = Buffer.alloc(512 * 1024 + 7, 'b')
      await s.save(CONFIG, bufferBody(a))
      let done = false
      const saving = s.save(CONFIG, slowBody(b, 8, 40)).finally(() => {
        done = true
      })
      let reads = 0
      while (!done) {
        const got = await load(s, CONFIG)
        assert.ok(got.equals(a) || got.equals(b), `read a mix of ${got.length} bytes`)
        reads++
        // Let timers run: an in-memory load completes without ever yielding to them.
        await new Promise((resolve) => setImmediate(resolve))
      }
      await saving
      assert.ok(reads > 0)
      assert.ok((await load(s, CONFIG)).equals(b))
      assert.deepEqual(await listNames(s, 'config'), new Map([['', b.length]]))
    })

    it('honours an AbortSignal in every method', async () => {
      const s = await fresh()
      const h = pack()
      await s.save(h, bufferBody(randomBytes(4 * 1024 * 1024)))
      const ac = new AbortController()
      const reason = new Error('stop now')
      ac.abort(reason)
      await expectAbort(s.save(pack(), bufferBody(Buffer.from('x')), ac.signal), reason, 2000)
      await expectAbort(load(s, h, undefined, ac.signal), reason, 2000)
      await expectAbort(s.stat(h, ac.signal), reason, 2000)
      await expectAbort(s.remove(h, ac.signal), reason, 2000)
      await expectAbort(listNames(s, 'pack', ac.signal), reason, 2000)

      // Mid-save: the body stalls half-way; the call must end promptly and leave nothing.
      const stalled = pack()
      const ac2 = new AbortController()
      const reason2 = new Error('stop the save')
      const saving = s.save(stalled, slowBody(randomBytes(1024 * 1024), 8, 5, 4), ac2.signal)
      await sleep(300)
      ac2.abort(reason2)
      await expectAbort(saving, reason2, 3000)
      await assert.rejects(s.stat(stalled), NotFoundError)

      // Mid-load: a slow consumer; the call must end promptly with the reason.
      const ac3 = new AbortController()
      const reason3 = new Error('stop the load')
      const loading = s.load(
        h,
        undefined,
        async (stream) => {
          for await (const _ of stream) await sleep(50)
        },
        ac3.signal,
      )
      await sleep(150)
      ac3.abort(reason3)
      await expectAbort(loading, reason3, 3000)
      // The backend is still usable afterwards.
      assert.equal((await s.stat(h)).size, 4 * 1024 * 1024)
    })

    it("propagates the consumer's error from load", async () => {
      const h = pack()
      await st.save(h, bufferBody(randomBytes(2 * 1024 * 1024)))
      const boom = new Error('consumer failed')
      await assert.rejects(
        st.load(h, undefined, async (stream) => {
          for await (const _ of stream) throw boom
        }),
        (err) => err === boom,
      )
      const early = new Error('consumer failed at once')
      await assert.rejects(
        st.load(h, { offset: 10 }, async () => {
          throw early
        }),
        (err) => err === early,
      )
      assert.equal((await load(st, h, { offset: 1, length: 2 })).length, 2)
    })

    it('never lists temporary files, during or after an interrupted save', async () => {
      const s = await fresh()
      const h = pack()
      const ac = new AbortController()
      const saving = s.save(h, slowBody(randomBytes(512 * 1024), 8, 5, 3), ac.signal)
      saving.catch(() => {})
      await sleep(400)
      const during = await listNames(s, 'pack')
      assert.equal(during.size, 0, `listed during save: ${[...during.keys()]}`)
      ac.abort(new Error('interrupted'))
      await assert.rejects(saving)
      await sleep(100)
      const afterwards = await listNames(s, 'pack')
      assert.equal(afterwards.size, 0)
      for (const k of afterwards.keys()) assert.ok(!k.includes(TEMP_MARK))
    })
  })
}
