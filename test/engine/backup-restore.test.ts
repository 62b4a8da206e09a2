// Backup → restore round trips through the engine with the real gpg and a local destination: exact
// trees, subsets, history, incremental behaviour (renames upload no content), the cache being only a
// cache, and public-key-only backups.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { KeyError, UsageError } from '../../src/errors.js'
import { LocalStorage } from '../../src/storage/local.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

/**
 * withTmpDir runs `fn` with TMPDIR set to a new folder (where restore makes its FIFOs and downloads
 * packs) and returns what is left in it afterwards.
 */
async function withTmpDir(parent: string, fn: () => Promise<void>): Promise<string[]> {
  const tmp = await fs.mkdtemp(path.join(parent, 'tmpdir-'))
  const saved = process.env.TMPDIR
  process.env.TMPDIR = tmp
  try {
    await fn()
  } finally {
    if (saved === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = saved
  }
  return fs.readdir(tmp)
}

async function packCount(dest: string): Promise<number> {
  let n = 0
  for (const d of await fs.readdir(path.join(dest, 'packs')).catch(() => []))
    n += (await fs.readdir(path.join(dest, 'packs', d))).length
  return n
}

describe('backup and restore', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const cacheBase = path.join(work.dir, 'cache')
  const storage = new LocalStorage(dest)
  const ignore = isExcludedByDefault
  let firstSnapshot = ''
  let made: string[] = []
  const at = (rel: string) => path.join(src, rel)
  before(async () => {
    process.env.GNUPGHOME = g.home
    made = await makeMaildir(src)
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('first run stores everything and restores byte- and mtime-identical, with no extra files', async () => {
    const s = await backup({ source: src, storage, cacheBase })
    firstSnapshot = s.snapshot!
    assert.equal(s.filesAdded, made.length + 6) // + secret, empty, long, latin-1 named, uidlist, private
    assert.equal(s.filesDeleted, 0)
    assert.ok(s.packsWritten >= 1)
    const out = path.join(work.dir, 'r1')
    const r = await restore({ storage, target: out, cacheBase })
    assert.deepEqual(r.failed, [])
    await assertSameTree(src, out, { ignore, checkDirTimes: true })
  })

  it('a run with nothing changed writes no pack and an index record under 1 kB', async () => {
    const before = await packCount(dest)
    const s = await backup({ source: src, storage, cacheBase })
    assert.equal(await packCount(dest), before)
    assert.equal(s.packsWritten, 0)
    assert.equal(s.bytesRead, 0)
    assert.ok(s.bytesUploaded < 1024, `uploaded ${s.bytesUploaded} bytes`)
  })

  it('a flag rename and a folder move upload no content, only index', async () => {
    await fs.rename(at(made[1]!), at(made[1]!.replace(/:2,S$/, ':2,FS')))
    await fs.rename(at(made[2]!), at(`INBOX/cur/${path.basename(made[2]!)}`))
    const before = await packCount(dest)
    const s = await backup({ source: src, storage, cacheBase })
    assert.equal(s.filesRenamed, 2)
    assert.equal(s.filesDeleted, 0)
    assert.equal(s.filesAdded, 0)
    assert.equal(s.packsWritten, 0)
    assert.equal(await packCount(dest), before)
    assert.equal(s.bytesUploaded, s.indexBytes)
  })

  it('new mail is stored in a new pack; nothing already uploaded is rewritten', async () => {
    const packsBefore = new Set<string>()
    for (const d of await fs.readdir(path.join(dest, 'packs')))
      for (const f of await fs.readdir(path.join(dest, 'packs', d))) packsBefore.add(f)
    await fs.writeFile(path.join(src, 'INBOX/new/1800000000.new.laptop'), 'Subject: brand new\n\nhello\n')
    await fs.rm(at(made[3]!))
    const s = await backup({ source: src, storage, cacheBase })
    assert.equal(s.filesAdded, 1)
    assert.equal(s.filesDeleted, 1)
    assert.equal(s.packsWritten, 1)
    const after = new Set<string>()
    for (const d of await fs.readdir(path.join(dest, 'packs')))
      for (const f of await fs.readdir(path.join(dest, 'packs', d))) after.add(f)
    for (const p of packsBefore) assert.ok(after.has(p), 'an old pack was removed or rewritten')
    assert.equal(after.size, packsBefore.size + 1)
    const out = path.join(work.dir, 'r2')
    await restore({ storage, target: out, cacheBase })
    await assertSameTree(src, out, { ignore })
  })

  it('restores an earlier snapshot as it was, deleted mail included', async () => {
    const out = path.join(work.dir, 'r-first')
    const r = await restore({ storage, target: out, cacheBase, snapshot: firstSnapshot })
    assert.deepEqual(r.failed, [])
    const deleted = await fs.readFile(path.join(out, made[3]!))
    assert.ok(deleted.length > 0)
    await assert.rejects(fs.stat(path.join(out, 'INBOX/new/1800000000.new.laptop')))
    await assert.rejects(
      restore({ storage, target: path.join(work.dir, 'r-x'), cacheBase, snapshot: 'nosuch' }),
      UsageError,
    )
  })

  it('restores only the paths matching a glob', async () => {
    const out = path.join(work.dir, 'r-glob')
    const r = await restore({ storage, target: out, cacheBase, patterns: ['Archive.2019/**'] })
    assert.deepEqual(r.failed, [])
    const top = await fs.readdir(out)
    assert.deepEqual(top, ['Archive.2019'])
    await assertSameTree(path.join(src, 'Archive.2019'), path.join(out, 'Archive.2019'), { ignore })
  })

  it('refuses to restore over existing files unless --overwrite, writing nothing', async () => {
    const out = path.join(work.dir, 'r-exists')
    await fs.mkdir(path.join(out, 'INBOX/new'), { recursive: true })
    await fs.writeFile(path.join(out, 'INBOX/new/1800000000.new.laptop'), 'mine')
    await assert.rejects(
      restore({ storage, target: out, cacheBase }),
      /already exists; restore into an empty folder, or add --overwrite/,
    )
    assert.deepEqual((await fs.readdir(out)).sort(), ['INBOX'])
    assert.deepEqual(await fs.readdir(path.join(out, 'INBOX')), ['new'])
    const r = await restore({ storage, target: out, cacheBase, overwrite: true })
    assert.deepEqual(r.failed, [])
    await assertSameTree(src, out, { ignore })
  })

  it('the local cache is only a cache: without it the next run uploads no pack and restores identically', async () => {
    await fs.rm(cacheBase, { recursive: true, force: true })
    const before = await packCount(dest)
    const s = await backup({ source: src, storage, cacheBase })
    assert.equal(s.indexRebuilt, true)
    assert.equal(s.packsWritten, 0)
    assert.equal(await packCount(dest), before)
    assert.equal(s.filesAdded + s.filesChanged + s.filesRenamed + s.filesDeleted, 0)
    const out = path.join(work.dir, 'r-nocache')
    await fs.rm(cacheBase, { recursive: true, force: true })
    await restore({ storage, target: out, cacheBase })
    await assertSameTree(src, out, { ignore })
    // The restore left the index it rebuilt in the cache: the next backup needs the public key only.
    const pub = publicOnlyHome(g.keys[0]!)
    try {
      process.env.GNUPGHOME = pub.home
      const next = await backup({ source: src, storage, cacheBase })
      assert.equal(next.indexRebuilt, false)
    } finally {
      process.env.GNUPGHOME = g.home
      pub.cleanup()
    }
  })

  it('a local cache that cannot be written does not stop a restore: it is a warning', async () => {
    const blocker = path.join(work.dir, 'not-a-folder')
    await fs.writeFile(blocker, '')
    const warnings: string[] = []
    const out = path.join(work.dir, 'r-nocache-unwritable')
    const r = await restore({
      storage,
      target: out,
      cacheBase: path.join(blocker, 'cache'),
      progress: (e) => {
        if (e.type === 'warning') warnings.push(e.message)
      },
    })
    assert.deepEqual(r.failed, [])
    await assertSameTree(src, out, { ignore })
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0]!, /local cache was not saved/)
  })

  it('restores every file mode exactly, those the umask would mask and special bits included', async () => {
    const msrc = path.join(work.dir, 'modes')
    const modes = [0o600, 0o644, 0o400, 0o666, 0o777, 0o4755, 0o1600]
    await fs.mkdir(msrc)
    for (const m of modes) {
      const f = path.join(msrc, `m${m.toString(8)}`)
      await fs.writeFile(f, `mode ${m.toString(8)}\n`)
      await fs.chmod(f, m)
    }
    const mstorage = new LocalStorage(path.join(work.dir, 'dest-modes'))
    await init(mstorage, { recipients: [g.keys[0]!.fingerprint] })
    await backup({ source: msrc, storage: mstorage, cacheBase })
    const out = path.join(work.dir, 'r-modes')
    const r = await restore({ storage: mstorage, target: out, cacheBase })
    assert.deepEqual(r.failed, [])
    await assertSameTree(msrc, out)
    for (const m of modes) assert.equal((await fs.stat(path.join(out, `m${m.toString(8)}`))).mode & 0o7777, m)
  })

  it('restores from a destination that has no local files (each pack downloaded first), leaving no temporary file', async () => {
    const mem = new MemoryStorage()
    await init(mem, { recipients: [g.keys[0]!.fingerprint], packBytes: 64 * 1024 })
    await backup({ source: src, storage: mem, cacheBase: path.join(work.dir, 'mem-cache') })
    let packs = 0
    for await (const _ of mem.list('pack')) packs++
    assert.ok(packs > 1, `${packs} packs`)
    const out = path.join(work.dir, 'r-mem')
    const left = await withTmpDir(work.dir, async () => {
      const r = await restore({ storage: mem, target: out, cacheBase: path.join(work.dir, 'mem-cache') })
      assert.deepEqual(r.failed, [])
    })
    assert.deepEqual(left, [])
    await assertSameTree(src, out, { ignore })
  })

  it('a passphrase repository backs up and restores (gpg gets the passphrase on a pipe in the unpack worker)', async () => {
    const pdest = path.join(work.dir, 'dest-pass')
    const pstorage = new LocalStorage(pdest)
    const passphrase = Buffer.from('correct horse battery staple')
    await init(pstorage, { passphrase })
    const pcache = path.join(work.dir, 'cache-pass')
    await backup({ source: src, storage: pstorage, cacheBase: pcache, passphrase })
    const out = path.join(work.dir, 'r-pass')
    const left = await withTmpDir(work.dir, async () => {
      const r = await restore({ storage: pstorage, target: out, cacheBase: pcache, passphrase })
      assert.deepEqual(r.failed, [])
    })
    assert.deepEqual(left, [])
    await assertSameTree(src, out, { ignore })
    const wrong = await restore({
      storage: pstorage,
      target: path.join(work.dir, 'r-pass-wrong'),
      cacheBase: pcache,
      passphrase: Buffer.from('wrong'),
    }).catch((e: unknown) => e)
    assert.ok(wrong instanceof KeyError, String(wrong))
    assert.match(wrong.message, /wrong passphrase/)
  })

  it('backs up with the public key only; restoring then needs the secret key (exit 12)', async () => {
    const pub = publicOnlyHome(g.keys[0]!)
    try {
      process.env.GNUPGHOME = pub.home
      await fs.writeFile(path.join(src, 'INBOX/new/1800000001.pubonly.laptop'), 'written by a cron job\n')
      const s = await backup({ source: src, storage, cacheBase })
      assert.equal(s.filesAdded, 1)
      const err = await restore({
        storage,
        target: path.join(work.dir, 'r-pub'),
        cacheBase: path.join(work.dir, 'other-cache'),
      }).catch((e: unknown) => e)
      assert.ok(err instanceof KeyError, String(err))
      assert.equal(err.exitCode, 12)
      assert.match(err.message, /no secret key/)
      // With the index in the local cache, it is the unpack worker's gpg that finds no secret key.
      const fromPack = await restore({
        storage,
        target: path.join(work.dir, 'r-pub-cached'),
        cacheBase,
      }).catch((e: unknown) => e)
      assert.ok(fromPack instanceof KeyError, String(fromPack))
      assert.match(fromPack.message, /no secret key/)
    } finally {
      process.env.GNUPGHOME = g.home
      pub.cleanup()
    }
    const out = path.join(work.dir, 'r-after-pub')
    await restore({ storage, target: out, cacheBase })
    await assertSameTree(src, out, { ignore })
  })
})
