// The main thread's archive reading (src/pack/pack-reader.ts: verify, compaction, key rotation and the
// commit loader read through it), with the real gpg, on a local destination (gpg reads the file
// itself) and in memory (the download stream is piped in). Packs are made by PackWriter; hostile ones
// (unencrypted, encrypted to another key, damaged, cut short) by the system gpg. Every failure must come
// out as what it is, naming the pack: missing, damaged, refused, or a key problem.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, createReadStream, promises as fs, openSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { GpgContext } from '../../src/crypto/gpg.js'
import { recipientKeyIds } from '../../src/crypto/keyring.js'
import { DamageError, KeyError } from '../../src/errors.js'
import {
  type ArchiveVisitor,
  explain,
  memberHashes,
  readPack,
  readSealed,
  wholeMembers,
} from '../../src/pack/pack-reader.js'
import type { FinishedPack } from '../../src/pack/pack-writer.js'
import { sealFrames } from '../../src/pack/seal.js'
import { FrameCompressor } from '../../src/pack/zstd.js'
import { LocalStorage } from '../../src/storage/local.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { RetryStorage } from '../../src/storage/retry.js'
import { fileBody, type Storage } from '../../src/storage/storage.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { sha256, writePack } from '../helpers/pack-oracle.js'
import { tarOf } from '../helpers/tar.js'
import { tempDir } from '../helpers/tree.js'

const T = 1_700_000_000_000
const EMPTY = sha256(Buffer.alloc(0))

/** FlakyStorage is a memory destination whose first download of each object breaks half-way. */
class FlakyStorage extends MemoryStorage {
  private readonly broken = new Set<string>()
  override load<R>(
    h: Parameters<Storage['load']>[0],
    range: Parameters<Storage['load']>[1],
    consume: (s: Readable) => Promise<R>,
    signal?: AbortSignal,
  ): Promise<R> {
    const key = `${h.type}/${h.name}`
    if (this.broken.has(key)) return super.load(h, range, consume, signal)
    this.broken.add(key)
    const data = this.objects.get(key)!
    const half = data.subarray(0, data.length >> 1)
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const stream = new Readable({
      read() {
        this.push(Buffer.from(half))
        this.destroy(reset)
      },
    })
    return consume(stream)
  }
}

