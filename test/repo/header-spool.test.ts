// A run's search headers kept in a spool file: every line pushed is read back equal and in order (long
// lines that cross the read pieces, multi-byte text cut between them), as often as the commit walks
// them, `retain` filters by content hash, the file is owner-only, and `remove` deletes it.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import type { WireHeaders } from '../../src/core/commit-codec.js'
import { HeaderSpool } from '../../src/repo/header-spool.js'
import { tempDir } from '../helpers/tree.js'

const hashOf = (i: number) => i.toString(16).padStart(64, '0')

function sample(i: number): WireHeaders {
  // Every 97th message has headers long enough to cross a 64 KiB piece; text is multi-byte throughout.
  const long = i % 97 === 0 ? 'Grüße, 日本語 '.repeat(3000) : ''
  return [
    hashOf(i),
    `Betreff ${i} ä€😀 ${long}`,
    `Jörg <j${i}@example.org>`,
    'Ann <a@b>',
    i % 5 ? 1.7e12 + i : null,
    `id-${i}@x`,
  ]
}

describe('HeaderSpool', async () => {
  const { dir, cleanup } = tempDir('seb-header-spool-')
  after(cleanup)

  it('reads back every line pushed, in order, as often as walked', async () => {
    const spool = new HeaderSpool(path.join(dir, 'a', 'spool'))
    const want: WireHeaders[] = []
    for (let i = 0; i < 5000; i++) {
      want.push(sample(i))
      spool.push(...sample(i))
    }
    assert.equal(spool.length, 5000)
    assert.deepEqual([...spool], want)
    assert.deepEqual([...spool], want, 'a second walk reads the same')
    const [file] = await fs.readdir(path.join(dir, 'a', 'spool'))
    const st = await fs.stat(path.join(dir, 'a', 'spool', file!))
    assert.equal(st.mode & 0o777, 0o600)
    assert.ok(st.size > 64 * 1024 * 3, 'the lines are on disk, not in memory')
  })

  it('retain keeps only the contents a filter passes; remove deletes the file', async () => {
    const at = path.join(dir, 'b')
    const spool = new HeaderSpool(at)
    for (let i = 0; i < 300; i++) spool.push(...sample(i))
    const kept = [...spool.retain((h) => Number.parseInt(h, 16) % 3 === 0)].map((h) => h[0])
    assert.deepEqual(
      kept,
      Array.from({ length: 100 }, (_, k) => hashOf(3 * k)),
    )
    spool.remove()
    assert.deepEqual(await fs.readdir(at), [])
    assert.deepEqual([...spool], [])
  })

  it('lines a read worker made (pushLines) read back as the same headers pushed one by one', () => {
    const one = new HeaderSpool(path.join(dir, 'd1'))
    const lines = new HeaderSpool(path.join(dir, 'd2'))
    for (let k = 0; k < 30; k++) {
      const batch = Array.from({ length: 100 }, (_, j) => sample(100 * k + j))
      for (const h of batch) one.push(...h)
      lines.pushLines(batch.map((h) => `${JSON.stringify(h)}\n`).join(''), batch.length)
    }
    assert.equal(lines.length, 3000)
    assert.deepEqual([...lines.texts()], [...one.texts()])
    assert.deepEqual([...lines], [...one])
  })

  it('an empty spool writes no file and reads nothing', async () => {
    const at = path.join(dir, 'c')
    const spool = new HeaderSpool(at)
    assert.deepEqual([...spool], [])
    await assert.rejects(fs.readdir(at), { code: 'ENOENT' })
  })
})
