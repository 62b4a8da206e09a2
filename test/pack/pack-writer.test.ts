// PackWriter (src/pack/pack-writer.ts) checked against the tools a user restores with: every pack it
// seals is read back with the system `gpg --decrypt | zstd -d | tar`, and the members GNU tar lists
// (names, types, modes, mtimes to the microsecond, bytes, and their order: the ordinals the index
// records) must be exactly what the writer was given and what it reported. Also: large files streamed
// to an exact size, abort and gpg failures leaving no spool file, and a full disk named as such.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { GpgContext } from '../../src/crypto/gpg.js'
import { KeyError, PermanentStorageError, SebError } from '../../src/errors.js'
import { fileMember } from '../../src/pack/member.js'
import { type FramedFile, PackWriter } from '../../src/pack/pack-writer.js'
import { FRAME_BYTES, FrameCompressor } from '../../src/pack/zstd.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { gpgDecrypt, packPlaintext, sha256, tarExtract, tarList, unzstd } from '../helpers/pack-oracle.js'
import { readTree, tempDir } from '../helpers/tree.js'

const isRoot = process.getuid?.() === 0

/** T0 is an mtime with a microsecond part (pax carries it; ustar alone would drop it). */
const T0 = 1_700_000_000_123.456
const us = (ms: number) => Math.round(ms * 1000)

/** chunked streams `data` in pieces of `size` bytes, like a file read. */
function chunked(data: Buffer, size: number): Readable {
  const pieces: Buffer[] = []
  for (let i = 0; i < data.length; i += size) pieces.push(data.subarray(i, i + size))
  return Readable.from(pieces, { objectMode: false })
}

/** holders lists the other processes that have `file` open (from /proc: Linux). */
async function holders(file: string): Promise<number[]> {
  const pids: number[] = []
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [])
    for (const fd of fds)
      if ((await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === file) {
        pids.push(Number(pid))
        break
      }
  }
  return pids
}

/** spoolFiles lists what is left in a spool folder. */
async function spoolFiles(dir: string): Promise<string[]> {
  return fs.readdir(dir).catch(() => [])
}

