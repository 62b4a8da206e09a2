// Hostile input at restore, past authentication: packs crafted by whoever holds the destination, and
// commits that are authentic but hostile (made with the repository key, as a compromised owner machine
// could) must never make restore write outside the target folder. They are crafted here by hand —
// seb's writer would never produce them. (test/security/ has the attacks made with the public key only.)
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type CommitRecord, emptyCommit, type WireEntry } from '../../src/core/commit-codec.js'
import type { GpgContext } from '../../src/crypto/gpg.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { sealBuffer } from '../../src/pack/seal.js'
import { LocalStorage } from '../../src/storage/local.js'
import { bufferBody } from '../../src/storage/storage.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { writeSignedCommit } from '../helpers/signed-commit.js'
import { tarOf } from '../helpers/tar.js'
import { tempDir } from '../helpers/tree.js'

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('hostile repositories cannot write outside the restore target', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const outside = path.join(work.dir, 'outside')
  let n = 0
  const setup = async () => {
    n++
    const storage = new LocalStorage(path.join(work.dir, `dest${n}`))
    const config = await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    const ctx: GpgContext = { encryption: config.encryption }
    return {
      storage,
      ctx,
      target: path.join(work.dir, `target${n}`),
      cacheBase: path.join(work.dir, `cache${n}`),
    }
  }
  const snapshot = (seq: number) => ({
    seq,
    id: `e${seq}`,
    time: new Date().toISOString(),
    host: 'evil',
    source: '/',
    files: 1,
    bytes: 1,
    uploaded: 0,
    packsWritten: 1,
  })
  /** craft stores one pack holding `data` as member 0, and a commit adding the entries given. */
  const craft = async (
    t: Awaited<ReturnType<typeof setup>>,
    data: Buffer,
    adds: (hash: string, size: number) => WireEntry[],
  ) => {
    const packId = randomBytes(32).toString('hex')
    const packTar = tarOf([
      { e: { path: 'f', type: 'file', size: data.length, mode: 0o644, mtimeMs: 0 }, data },
    ])
    await t.storage.save({ type: 'pack', name: packId }, bufferBody(await sealBuffer(t.ctx, packTar)))
    const record: CommitRecord = {
      ...emptyCommit('delta', 1, snapshot(1)),
      packs: [[packId, 0, data.length, [[sha(data), data.length, 'f', 0]]]],
      add: adds(sha(data), data.length),
    }
    await writeSignedCommit(t.storage, record)
  }
  const outsideUntouched = async () => assert.deepEqual(await fs.readdir(outside), ['keep'])
  before(async () => {
    process.env.GNUPGHOME = g.home
    await fs.mkdir(outside)
    await fs.writeFile(path.join(outside, 'keep'), 'do not touch')
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('pack members named ../x, /abs/x or ../../outside/keep are written only where the index says', async () => {
    const t = await setup()
    const evil = Buffer.from('pwned')
    const packTar = tarOf([
      {
        e: { path: '../../outside/keep', type: 'file', size: evil.length, mode: 0o644, mtimeMs: 0 },
        data: evil,
      },
      {
        e: { path: `${outside}/keep`, type: 'file', size: evil.length, mode: 0o644, mtimeMs: 0 },
        data: evil,
      },
      { e: { path: 'x', type: 'symlink', size: 0, mode: 0o777, mtimeMs: 0, linkPath: outside } },
    ])
    const packId = 'a'.repeat(64)
    await t.storage.save({ type: 'pack', name: packId }, bufferBody(await sealBuffer(t.ctx, packTar)))
    const record: CommitRecord = {
      ...emptyCommit('delta', 1, snapshot(1)),
      packs: [[packId, 0, 5, [[sha(evil), 5, 'ok', 0]]]],
      add: [['safe/file', 'f', sha(evil), 5, 1_000_000, 0o644]],
    }
    await writeSignedCommit(t.storage, record)
    const r = await restore({ storage: t.storage, target: t.target, cacheBase: t.cacheBase })
    assert.deepEqual(r.failed, [])
    assert.equal(await fs.readFile(path.join(t.target, 'safe/file'), 'utf8'), 'pwned')
    assert.deepEqual(await fs.readdir(t.target), ['safe'])
    await outsideUntouched()
  })

  for (const [what, p] of [
    ['a ../ path', '../outside/keep'],
    ['an absolute path', `${path.join(work.dir, 'outside')}/keep`],
    ['a path with an empty component', 'a//b'],
  ] as const) {
    it(`an index entry with ${what} is refused as damage before anything is written`, async () => {
      const t = await setup()
      await writeSignedCommit(t.storage, [JSON.stringify(['a', p, 'f', 'b'.repeat(64), 5, 0, 0o644])])
      await assert.rejects(
        restore({ storage: t.storage, target: t.target, cacheBase: t.cacheBase }),
        /no readable index|unsafe path|bad added entry/,
      )
      await assert.rejects(fs.stat(t.target))
      await outsideUntouched()
    })
  }

  it('a symlink pointing out of the target, then a file "through" it: the file is not written outside', async () => {
    const t = await setup()
    await craft(t, Buffer.from('through the link'), (hash, size) => [
      ['link', 'l', outside, 0, 0, 0o777],
      ['link/keep', 'f', hash, size, 0, 0o644],
      ['link2', 'l', '../../..', 0, 0, 0o777],
    ])
    const r = await restore({ storage: t.storage, target: t.target, cacheBase: t.cacheBase })
    await outsideUntouched()
    assert.equal(await fs.readFile(path.join(outside, 'keep'), 'utf8'), 'do not touch')
    // The file went into a real folder inside the target; the link that would shadow it was refused.
    assert.equal((await fs.lstat(path.join(t.target, 'link'))).isDirectory(), true)
    assert.ok(r.failed.some((f) => f.path === 'link'))
    // A symlink may point anywhere (it is restored as a link, never followed).
    assert.equal(await fs.readlink(path.join(t.target, 'link2')), '../../..')
  })

  it('restoring over an existing target that holds a symlink does not follow it (--overwrite)', async () => {
    const t = await setup()
    await craft(t, Buffer.from('new content'), (hash, size) => [
      ['dir/keep', 'f', hash, size, 0, 0o644],
      ['file', 'f', hash, size, 0, 0o644],
    ])
    await fs.mkdir(t.target)
    await fs.symlink(outside, path.join(t.target, 'dir'))
    await fs.symlink(path.join(outside, 'keep'), path.join(t.target, 'file'))
    const r = await restore({ storage: t.storage, target: t.target, cacheBase: t.cacheBase, overwrite: true })
    await outsideUntouched()
    assert.equal(await fs.readFile(path.join(outside, 'keep'), 'utf8'), 'do not touch')
    assert.ok(
      r.failed.some((f) => f.path === 'dir/keep'),
      'refused to write through the symlinked folder',
    )
    assert.equal(await fs.readFile(path.join(t.target, 'file'), 'utf8'), 'new content')
    assert.equal((await fs.lstat(path.join(t.target, 'file'))).isSymbolicLink(), false)
  })
})
