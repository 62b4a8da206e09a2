// Damaged repositories: a flipped byte, a truncated pack, a missing pack, a damaged index. verify names
// the pack and the files affected (exit 13); restore gives back everything else, lists what it could
// not, and exits 13; nothing crashes with a stack trace; an earlier index still works.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { tempDir } from '../helpers/tree.js'

describe('damage', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const pristine = path.join(work.dir, 'pristine')
  let n = 0
  let dest = ''
  let env: Record<string, string> = {}
  let oldPack = ''
  let newPack = ''
  const packs = async (d: string) => {
    const out: string[] = []
    for (const x of await fs.readdir(path.join(d, 'packs')))
      for (const f of await fs.readdir(path.join(d, 'packs', x))) out.push(f)
    return out
  }
  const packPath = (id: string) => path.join(dest, 'packs', id.slice(0, 2), id)
  before(async () => {
    await fs.mkdir(path.join(src, 'INBOX/cur'), { recursive: true })
    for (let i = 0; i < 20; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/old-${i}:2,S`), `old message ${i}\n`.repeat(200))
    const e = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache-p') }
    assert.equal((await runSeb(['init', pristine, '--recipient', g.keys[0]!.fingerprint], e)).code, 0)
    assert.equal((await runSeb(['backup', src, pristine], e)).code, 0)
    const first = await packs(pristine)
    for (let i = 0; i < 5; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/new-${i}:2,S`), `new message ${i}\n`.repeat(200))
    assert.equal((await runSeb(['backup', src, pristine], e)).code, 0)
    oldPack = first[0]!
    newPack = (await packs(pristine)).find((p) => p !== oldPack)!
  })
  beforeEach(async () => {
    // Each case damages its own copy of the repository, with a cold cache.
    n++
    dest = path.join(work.dir, `dest${n}`)
    await fs.cp(pristine, dest, { recursive: true })
    env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, `cache${n}`) }
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('an intact repository verifies (exit 0), quick and with --read-data', async () => {
    const q = await runSeb(['verify', dest], env)
    assert.equal(q.code, 0, q.stderr)
    assert.match(q.stdout, /no problems found: 2 snapshots, 2 packs checked/)
    const r = await runSeb(['verify', dest, '--read-data'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /2 read and 25 files hashed/)
  })

  it('a flipped byte: verify --read-data names the pack and its files (13); restore restores the rest (13)', async () => {
    const data = await fs.readFile(packPath(newPack))
    data[Math.floor(data.length / 2)]! ^= 0x01
    await fs.writeFile(packPath(newPack), data)
    const v = await runSeb(['verify', dest, '--read-data'], env)
    assert.equal(v.code, 13)
    assert.match(v.stderr, new RegExp(`seb: damaged: pack ${newPack} is damaged`))
    for (let i = 0; i < 5; i++) assert.match(v.stderr, new RegExp(`affects INBOX/cur/new-${i}:2,S`))
    assert.doesNotMatch(v.stderr, /old-/)
    assert.doesNotMatch(v.stderr, /\n\s+at /)
    const out = path.join(work.dir, `out${n}`)
    const r = await runSeb(['restore', dest, out], env)
    assert.equal(r.code, 13)
    assert.match(r.stderr, /seb: 5 files could not be restored \(listed above\); everything else was/)
    assert.equal(
      (await fs.readdir(path.join(out, 'INBOX/cur'))).filter((f) => f.startsWith('old-')).length,
      20,
    )
  })

  it('a truncated pack: quick verify reports its size (13)', async () => {
    const data = await fs.readFile(packPath(oldPack))
    await fs.writeFile(packPath(oldPack), data.subarray(0, data.length - 100))
    const v = await runSeb(['verify', dest], env)
    assert.equal(v.code, 13)
    assert.match(
      v.stderr,
      new RegExp(
        `seb: damaged: pack ${oldPack} has ${data.length - 100} bytes, the index says ${data.length} \\(truncated or damaged\\)`,
      ),
    )
    assert.match(v.stderr, /affects INBOX\/cur\/old-0:2,S/)
    const r = await runSeb(['restore', dest, path.join(work.dir, `out${n}`)], env)
    assert.equal(r.code, 13)
    assert.match(r.stderr, /seb: 20 files could not be restored/)
  })

  it('a missing pack: verify says so (13); restore gives back the other files (13)', async () => {
    await fs.rm(packPath(oldPack))
    const v = await runSeb(['verify', dest], env)
    assert.equal(v.code, 13)
    assert.match(v.stderr, new RegExp(`seb: damaged: pack ${oldPack} is missing`))
    const out = path.join(work.dir, `out${n}`)
    const r = await runSeb(['restore', dest, out], env)
    assert.equal(r.code, 13)
    assert.match(
      r.stderr,
      new RegExp(`INBOX/cur/old-3:2,S: not restored: pack ${oldPack} is missing from the destination`),
    )
    assert.deepEqual(
      (await fs.readdir(path.join(out, 'INBOX/cur'))).sort(),
      [0, 1, 2, 3, 4].map((i) => `new-${i}:2,S`),
    )
  })

  it('a damaged newest index: verify reports it (13); restore uses the earlier one (13)', async () => {
    const commits = (await fs.readdir(path.join(dest, 'commits'))).sort()
    const newest = path.join(dest, 'commits', commits[commits.length - 1]!)
    const data = await fs.readFile(newest)
    data[data.length - 10]! ^= 0xff
    await fs.writeFile(newest, data)
    const v = await runSeb(['verify', dest], env)
    assert.equal(v.code, 13, v.stderr)
    assert.match(v.stderr, new RegExp(`seb: damaged: commit ${commits[commits.length - 1]} is damaged`))
    const out = path.join(work.dir, `out${n}`)
    const r = await runSeb(['restore', dest, out], env)
    assert.equal(r.code, 13)
    assert.match(r.stderr, /damaged index: .*restored the newest readable snapshot/)
    assert.equal((await fs.readdir(path.join(out, 'INBOX/cur'))).length, 20, 'the first snapshot, intact')
  })

  it('--read-data-subset reads only its share of the packs', async () => {
    const a = await runSeb(['verify', dest, '--read-data-subset', '1/2'], env)
    const b = await runSeb(['verify', dest, '--read-data-subset', '2/2'], env)
    assert.equal(a.code, 0)
    assert.equal(b.code, 0)
    assert.match(a.stdout, /1 read/)
    assert.match(b.stdout, /1 read/)
    const bad = await runSeb(['verify', dest, '--read-data-subset', '3/2'], env)
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--read-data-subset 3\/2: give N\/M/)
  })

  it('--against lists how the source differs from the latest snapshot', async () => {
    const s2 = path.join(work.dir, `src-copy${n}`)
    await fs.cp(src, s2, { recursive: true })
    await fs.rm(path.join(s2, 'INBOX/cur/old-0:2,S'))
    await fs.writeFile(path.join(s2, 'INBOX/cur/old-1:2,S'), 'changed')
    await fs.writeFile(path.join(s2, 'INBOX/cur/brand-new'), 'x')
    const v = await runSeb(['verify', dest, '--against', s2], env)
    assert.equal(v.code, 0)
    assert.match(v.stdout, /added\s+INBOX\/cur\/brand-new/)
    assert.match(v.stdout, /changed\s+INBOX\/cur\/old-1:2,S/)
    assert.match(v.stdout, /missing\s+INBOX\/cur\/old-0:2,S/)
  })
})