describe('PackWriter (system gpg, zstd and tar as the oracle)', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const spoolDir = path.join(work.dir, 'spool')
  const ctx: GpgContext = { encryption: { type: 'recipients', recipients: [g.keys[0]!.fingerprint] } }
  before(() => {
    process.env.GNUPGHOME = g.home
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('folders, symlinks, files from memory and read-worker frames come out in order, as reported', async () => {
    const w = await PackWriter.start(ctx, spoolDir)
    assert.match(w.id, /^[0-9a-f]{64}$/)
    assert.equal(path.dirname(w.spoolPath), spoolDir)
    const mail = Buffer.from('From: a@example.invalid\nSubject: one\n\nhello\n')
    await w.addDirectory('INBOX', 0o700, T0)
    await w.addDirectory('INBOX/cur', 0o755, T0 + 1)
    await w.addFile('INBOX/cur/1.M1:2,S', 0o600, T0 + 2.5, mail, sha256(mail))
    await w.addSymlink('INBOX/latest', 'cur/1.M1:2,S', T0 + 3)
    // A read worker's frame: whole members (member.ts), compressed together as one zstd frame.
    const long = `INBOX/cur/${'é'.repeat(40)}-${'x'.repeat(60)}` // over 100 bytes: a pax path
    const framed = [
      { path: 'INBOX/cur/2', mode: 0o644, mtimeMs: T0 + 4, data: randomBytes(3000) },
      { path: long, mode: 0o640, mtimeMs: 1_600_000_000_000, data: Buffer.from('x'.repeat(70_000)) },
      { path: 'INBOX/cur/empty', mode: 0o600, mtimeMs: T0 + 5.001, data: Buffer.alloc(0) },
    ]
    const frame = new FrameCompressor().frame(
      framed.flatMap((f) => fileMember(f.path, f.mode, f.mtimeMs, f.data)),
    )
    const files: FramedFile[] = framed.map((f) => ({
      hash: sha256(f.data),
      size: f.data.length,
      tarPath: f.path,
    }))
    let released = 0
    await w.addFrame(Buffer.from(frame), files, () => released++)
    const last = Buffer.from('after the frame\n')
    await w.addFile('INBOX/new/3', 0o644, T0 + 6, last, sha256(last))
    const done = await w.finish()

    assert.equal(released, 1, 'the frame was let go once written')
    assert.equal(done.id, w.id)
    assert.equal(done.spoolPath, w.spoolPath)
    assert.equal(done.entries, 8)
    assert.deepEqual(done.blobs, [
      { hash: sha256(mail), size: mail.length, tarPath: 'INBOX/cur/1.M1:2,S', entry: 2 },
      ...files.map((f, i) => ({ ...f, entry: 4 + i })),
      { hash: sha256(last), size: last.length, tarPath: 'INBOX/new/3', entry: 7 },
    ])
    assert.equal(done.contentBytes, mail.length + 3000 + 70_000 + last.length)
    const st = await fs.stat(done.spoolPath)
    assert.equal(done.size, st.size)
    assert.equal(st.mode & 0o777, 0o600, 'the spool file is the owner’s only')

    const compressed = gpgDecrypt(done.spoolPath, g.home)
    assert.ok(compressed.includes(frame), 'the frame is passed through as it is, not compressed again')
    const plain = unzstd(compressed)
    const listed = tarList(plain)
    assert.deepEqual(
      listed.map((m) => [m.name, m.type, m.mode, m.size, m.mtimeUs, m.target]),
      [
        ['INBOX/', 'directory', 0o700, 0, us(T0), undefined],
        ['INBOX/cur/', 'directory', 0o755, 0, us(T0 + 1), undefined],
        ['INBOX/cur/1.M1:2,S', 'file', 0o600, mail.length, us(T0 + 2.5), undefined],
        ['INBOX/latest', 'symlink', 0o777, 0, us(T0 + 3), 'cur/1.M1:2,S'],
        ...framed.map((f) => [f.path, 'file', f.mode, f.data.length, us(f.mtimeMs), undefined]),
        ['INBOX/new/3', 'file', 0o644, last.length, us(T0 + 6), undefined],
      ],
    )
    // Every blob is found by its ordinal alone, with the bytes its hash names.
    const out = path.join(work.dir, 'out-1')
    await fs.mkdir(out)
    tarExtract(plain, out)
    const tree = await readTree(out)
    for (const b of done.blobs) {
      assert.equal(listed[b.entry]!.name, b.tarPath, `entry ${b.entry}`)
      const f = tree.get(Buffer.from(b.tarPath).toString('latin1'))
      assert.ok(f?.data, b.tarPath)
      assert.equal(sha256(f.data), b.hash, b.tarPath)
      assert.equal(f.data.length, b.size)
    }
    assert.equal(tree.get('INBOX/cur/1.M1:2,S')!.mtimeUs, us(T0 + 2.5))
    assert.equal(tree.get('INBOX/latest')!.target, 'cur/1.M1:2,S')
  })

  it('addStream stores exactly `size` bytes: a file that grew is cut, one that shrank is padded and reported with -1', async () => {
    const big = randomBytes(FRAME_BYTES + 1_500_000) // crosses a frame boundary of the main thread's frames
    const grown = Buffer.concat([big.subarray(0, 200_000), Buffer.from('appended while read')])
    const shrunk = big.subarray(0, 100_000)
    const w = await PackWriter.start(ctx, spoolDir)
    const hashed: Buffer[][] = [[], [], []]
    const e0 = await w.addStream('big', 0o644, T0, big.length, chunked(big, 65536), (c) =>
      hashed[0]!.push(Buffer.from(c)),
    )
    w.recordBlob({ hash: sha256(big), size: big.length, tarPath: 'big', entry: e0 })
    const e1 = await w.addStream('grown', 0o600, T0, 200_000, chunked(grown, 50_000), (c) =>
      hashed[1]!.push(Buffer.from(c)),
    )
    const e2 = await w.addStream('shrunk', 0o600, T0, 150_000, chunked(shrunk, 30_000), (c) =>
      hashed[2]!.push(Buffer.from(c)),
    )
    const done = await w.finish()

    assert.deepEqual([e0, e1, e2], [0, 1, -1])
    assert.equal(done.entries, 3, 'the shrunk file still has its member')
    assert.deepEqual(done.blobs, [{ hash: sha256(big), size: big.length, tarPath: 'big', entry: 0 }])
    assert.equal(done.contentBytes, big.length + 200_000 + 150_000)
    assert.deepEqual(Buffer.concat(hashed[0]!), big, 'the hasher saw exactly what was stored')
    assert.deepEqual(Buffer.concat(hashed[1]!), grown.subarray(0, 200_000))
    assert.deepEqual(Buffer.concat(hashed[2]!), shrunk)

    const plain = packPlaintext(done.spoolPath, g.home)
    assert.deepEqual(
      tarList(plain).map((m) => [m.name, m.size]),
      [
        ['big', big.length],
        ['grown', 200_000],
        ['shrunk', 150_000],
      ],
    )
    const out = path.join(work.dir, 'out-2')
    await fs.mkdir(out)
    tarExtract(plain, out)
    assert.deepEqual(await fs.readFile(path.join(out, 'big')), big)
    assert.deepEqual(await fs.readFile(path.join(out, 'grown')), grown.subarray(0, 200_000))
    assert.deepEqual(
      await fs.readFile(path.join(out, 'shrunk')),
      Buffer.concat([shrunk, Buffer.alloc(50_000)]),
      'zeros where the file shrank',
    )
  })

  it('finish with nothing added is an empty archive GNU tar reads', async () => {
    const w = await PackWriter.start(ctx, spoolDir)
    const done = await w.finish()
    assert.equal(done.entries, 0)
    assert.deepEqual(done.blobs, [])
    const plain = packPlaintext(done.spoolPath, g.home)
    assert.deepEqual(plain, Buffer.alloc(1024), 'just the end-of-archive blocks')
    assert.deepEqual(tarList(plain), [])
  })

  it('abort stops gpg and removes the spool file, before or after data was sent', async () => {
    const dir = path.join(work.dir, 'spool-abort')
    const idle = await PackWriter.start(ctx, dir)
    assert.deepEqual(await spoolFiles(dir), [path.basename(idle.spoolPath)])
    await idle.abort()
    assert.deepEqual(await spoolFiles(dir), [])

    const busy = await PackWriter.start(ctx, dir)
    const data = randomBytes(FRAME_BYTES + 100_000)
    await busy.addFile('a', 0o600, T0, data, sha256(data)) // a whole frame has gone to gpg
    const writers = await holders(busy.spoolPath)
    assert.equal(writers.length, 1, 'gpg writes the spool file')
    await busy.abort()
    assert.deepEqual(await spoolFiles(dir), [])
    for (const pid of writers)
      await assert.rejects(fs.stat(`/proc/${pid}`), { code: 'ENOENT' }, `gpg ${pid} ended`)
  })

  it('a recipient gpg refuses: finish fails with KeyError (exit 12) naming the key, and no spool file is left', async () => {
    const dir = path.join(work.dir, 'spool-refused')
    const unknown = '0123456789ABCDEF0123456789ABCDEF01234567'
    const w = await PackWriter.start({ encryption: { type: 'recipients', recipients: [unknown] } }, dir)
    await w.addFile('a', 0o600, T0, Buffer.from('x'), sha256(Buffer.from('x')))
    await assert.rejects(w.finish(), (err: unknown) => {
      assert.ok(err instanceof KeyError, String(err))
      assert.equal(err.exitCode, 12)
      assert.match(err.message, new RegExp(unknown))
      return true
    })
    assert.deepEqual(await spoolFiles(dir), [])
  })

  it('no gpg to run: finish fails promptly with gpg-missing, and no spool file is left', async () => {
    const dir = path.join(work.dir, 'spool-no-gpg')
    const w = await PackWriter.start({ ...ctx, gpgPath: path.join(work.dir, 'no-such-gpg') }, dir)
    await w.addFile('a', 0o600, T0, Buffer.from('x'), sha256(Buffer.from('x')))
    // Raced with a timer: a promise that never settles would otherwise end this file's event loop.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('finish never settled')), 1000)
    })
    await assert.rejects(
      Promise.race([w.finish(), timeout]).finally(() => clearTimeout(timer)),
      (err: unknown) => {
        assert.ok(err instanceof SebError, String(err))
        assert.equal(err.code, 'gpg-missing')
        return true
      },
    )
    assert.deepEqual(await spoolFiles(dir), [])
  })

  it('an existing file at the destination’s spool path is never written over', async () => {
    const at = { id: 'f'.repeat(64), spoolPath: path.join(work.dir, 'taken') }
    await fs.writeFile(at.spoolPath, 'someone else’s')
    await assert.rejects(PackWriter.start(ctx, spoolDir, at), { code: 'EEXIST' })
    assert.equal(await fs.readFile(at.spoolPath, 'utf8'), 'someone else’s')
  })

  describe('a full disk (a 64 KiB tmpfs)', { skip: !isRoot && 'mounting a tmpfs needs root' }, () => {
    const mnt = path.join(work.dir, 'tiny')
    before(async () => {
      await fs.mkdir(mnt)
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt])
    })
    after(() => {
      execFileSync('umount', ['-l', mnt])
    })

    it('in the local cache: finish fails with PermanentStorageError naming the folder; nothing is left', async () => {
      const dir = path.join(mnt, 'spool')
      const w = await PackWriter.start(ctx, dir)
      const data = randomBytes(256 * 1024)
      await w.addFile('a', 0o600, T0, data, sha256(data))
      await assert.rejects(w.finish(), (err: unknown) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.equal(
          err.message,
          `${dir}: no space left on the local cache while writing a pack; free some space and run again`,
        )
        return true
      })
      assert.deepEqual(await spoolFiles(dir), [])
    })

    it('at the destination, while a large file streams: addStream fails with PermanentStorageError; abort leaves nothing', async () => {
      const dir = path.join(mnt, 'packs')
      await fs.mkdir(dir)
      const at = { id: 'a'.repeat(64), spoolPath: path.join(dir, 'pack.tmp') }
      const w = await PackWriter.start(ctx, '/nonexistent-unused', at)
      const data = randomBytes(2 * FRAME_BYTES)
      await assert.rejects(
        w.addStream('big', 0o600, T0, data.length, chunked(data, 65536), () => {}),
        (err: unknown) => {
          assert.ok(err instanceof PermanentStorageError, String(err))
          assert.match(
            err.message,
            new RegExp(`^${dir}: no space left on the destination while writing a pack`),
          )
          return true
        },
      )
      await w.abort()
      assert.deepEqual(await spoolFiles(dir), [])
    })
  })
})
