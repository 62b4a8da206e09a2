// The read workers through their typed batch messages: hashes, sizes and errors come back in order,
// names that are not UTF-8 are read from their exact bytes, and pack() gives the chosen files as tar
// members of one zstd frame, whether every file of the batch is chosen or only some.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { decodePath } from '../../src/core/path-bytes.js'
import { pathAt } from '../../src/core/path-list.js'
import { TarWalker } from '../../src/pack/tar-walk.js'
import { FrameDecompressor } from '../../src/pack/zstd.js'
import { type BatchFile, ReaderPool, readRequest } from '../../src/pipeline/reader-pool.js'
import { tempDir } from '../helpers/tree.js'

/** members unpacks a frame: each tar member's content, in order. */
function members(frame: Buffer): Buffer[] {
  const out: Buffer[] = []
  let parts: Buffer[] = []
  const tar = new TarWalker({
    member() {
      parts = []
    },
    data(_entry, piece) {
      parts.push(Buffer.from(piece))
    },
    end() {
      out.push(Buffer.concat(parts))
    },
  })
  const zstd = new FrameDecompressor()
  zstd.push(frame, (piece) => tar.push(piece))
  zstd.end((piece) => tar.push(piece))
  return out
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

describe('ReaderPool', () => {
  const work = tempDir()
  after(() => work.cleanup())

  it('lays a batch out as the absolute paths, in bytes, of names UTF-8 or not', () => {
    const raw = Buffer.from([0x6d, 0xe9, 0x6c]) // "mél" in Latin-1
    const files: BatchFile[] = [
      { path: 'cur/é', size: 1, mode: 0o600, mtimeMs: 1.5 },
      { path: decodePath(raw), size: 2, mode: 0o644, mtimeMs: 2 },
    ]
    const req = readRequest(Buffer.from('/src'), files)
    assert.deepEqual(pathAt(req.paths, 0), Buffer.from('/src/cur/é'))
    assert.deepEqual(pathAt(req.paths, 1), Buffer.concat([Buffer.from('/src/'), raw]))
    assert.equal(req.paths.ends[1], req.paths.bytes.length)
    assert.deepEqual(
      req.names.split('\0'),
      files.map((f) => f.path),
    )
    assert.deepEqual([...req.sizes], [1, 2])
    assert.deepEqual([...req.modes], [0o600, 0o644])
    assert.deepEqual([...req.mtimes], [1.5, 2])
  })

  it('reads, hashes and packs a batch: all of it, or only the chosen files', async () => {
    const root = path.join(work.dir, 'src')
    await fs.mkdir(path.join(root, 'cur'), { recursive: true })
    const odd = Buffer.from([0x6f, 0xff, 0x64]) // not UTF-8
    const contents = [Buffer.from('first mail\n'), Buffer.alloc(70_000, 7), Buffer.from('third\n')]
    await fs.writeFile(path.join(root, 'cur', 'a'), contents[0]!)
    await fs.writeFile(Buffer.concat([Buffer.from(`${root}/cur/`), odd]), contents[1]!)
    await fs.writeFile(path.join(root, 'cur', 'c'), contents[2]!)
    const files: BatchFile[] = [
      { path: 'cur/a', size: contents[0]!.length, mode: 0o600, mtimeMs: 1 },
      { path: `cur/${decodePath(odd)}`, size: contents[1]!.length, mode: 0o600, mtimeMs: 2 },
      { path: 'cur/gone', size: 5, mode: 0o600, mtimeMs: 3 },
      { path: 'cur/c', size: contents[2]!.length, mode: 0o600, mtimeMs: 4 },
    ]
    const pool = new ReaderPool(1, 1024 * 1024)
    try {
      const all = await pool.read(Buffer.from(root), files)
      assert.deepEqual(
        all.results.map((r) => [r.size, r.hash, r.error]),
        [
          [contents[0]!.length, sha(contents[0]!), null],
          [contents[1]!.length, sha(contents[1]!), null],
          [0, '', 'ENOENT'],
          [contents[2]!.length, sha(contents[2]!), null],
        ],
      )
      const frame = await all.pack([0, 1, 3])
      assert.deepEqual(members(frame!.bytes), [contents[0], contents[1], contents[2]])
      frame!.release()
      // Only some chosen: the members are assembled again, in the order asked.
      const some = await pool.read(Buffer.from(root), [files[0]!, files[1]!, files[3]!])
      const part = await some.pack([1])
      assert.deepEqual(members(part!.bytes), [contents[1]])
      part!.release()
      assert.equal(await (await pool.read(Buffer.from(root), files)).pack([]), null)
    } finally {
      await pool.close()
    }
  })
})
