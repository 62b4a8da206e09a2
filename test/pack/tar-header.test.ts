// The pack tar format checked against the system tar as the oracle: names as raw bytes (non-UTF-8,
// longer than 100 bytes), microsecond mtimes, modes, folders, symlinks and hard links all come out as
// written.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { decodePath } from '../../src/core/path-bytes.js'
import { encodeHeader } from '../../src/pack/tar-header.js'
import { tarOf } from '../helpers/tar.js'
import { tempDir } from '../helpers/tree.js'

describe('tar headers (system tar as oracle)', () => {
  const work = tempDir()
  after(work.cleanup)

  it('GNU tar extracts names, modes, mtimes, folders, symlinks and hard links exactly', async () => {
    const latin = decodePath(Buffer.from([0x6c, 0xe9, 0x74, 0xe9, 0xff]))
    const long = `${'deep-folder-name/'.repeat(9)}${'x'.repeat(120)}:2,S`
    const data = Buffer.from('hello\n')
    const tar = tarOf([
      { e: { path: 'INBOX', type: 'directory', size: 0, mode: 0o750, mtimeMs: 1_500_000_000_000 } },
      {
        e: {
          path: 'INBOX/plain:2,S',
          type: 'file',
          size: data.length,
          mode: 0o640,
          mtimeMs: 1_500_000_000_000,
        },
        data,
      },
      {
        e: { path: `INBOX/${latin}`, type: 'file', size: 3, mode: 0o600, mtimeMs: 1_500_000_000_123.456 },
        data: Buffer.from('abc'),
      },
      {
        e: { path: long, type: 'file', size: 0, mode: 0o644, mtimeMs: 1_400_000_000_000 },
        data: Buffer.alloc(0),
      },
      {
        e: {
          path: 'link',
          type: 'symlink',
          size: 0,
          mode: 0o777,
          mtimeMs: 1_500_000_000_000,
          linkPath: '../elsewhere',
        },
      },
      {
        e: {
          path: 'INBOX/hard',
          type: 'link',
          size: 0,
          mode: 0o640,
          mtimeMs: 1_500_000_000_000,
          linkPath: 'INBOX/plain:2,S',
        },
      },
    ])
    const out = path.join(work.dir, 'x')
    await fs.mkdir(out)
    await fs.writeFile(path.join(work.dir, 'a.tar'), tar)
    execFileSync('tar', ['-x', '-f', path.join(work.dir, 'a.tar'), '-C', out])
    const names = ((await fs.readdir(Buffer.from(`${out}/INBOX`), { encoding: 'buffer' })) as Buffer[])
      .map((b) => b.toString('hex'))
      .sort()
    assert.ok(
      names.includes(Buffer.from([0x6c, 0xe9, 0x74, 0xe9, 0xff]).toString('hex')),
      'raw non-UTF-8 name kept',
    )
    const st = await fs.stat(
      Buffer.concat([Buffer.from(`${out}/INBOX/`), Buffer.from([0x6c, 0xe9, 0x74, 0xe9, 0xff])]),
      { bigint: true },
    )
    assert.equal(st.mtimeNs / 1000n, 1_500_000_000_123_456n, 'microsecond mtime from the pax header')
    assert.equal(Number(st.mode) & 0o777, 0o600)
    assert.equal(await fs.readFile(path.join(out, long), 'utf8'), '')
    assert.equal(await fs.readlink(path.join(out, 'link')), '../elsewhere')
    const plain = await fs.stat(path.join(out, 'INBOX/plain:2,S'))
    const hard = await fs.stat(path.join(out, 'INBOX/hard'))
    assert.equal(plain.ino, hard.ino, 'hard link')
    assert.equal(plain.mode & 0o777, 0o640)
    assert.equal((await fs.stat(path.join(out, 'INBOX'))).mode & 0o777, 0o750)
    const listing = execFileSync('tar', ['-t', '-f', path.join(work.dir, 'a.tar')]).toString()
    assert.match(listing, /INBOX\/plain:2,S/)
  })

  it('headers are whole 512-byte blocks with valid checksums', () => {
    const h = encodeHeader({ path: 'a', type: 'file', size: 1, mode: 0o644, mtimeMs: 0 })
    assert.equal(h.length % 512, 0)
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!
    assert.equal(Number.parseInt(h.subarray(148, 154).toString(), 8), sum)
  })
})