describe('pack-reader (real gpg; local and memory destinations)', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'mallory@example.invalid'])
  const [alice, mallory] = g.keys as [(typeof g.keys)[0], (typeof g.keys)[0]]
  const work = tempDir()
  const spool = path.join(work.dir, 'spool')
  const local = new LocalStorage(path.join(work.dir, 'dest'))
  const memory = new MemoryStorage()
  const storages: [string, Storage][] = [
    ['local', local],
    ['memory', memory],
  ]
  let ctx: GpgContext
  let pack: FinishedPack
  const contents = new Map<number, Buffer>() // entry -> bytes, for the files of `pack`
  const big = Buffer.concat([randomBytes(1_000_000), Buffer.alloc(500_000, 'm')])

  /** store puts a ciphertext at `id` in both destinations. */
  async function store(id: string, cipher: Buffer | string): Promise<void> {
    const file = typeof cipher === 'string' ? cipher : path.join(work.dir, `c-${id}`)
    if (typeof cipher !== 'string') await fs.writeFile(file, cipher)
    const size = (await fs.stat(file)).size
    for (const [, s] of storages) await s.save({ type: 'pack', name: id }, fileBody(file, size))
  }

  /** gpgOut runs the system gpg in the test home and returns its output. */
  const gpgOut = (args: string[], input: Buffer) =>
    execFileSync('gpg', ['--batch', '--quiet', '--trust-model', 'always', ...args], {
      input,
      env: { ...process.env, GNUPGHOME: g.home },
      stdio: ['pipe', 'pipe', 'ignore'],
    })

  /** id makes a pack name (64 hex digits) from a label. */
  const id = (label: string) => sha256(Buffer.from(label))

  before(async () => {
    process.env.GNUPGHOME = g.home
    ctx = {
      encryption: { type: 'recipients', recipients: [alice.fingerprint] },
      recipientKeyIds: await recipientKeyIds([alice.fingerprint]),
    }
    pack = await writePack(ctx, spool, async (w) => {
      await w.addDirectory('INBOX', 0o700, T)
      for (let i = 0; i < 20; i++) {
        const data = Buffer.from(`Subject: mail ${i}\n\n${'body '.repeat(i * 50)}\n`)
        await w.addFile(`INBOX/cur/${i}`, 0o600, T, data, sha256(data))
      }
      await w.addSymlink('INBOX/link', 'cur/1', T)
      const e = await w.addStream('INBOX/big', 0o600, T, big.length, Readable.from([big]), () => {})
      w.recordBlob({ hash: sha256(big), size: big.length, tarPath: 'INBOX/big', entry: e })
      await w.addFile('INBOX/cur/empty', 0o600, T, Buffer.alloc(0), EMPTY)
    })
    for (let i = 0; i < 20; i++)
      contents.set(i + 1, Buffer.from(`Subject: mail ${i}\n\n${'body '.repeat(i * 50)}\n`))
    contents.set(22, big)
    contents.set(23, Buffer.alloc(0))
    await store(pack.id, pack.spoolPath)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  for (const [name, storage] of [
    ['local', local],
    ['memory', memory],
  ] as const) {
    it(`${name}: readPack walks every member; memberHashes gives each wanted one's SHA-256 by ordinal`, async () => {
      const all = memberHashes(() => true)
      await readPack(storage, ctx, pack.id, all.visitor)
      assert.equal(all.hashes.size, pack.entries)
      for (const b of pack.blobs) assert.equal(all.hashes.get(b.entry), b.hash, `entry ${b.entry}`)
      assert.equal(all.hashes.get(0), EMPTY, 'a folder has no bytes')

      const some = memberHashes((e) => e % 5 === 0)
      await readPack(storage, ctx, pack.id, some.visitor)
      assert.deepEqual([...some.hashes.keys()], [0, 5, 10, 15, 20])
      assert.equal(some.hashes.get(5), sha256(contents.get(5)!))
    })

    it(`${name}: wholeMembers hands over the wanted members whole, in order, waiting for each use`, async () => {
      const got: [number, Buffer][] = []
      let busy = false
      const v = wholeMembers(
        (entry, size) => entry === 3 || size > 1_000_000 || entry === 23,
        async (entry, data) => {
          assert.ok(!busy, 'one use at a time')
          busy = true
          await new Promise((r) => setTimeout(r, 5))
          got.push([entry, data])
          busy = false
        },
      )
      await readPack(storage, ctx, pack.id, v)
      assert.deepEqual(
        got.map(([e]) => e),
        [3, 22, 23],
      )
      for (const [e, data] of got) assert.ok(data.equals(contents.get(e)!), `entry ${e}`)
    })

    it(`${name}: a missing pack is DamageError naming it (exit 13)`, async () => {
      const gone = id('never stored')
      await assert.rejects(readPack(storage, ctx, gone, memberHashes(() => true).visitor), (err: unknown) => {
        assert.ok(err instanceof DamageError, String(err))
        assert.equal(err.exitCode, 13)
        assert.equal(err.message, `pack ${gone} is missing from the destination`)
        return true
      })
    })
  }

  it('wholeMembers refuses a member larger than maxBytes (what a hostile header claims), naming the pack', async () => {
    const used: number[] = []
    const v = wholeMembers(
      () => true,
      async (e) => {
        used.push(e)
      },
      1_000_000,
    )
    await assert.rejects(readPack(memory, ctx, pack.id, v), (err: unknown) => {
      assert.ok(err instanceof DamageError, String(err))
      assert.match(err.message, new RegExp(`member 22 claims ${big.length} bytes`))
      assert.match(err.message, new RegExp(pack.id), 'the message names the pack')
      return true
    })
    assert.ok(!used.includes(22))
  })

  it('readSealed reads a stream or a file descriptor gpg reads itself', async () => {
    const viaStream = memberHashes(() => true)
    await readSealed(ctx, createReadStream(pack.spoolPath), viaStream.visitor)
    const fd = openSync(pack.spoolPath, 'r')
    const viaFd = memberHashes(() => true)
    try {
      await readSealed(ctx, fd, viaFd.visitor)
    } finally {
      closeSync(fd)
    }
    assert.deepEqual(viaFd.hashes, viaStream.hashes)
    assert.equal(viaFd.hashes.size, pack.entries)
  })

  it('a visitor’s own error comes out as it is, not as damage', async () => {
    const mine = new Error('the pack writer behind this visitor failed')
    const v: ArchiveVisitor = {
      member(entry) {
        if (entry === 4) throw mine
      },
      data() {},
      end() {},
    }
    for (const [name, s] of storages)
      await assert.rejects(readPack(s, ctx, pack.id, v), (err) => err === mine, name)
  })

  it('a flipped byte in the ciphertext: "is damaged", with gpg’s reason', async () => {
    const cipher = await fs.readFile(pack.spoolPath)
    cipher[cipher.length - 5000]! ^= 0x08
    const bad = id('flipped')
    await store(bad, cipher)
    for (const [name, s] of storages)
      await assert.rejects(readPack(s, ctx, bad, memberHashes(() => true).visitor), (err: unknown) => {
        assert.ok(err instanceof DamageError, `${name}: ${err}`)
        assert.match(err.message, new RegExp(`^pack ${bad} is damaged: `))
        return true
      })
  })

  it('a ciphertext cut short: "is damaged"', async () => {
    const cipher = await fs.readFile(pack.spoolPath)
    const cut = id('cut')
    await store(cut, cipher.subarray(0, cipher.length - 3000))
    for (const [name, s] of storages)
      await assert.rejects(readPack(s, ctx, cut, memberHashes(() => true).visitor), (err: unknown) => {
        assert.ok(err instanceof DamageError, `${name}: ${err}`)
        assert.match(err.message, new RegExp(`^pack ${cut} is damaged: `))
        return true
      })
  })

  it('a well-encrypted message whose archive is damaged (bad zstd, bad tar): "is damaged", naming the archive’s fault', async () => {
    const c = new FrameCompressor()
    const tar = tarOf([
      { e: { path: 'a', type: 'file', size: 5, mode: 0o600, mtimeMs: T }, data: Buffer.from('hello') },
    ])
    const badZstd = Buffer.from(c.frame([tar]))
    badZstd[badZstd.length - 1]! ^= 0xff // the frame's checksum
    const badTar = Buffer.from(tar)
    badTar[0] = 0x5a // the header's checksum no longer matches
    for (const [label, frame, why] of [
      ['bad zstd', badZstd, /checksum/i],
      ['bad tar', Buffer.from(c.frame([badTar])), /tar: invalid header/],
    ] as const) {
      const name = id(label)
      await store(name, await sealFrames(ctx, [frame]))
      for (const [where, s] of storages)
        await assert.rejects(readPack(s, ctx, name, memberHashes(() => true).visitor), (err: unknown) => {
          assert.ok(err instanceof DamageError, `${where} ${label}: ${err}`)
          assert.match(err.message, new RegExp(`^pack ${name} is damaged: `))
          assert.match(err.message, why)
          return true
        })
    }
  })

  it('an unencrypted message (gpg --store) is refused', async () => {
    const tar = tarOf([
      { e: { path: 'x', type: 'file', size: 4, mode: 0o600, mtimeMs: T }, data: Buffer.from('evil') },
    ])
    const plain = id('stored')
    await store(plain, gpgOut(['--store'], new FrameCompressor().frame([tar])))
    for (const [name, s] of storages)
      await assert.rejects(readPack(s, ctx, plain, memberHashes(() => true).visitor), (err: unknown) => {
        assert.ok(err instanceof DamageError, `${name}: ${err}`)
        assert.match(err.message, new RegExp(`^pack ${plain} is refused: not an encrypted message`))
        return true
      })
  })

  it('a message encrypted to a key that is not a recipient is refused (GpgContext.recipientKeyIds), even with its secret key at hand', async () => {
    const tar = tarOf([
      { e: { path: 'x', type: 'file', size: 4, mode: 0o600, mtimeMs: T }, data: Buffer.from('evil') },
    ])
    const foreign = id('foreign')
    await store(
      foreign,
      gpgOut(
        ['--compress-algo', 'none', '--recipient', mallory.fingerprint, '--encrypt'],
        new FrameCompressor().frame([tar]),
      ),
    )
    for (const [name, s] of storages)
      await assert.rejects(readPack(s, ctx, foreign, memberHashes(() => true).visitor), (err: unknown) => {
        assert.ok(err instanceof DamageError, `${name}: ${err}`)
        assert.match(err.message, new RegExp(`^pack ${foreign} is refused: not written for this repository`))
        return true
      })
  })

  it('no secret key here: KeyError (exit 12), not damage', async () => {
    const pub = publicOnlyHome(alice)
    process.env.GNUPGHOME = pub.home
    try {
      for (const [name, s] of storages)
        await assert.rejects(readPack(s, ctx, pack.id, memberHashes(() => true).visitor), (err: unknown) => {
          assert.ok(err instanceof KeyError, `${name}: ${err}`)
          assert.equal(err.exitCode, 12)
          assert.match(err.message, /no secret key/)
          return true
        })
    } finally {
      process.env.GNUPGHOME = g.home
      pub.cleanup()
    }
  })

  it('a download that breaks half-way is the destination’s transient error (retried), not damage', async () => {
    const flaky = new FlakyStorage()
    await flaky.save({ type: 'pack', name: pack.id }, fileBody(pack.spoolPath, pack.size))
    const direct = memberHashes(() => true)
    await assert.rejects(readPack(flaky, ctx, pack.id, direct.visitor), (err: unknown) => {
      assert.ok(!(err instanceof DamageError), `reported as damage: ${err}`)
      assert.equal((err as NodeJS.ErrnoException).code, 'ECONNRESET')
      return true
    })
    const retried = memberHashes(() => true)
    const again = new FlakyStorage()
    await again.save({ type: 'pack', name: pack.id }, fileBody(pack.spoolPath, pack.size))
    await readPack(new RetryStorage(again, { baseDelayMs: 1 }), ctx, pack.id, retried.visitor)
    assert.equal(retried.hashes.size, pack.entries)
  })

  it('an aborted read stops with the signal’s reason', async () => {
    const ac = new AbortController()
    const reason = new Error('stopped by the user')
    ac.abort(reason)
    for (const [name, s] of storages)
      await assert.rejects(
        readPack(s, ctx, pack.id, memberHashes(() => true).visitor, ac.signal),
        (err) => err === reason,
        name,
      )
  })

  it('explain: keys pass through, gpg and storage failures are named, anything else is left alone', () => {
    const key = new KeyError('no secret key')
    assert.equal(explain(key, 'pack p'), key)
    const other = new Error('EIO')
    assert.equal(explain(other, 'pack p'), other)
  })
})
