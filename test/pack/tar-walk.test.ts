// The tar walker (the one reader of seb's archives, src/pack/pack-stream.ts), checked against GNU tar
// as the oracle: the same member ordinals, sizes and bytes, whatever the size of the pieces pushed, on
// archives written by seb's own encoder and by GNU tar (pax and gnu formats); and damage is refused.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import type { TarEntry } from '../../src/pack/tar-header.js'
import { TarWalker } from '../../src/pack/tar-walk.js'
import { tarOf } from '../helpers/tar.js'
import { tempDir } from '../helpers/tree.js'

type Seen = { entry: number; size: number; data: Buffer }[]

function walk(tar: Buffer, piece: number): Seen {
  const seen: Seen = []
  const parts: Buffer[] = []
  const w = new TarWalker({
    member: (entry, size) => {
      parts.length = 0
      seen.push({ entry, size, data: Buffer.alloc(0) })
    },
    data: (_e, p) => parts.push(Buffer.from(p)),
    end: (entry) => {
      seen[seen.length - 1]!.data = Buffer.concat(parts)
      assert.equal(seen[seen.length - 1]!.entry, entry)
    },
  })
  for (let i = 0; i < tar.length; i += piece) w.push(tar.subarray(i, i + piece))
  w.finish()
  return seen
}

/**
 * oracle lists an archive with GNU tar: each member in order with its size (regular files only have
 * data: `tar -xO` writes their contents one after the other, which the listing's sizes cut apart).
 */
async function oracle(tar: Buffer): Promise<Seen> {
  const listing = execFileSync('tar', ['-tv', '--numeric-owner', '-f', '-'], {
    input: tar,
    maxBuffer: 1 << 24,
  })
    .toString('latin1')
    .split('\n')
    .filter(Boolean)
  const contents = execFileSync('tar', ['-xO', '-f', '-'], { input: tar, maxBuffer: 1 << 24 })
  let at = 0
  return listing.map((line, entry) => {
    const [perms, , size] = line.split(/\s+/)
    const regular = perms!.startsWith('-')
    const n = regular ? Number(size) : 0
    const data = contents.subarray(at, at + n)
    at += n
    return { entry, size: n, data: Buffer.from(data) }
  })
}

function ourTar(): Buffer {
  const members: { e: TarEntry; data?: Buffer }[] = []
  const add = (e: TarEntry, data?: Buffer) => members.push({ e, data })
  add({ path: 'INBOX', type: 'directory', size: 0, mode: 0o700, mtimeMs: 1_700_000_000_000.5 })
  add(
    { path: 'INBOX/cur/1:2,S', type: 'file', size: 6, mode: 0o600, mtimeMs: 1_700_000_000_123.456 },
    Buffer.from('hello\n'),
  )
  add(
    { path: 'INBOX/cur/empty', type: 'file', size: 0, mode: 0o600, mtimeMs: 1_700_000_000_000 },
    Buffer.alloc(0),
  )
  const block = randomBytes(512)
  add(
    {
      path: `${'long-folder/'.repeat(12)}exactly-one-block`,
      type: 'file',
      size: 512,
      mode: 0o644,
      mtimeMs: 1,
    },
    block,
  )
  add({ path: 'link', type: 'symlink', size: 0, mode: 0o777, mtimeMs: 2, linkPath: 'INBOX' })
  add({ path: 'hard', type: 'link', size: 0, mode: 0o600, mtimeMs: 3, linkPath: 'INBOX/cur/1:2,S' })
  const big = randomBytes(70_000)
  add({ path: 'big', type: 'file', size: big.length, mode: 0o600, mtimeMs: 4 }, big)
  return tarOf(members)
}

describe('tar walker (GNU tar as oracle)', () => {
  const work = tempDir()
  after(work.cleanup)

  it("seb's own archives: the same ordinals, sizes and bytes for any piece size", async () => {
    const tar = ourTar()
    const want = await oracle(tar)
    assert.equal(want.length, 7)
    for (const piece of [1, 100, 511, 512, 513, 4096, tar.length]) assert.deepEqual(walk(tar, piece), want)
  })

  it('GNU tar archives, pax and gnu formats (long names, pax globals)', async () => {
    const src = path.join(work.dir, 'src')
    const long = `${'n'.repeat(150)}`
    await fs.mkdir(path.join(src, long), { recursive: true })
    await fs.writeFile(path.join(src, long, 'm1'), randomBytes(3000))
    await fs.writeFile(path.join(src, 'm2'), 'mail\n')
    await fs.symlink('m2', path.join(src, `l-${'x'.repeat(120)}`))
    for (const format of ['pax', 'gnu']) {
      const tar = execFileSync('tar', ['-c', `--format=${format}`, '-C', src, '.'], { maxBuffer: 1 << 24 })
      const want = await oracle(tar)
      assert.ok(want.length >= 5)
      for (const piece of [1, 700, tar.length]) assert.deepEqual(walk(tar, piece), want, format)
    }
  })

  it('refuses a damaged header and a stream cut short', () => {
    const tar = ourTar()
    const bad = Buffer.from(tar)
    bad[10]! ^= 0xff
    assert.throws(() => walk(bad, 4096), /checksum/)
    assert.throws(() => walk(tar.subarray(0, 2000), 4096), /unexpected end/)
  })
  it('reads numeric fields right-aligned with spaces, and refuses a size field that is not a number', () => {
    const tar = ourTar()
    const want = walk(tar, tar.length)
    // the folder's header (its size is 0 either way)
    let first = 0
    while (tar[first + 156] !== '5'.charCodeAt(0)) first += 512
    const spaced = Buffer.from(tar)
    setField(spaced, first + 124, 12, '          0 ')
    assert.deepEqual(walk(spaced, 100), want)
    const bad = Buffer.from(tar)
    setField(bad, first + 124, 12, '00000001x34\0')
    assert.throws(() => walk(bad, 4096), /invalid size field/)
  })
})

/** setField writes `text` into a header's field and puts the header's checksum right (octal, spaces first). */
function setField(tar: Buffer, at: number, length: number, text: string): void {
  const header = at - (at % 512)
  tar.fill(0, at, at + length)
  tar.write(text, at, 'latin1')
  tar.fill(0x20, header + 148, header + 156)
  let sum = 0
  for (let i = header; i < header + 512; i++) sum += tar[i]!
  tar.write(`  ${sum.toString(8).padStart(5, '0')}\0`, header + 148, 'latin1')
}
