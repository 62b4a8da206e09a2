// A commit's compressed tar is the same whether its body waits in memory or in a spool file, the file
// is owner-only and gone after `discard`, and what it holds is a tar that the system's zstd and tar read.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { commitFrames } from '../../src/repo/commits.js'
import { tempDir } from '../helpers/tree.js'

async function collect(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const p of it) parts.push(p)
  return Buffer.concat(parts)
}

describe('commitFrames', () => {
  const { dir, cleanup } = tempDir('seb-commit-frames-')
  after(cleanup)
  // Enough lines for several 4 MiB frames, so the body is more than one piece of the spool file.
  const lines = () =>
    (function* () {
      for (let i = 0; i < 200_000; i++)
        yield JSON.stringify([
          'a',
          `INBOX/cur/${i}:2,S`,
          'f',
          i.toString(16).padStart(64, '0'),
          i,
          1.7e12 + i,
          384,
        ])
    })()
  const links = [{ path: 'Archive/cur/7:2,S', target: 'INBOX/cur/7:2,S', mtimeMs: 1.7e12, mode: 0o600 }]

  it('gives the same bytes from a spool file as from memory, and discard removes the file', async () => {
    const time = '2026-12-03T00:00:00.000Z'
    const inMemory = await collect(commitFrames(9, time, lines(), links).bytes())
    const spoolDir = path.join(dir, 'spool')
    const spooled = commitFrames(9, time, lines(), links, spoolDir)
    const [name] = await fs.readdir(spoolDir)
    const spool = path.join(spoolDir, name!)
    assert.equal((await fs.stat(spool)).mode & 0o777, 0o600)
    assert.ok((await fs.stat(spool)).size > 1 << 20, 'the body is in the file')
    const bytes = await collect(spooled.bytes())
    assert.ok(bytes.equals(inMemory))
    await spooled.discard()
    await assert.rejects(fs.stat(spool), { code: 'ENOENT' })
    const tar = execFileSync('zstd', ['-dc'], { input: bytes, maxBuffer: 1 << 28 })
    const listing = execFileSync('tar', ['-tvf', '-'], { input: tar }).toString()
    assert.match(listing, /\.seb-index\/0000000009\.jsonl/)
    assert.match(listing, /Archive\/cur\/7:2,S link to INBOX\/cur\/7:2,S/)
  })
})
