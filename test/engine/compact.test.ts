// Deletions are cheap and reversible for the retention period; afterwards compaction reclaims the space
// by rewriting only the packs that are mostly dead, writing new packs and the index before deleting.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { compact } from '../../src/engine/compact.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { assertSameTree, createTree, tempDir } from '../helpers/tree.js'

const DAY = 86_400_000

async function packBytes(dest: string): Promise<number> {
  let n = 0
  for (const d of await fs.readdir(path.join(dest, 'packs')).catch(() => []))
    for (const f of await fs.readdir(path.join(dest, 'packs', d)))
      n += (await fs.stat(path.join(dest, 'packs', d, f))).size
  return n
}

/** words makes incompressible-enough text so pack sizes track content sizes. */
function words(seed: number, n: number): string {
  let x = seed
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    out.push(x.toString(36))
  }
  return out.join(' ')
}

describe('retention and compaction', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const cacheBase = path.join(work.dir, 'cache')
  const storage = new LocalStorage(dest)
  const t0 = Date.parse('2026-01-01T00:00:00Z')
  let clock = t0
  const now = () => clock
  let firstSnapshot = ''
  before(async () => {
    process.env.GNUPGHOME = g.home
    const spec: Record<string, string> = {}
    for (let i = 0; i < 40; i++) spec[`old/cur/m${i}:2,S`] = words(i, 3000)
    await createTree(src, spec)
    await init(storage, { recipients: [g.keys[0]!.fingerprint], retentionDays: 30 })
    firstSnapshot = (await backup({ source: src, storage, cacheBase, now, autoCompact: false })).snapshot!
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('a deletion rewrites nothing and the deleted mail stays restorable within retention', async () => {
    const before = await packBytes(dest)
    for (let i = 0; i < 30; i++) await fs.rm(path.join(src, `old/cur/m${i}:2,S`))
    clock = t0 + DAY
    const s = await backup({ source: src, storage, cacheBase, now, autoCompact: false })
    assert.equal(s.filesDeleted, 30)
    assert.equal(s.packsWritten, 0)
    assert.equal(await packBytes(dest), before)
    clock = t0 + 10 * DAY
    const c = await compact({ storage, cacheBase, now })
    assert.equal(c.snapshotsForgotten, 0)
    assert.equal(
      c.packsRewritten + c.packsDropped,
      0,
      'nothing is reclaimed while a retained snapshot still holds it',
    )
    const out = path.join(work.dir, 'r-early')
    const r = await restore({ storage, target: out, cacheBase, snapshot: firstSnapshot })
    assert.deepEqual(r.failed, [])
    assert.equal((await fs.readdir(path.join(out, 'old/cur'))).length, 40)
  })

  it('--dry-run reports what compaction would do and changes nothing', async () => {
    clock = t0 + 40 * DAY
    const before = await packBytes(dest)
    const c = await compact({ storage, cacheBase, now, dryRun: true })
    assert.equal(c.dryRun, true)
    assert.equal(c.snapshotsForgotten, 1)
    assert.equal(c.packsRewritten, 1)
    assert.equal(await packBytes(dest), before)
  })

  it('past retention, compaction forgets old snapshots and rewrites the mostly-dead pack; remote ≤ 1.15 × live', async () => {
    clock = t0 + 40 * DAY
    const before = await packBytes(dest)
    const c = await compact({ storage, cacheBase, now })
    assert.equal(c.snapshotsForgotten, 1)
    assert.equal(c.packsRewritten, 1)
    const afterBytes = await packBytes(dest)
    assert.ok(afterBytes < before, `pack bytes ${before} → ${afterBytes}`)
    // The floor: the live files alone, compressed and encrypted the same way (one fresh pack).
    const floorDest = path.join(work.dir, 'floor')
    const floor = new LocalStorage(floorDest)
    await init(floor, { recipients: [g.keys[0]!.fingerprint] })
    await backup({
      source: src,
      storage: floor,
      cacheBase: path.join(work.dir, 'floor-cache'),
      autoCompact: false,
    })
    assert.ok(
      afterBytes <= 1.15 * (await packBytes(floorDest)),
      `remote ${afterBytes} vs live ${await packBytes(floorDest)}`,
    )
    const out = path.join(work.dir, 'r-after')
    const r = await restore({ storage, target: out, cacheBase })
    assert.deepEqual(r.failed, [])
    await assertSameTree(src, out)
    await assert.rejects(
      restore({ storage, target: path.join(work.dir, 'r-gone'), cacheBase, snapshot: firstSnapshot }),
      /no such snapshot/,
    )
  })

  it('a backup with public keys only drops all-dead packs by itself, without decrypting', async () => {
    await createTree(src, { 'new/cur/n1:2,S': words(99, 3000) })
    clock = t0 + 41 * DAY
    await backup({ source: src, storage, cacheBase, now, autoCompact: false })
    await fs.rm(path.join(src, 'new'), { recursive: true })
    clock = t0 + 42 * DAY
    await backup({ source: src, storage, cacheBase, now, autoCompact: false })
    const pub = publicOnlyHome(g.keys[0]!)
    process.env.GNUPGHOME = pub.home
    try {
      clock = t0 + 80 * DAY
      const before = await packBytes(dest)
      const s = await backup({ source: src, storage, cacheBase, now })
      assert.equal(s.packsDropped, 1)
      assert.ok((await packBytes(dest)) < before)
    } finally {
      process.env.GNUPGHOME = g.home
      pub.cleanup()
    }
    const out = path.join(work.dir, 'r-final')
    await restore({ storage, target: out, cacheBase })
    await assertSameTree(src, out)
  })
})
