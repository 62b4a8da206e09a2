// The unpack workers (src/pipeline/unpacker-pool.ts + unpack-worker.ts) driven directly, not through
// restore: a real pack made by PackWriter and decrypted by the worker's own gpg, an unpack list
// (unpack-list.ts) choosing some of its members, and what lands on disk checked byte for byte: modes
// (setuid as root), mtimes to the microsecond, one member to several paths, a hash that does not match
// (removed, DAMAGED), something in the way (EEXIST unless overwriting; a symlink never written
// through), a missing pack, and a damaged or cut-short pack (what was written before stays, and is
// right).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import type { GpgContext } from '../../src/crypto/gpg.js'
import { recipientKeyIds } from '../../src/crypto/keyring.js'
import { toSeconds } from '../../src/engine/restore.js'
import type { FinishedPack } from '../../src/pack/pack-writer.js'
import { FRAME_BYTES } from '../../src/pack/zstd.js'
import { DAMAGED, FAILED, MISSING, UnpackListBuilder, WRITTEN } from '../../src/pipeline/unpack-list.js'
import type { UnpackReply } from '../../src/pipeline/unpack-worker.js'
import { UnpackerPool } from '../../src/pipeline/unpacker-pool.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { sha256, writePack } from '../helpers/pack-oracle.js'
import { tempDir } from '../helpers/tree.js'

const isRoot = process.getuid?.() === 0
const T0 = 1_700_000_000_123.456

/** Member is a file of the test pack: its ordinal there and its bytes. */
interface Member {
  readonly entry: number
  readonly data: Buffer
}

/** Target is one path a member is to be written to. */
interface Target {
  readonly rel: string
  readonly mode: number
  readonly mtimeMs: number
}

/** Want is one member of an unpack list: which, the hash the index has for it, and its targets. */
interface Want {
  readonly m: Member
  readonly hash?: string
  /** the size the index has for it (default: the member's own) */
  readonly size?: number
  readonly targets: Target[]
}

/** listOf builds the unpack list for `wants` below `root` (targets numbered in order). */
function listOf(root: string, wants: Want[]) {
  const b = new UnpackListBuilder(Buffer.from(root))
  for (const w of wants) {
    b.member(w.m.entry, w.hash ?? sha256(w.m.data), w.size ?? w.m.data.length)
    for (const t of w.targets) b.target(t.rel, t.mode, toSeconds(t.mtimeMs))
  }
  return b.build()
}

/** assertFile checks a written target: its bytes, mode and mtime (to the microsecond). */
async function assertFile(root: string, t: Target, data: Buffer): Promise<void> {
  const p = path.join(root, t.rel)
  const st = await fs.lstat(p, { bigint: true })
  assert.ok(st.isFile(), `${t.rel} is a regular file`)
  assert.ok((await fs.readFile(p)).equals(data), `${t.rel}: bytes`)
  assert.equal(Number(st.mode) & 0o7777, t.mode, `${t.rel}: mode ${(Number(st.mode) & 0o7777).toString(8)}`)
  assert.equal(st.mtimeNs / 1000n, BigInt(Math.round(t.mtimeMs * 1000)), `${t.rel}: mtime`)
}

/** codes is a reply's outcome per target, as a plain array. */
const codes = (r: UnpackReply) => [...r.outcomes.codes]

describe('unpack workers (real gpg, a pack made by PackWriter)', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  let ctx: GpgContext
  let pool: UnpackerPool
  let pack: FinishedPack
  let dirs = 0
  const m: Record<string, Member> = {}
  // Spans the writer's two frames: the second is mostly big's random tail, where the damage goes.
  const big = Buffer.concat([Buffer.alloc(FRAME_BYTES, 'b'), randomBytes(2_000_000)])

  /** out makes a new, empty target root. */
  async function out(): Promise<string> {
    const root = path.join(work.dir, `out-${dirs++}`)
    await fs.mkdir(root)
    return root
  }

  before(async () => {
    process.env.GNUPGHOME = g.home // the workers' gpg inherits it
    ctx = {
      encryption: { type: 'recipients', recipients: [g.keys[0]!.fingerprint] },
      recipientKeyIds: await recipientKeyIds([g.keys[0]!.fingerprint]),
    }
    pool = await UnpackerPool.open(2)
    pack = await writePack(ctx, path.join(work.dir, 'spool'), async (w) => {
      await w.addDirectory('INBOX', 0o700, T0)
      const add = async (name: string, data: Buffer) => {
        await w.addFile(name, 0o600, T0, data, sha256(data))
        m[name] = { entry: w.entries - 1, data }
      }
      await add('a', Buffer.from('From: a\n\nfirst\n'))
      await add('b', Buffer.from('From: b\n\nsecond\n'.repeat(100)))
      await add('empty', Buffer.alloc(0))
      await add('unwanted', Buffer.from('never asked for'))
      // Read in pieces, as a file is: the writer's first frame then ends inside it.
      const pieces = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) =>
        big.subarray(i * 65536, (i + 1) * 65536),
      )
      const e = await w.addStream('big', 0o600, T0, big.length, Readable.from(pieces), () => {})
      m.big = { entry: e, data: big }
      await add('after', Buffer.from('after the big one\n'))
      await add('last', Buffer.from('the last member\n'))
    })
  })
  after(async () => {
    await pool?.close()
    work.cleanup()
    g.cleanup()
  })

  it('writes the chosen members only, each to all its paths, with their modes and mtimes to the microsecond', async () => {
    const root = await out()
    const wants: Want[] = [
      // Not in pack order: the worker finds members by ordinal.
      { m: m.b!, targets: [{ rel: 'b', mode: 0o644, mtimeMs: T0 + 1.001 }] },
      { m: m.a!, targets: [{ rel: 'a', mode: 0o600, mtimeMs: T0 }] },
      {
        m: m.big!,
        targets: [
          { rel: 'big', mode: 0o755, mtimeMs: T0 + 2.5 },
          { rel: 'big-copy', mode: 0o640, mtimeMs: 1_600_000_000_000.001 },
          { rel: 'big-setuid', mode: isRoot ? 0o4755 : 0o700, mtimeMs: T0 + 3 },
        ],
      },
      { m: m.empty!, targets: [{ rel: 'empty', mode: 0o600, mtimeMs: T0 + 0.999 }] },
      { m: m.last!, targets: [{ rel: 'last', mode: 0o644, mtimeMs: T0 }] },
    ]
    const r = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), false)
    assert.equal(r.error, null)
    assert.equal(r.failure, null)
    assert.deepEqual(codes(r), Array(7).fill(WRITTEN))
    assert.deepEqual(r.outcomes.errors, [])
    for (const w of wants) for (const t of w.targets) await assertFile(root, t, w.m.data)
    assert.deepEqual((await fs.readdir(root)).sort(), [
      'a',
      'b',
      'big',
      'big-copy',
      'big-setuid',
      'empty',
      'last',
    ])
  })

  it('an ordinal the pack does not have (an absurd one too): that target MISSING, the others written', async () => {
    const root = await out()
    const ghost = (entry: number): Member => ({ entry, data: Buffer.from('never stored') })
    const wants: Want[] = [
      { m: ghost(4_000_000_000), targets: [{ rel: 'absurd', mode: 0o600, mtimeMs: T0 }] },
      { m: m.last!, targets: [{ rel: 'last', mode: 0o600, mtimeMs: T0 }] },
      { m: ghost(m.last!.entry + 1), targets: [{ rel: 'past-the-end', mode: 0o600, mtimeMs: T0 }] },
      { m: m.a!, targets: [{ rel: 'a', mode: 0o600, mtimeMs: T0 }] },
    ]
    const r = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), false)
    assert.equal(r.error, null)
    assert.deepEqual(codes(r), [MISSING, WRITTEN, MISSING, WRITTEN])
    assert.deepEqual((await fs.readdir(root)).sort(), ['a', 'last'])
  })

  it('several packs at once on the pool, each with its own FIFO', async () => {
    const roots = await Promise.all([out(), out(), out(), out()])
    const replies = await Promise.all(
      roots.map((root) =>
        pool.unpack(
          pack.spoolPath,
          ctx,
          listOf(root, [{ m: m.b!, targets: [{ rel: 'b', mode: 0o600, mtimeMs: T0 }] }]),
          false,
        ),
      ),
    )
    for (const [i, r] of replies.entries()) {
      assert.deepEqual(codes(r), [WRITTEN])
      await assertFile(roots[i]!, { rel: 'b', mode: 0o600, mtimeMs: T0 }, m.b!.data)
    }
  })

  it('a member whose hash is not the index’s: every path DAMAGED and nothing left of it; the others written', async () => {
    const root = await out()
    const wants: Want[] = [
      { m: m.a!, targets: [{ rel: 'a', mode: 0o600, mtimeMs: T0 }] },
      {
        m: m.b!,
        hash: sha256(Buffer.from('what the index says b holds')),
        targets: [
          { rel: 'b', mode: 0o600, mtimeMs: T0 },
          { rel: 'b2', mode: 0o600, mtimeMs: T0 },
        ],
      },
      {
        m: m.big!,
        hash: sha256(Buffer.from('not big')),
        targets: [{ rel: 'big', mode: 0o600, mtimeMs: T0 }],
      },
      { m: m.last!, targets: [{ rel: 'last', mode: 0o600, mtimeMs: T0 }] },
    ]
    const r = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), false)
    assert.deepEqual(codes(r), [WRITTEN, DAMAGED, DAMAGED, DAMAGED, WRITTEN])
    assert.equal(r.error, null)
    assert.equal(r.failure, null)
    assert.deepEqual((await fs.readdir(root)).sort(), ['a', 'last'])
  })

  it('a member whose tar header claims another size than the index: DAMAGED, no file of it even begun; the others written', async () => {
    const root = await out()
    const wants: Want[] = [
      // The index says big is 10 bytes; its header says more (what a forged pack claims).
      {
        m: m.big!,
        size: 10,
        targets: [
          { rel: 'big', mode: 0o600, mtimeMs: T0 },
          { rel: 'big2', mode: 0o600, mtimeMs: T0 },
        ],
      },
      { m: m.after!, targets: [{ rel: 'after', mode: 0o600, mtimeMs: T0 }] },
    ]
    const r = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), false)
    assert.deepEqual(codes(r), [DAMAGED, DAMAGED, WRITTEN])
    assert.equal(r.error, null)
    assert.deepEqual(await fs.readdir(root), ['after'])
  })

  it('a file in the way: FAILED with EEXIST and left alone (the member’s other paths still written); overwrite replaces it', async () => {
    const root = await out()
    await fs.writeFile(path.join(root, 'a'), 'already here', { mode: 0o600 })
    await fs.writeFile(path.join(root, 'big2'), 'already here too', { mode: 0o600 })
    const wants: Want[] = [
      { m: m.a!, targets: [{ rel: 'a', mode: 0o644, mtimeMs: T0 }] },
      {
        m: m.big!,
        targets: [
          { rel: 'big', mode: 0o600, mtimeMs: T0 },
          { rel: 'big2', mode: 0o600, mtimeMs: T0 },
        ],
      },
    ]
    const kept = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), false)
    assert.deepEqual(codes(kept), [FAILED, WRITTEN, FAILED])
    assert.deepEqual(kept.outcomes.errors, [
      [0, 'EEXIST'],
      [2, 'EEXIST'],
    ])
    assert.equal(await fs.readFile(path.join(root, 'a'), 'utf8'), 'already here')
    assert.equal(await fs.readFile(path.join(root, 'big2'), 'utf8'), 'already here too')
    await assertFile(root, wants[1]!.targets[0]!, big)

    const replaced = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), true)
    assert.deepEqual(codes(replaced), [WRITTEN, WRITTEN, WRITTEN])
    for (const w of wants) for (const t of w.targets) await assertFile(root, t, w.m.data)
  })

  it('overwrite gives a replaced file the member’s mode, 0600 included (not the old file’s 0644)', async () => {
    const root = await out()
    await fs.writeFile(path.join(root, 'a'), 'a world-readable file in the way')
    await fs.chmod(path.join(root, 'a'), 0o644)
    const t: Target = { rel: 'a', mode: 0o600, mtimeMs: T0 }
    const r = await pool.unpack(pack.spoolPath, ctx, listOf(root, [{ m: m.a!, targets: [t] }]), true)
    assert.deepEqual(codes(r), [WRITTEN])
    await assertFile(root, t, m.a!.data)
  })

  it('a symlink in the way is never written through: EEXIST without overwrite, the link itself replaced with it', async () => {
    const root = await out()
    const outside = await out()
    const victim = path.join(outside, 'victim')
    await fs.writeFile(victim, 'must not change')
    const nowhere = path.join(outside, 'created-through-a-dangling-link')
    await fs.symlink(victim, path.join(root, 'a'))
    await fs.symlink(nowhere, path.join(root, 'b'))
    await fs.symlink(victim, path.join(root, 'b-copy')) // in the way of a member's second path
    const wants: Want[] = [
      { m: m.a!, targets: [{ rel: 'a', mode: 0o600, mtimeMs: T0 }] },
      {
        m: m.b!,
        targets: [
          { rel: 'b', mode: 0o600, mtimeMs: T0 },
          { rel: 'b-copy', mode: 0o600, mtimeMs: T0 },
        ],
      },
    ]
    const kept = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), false)
    assert.deepEqual(codes(kept), [FAILED, FAILED, FAILED])
    assert.deepEqual(
      kept.outcomes.errors.map(([, code]) => code),
      ['EEXIST', 'EEXIST', 'EEXIST'],
    )
    for (const rel of ['a', 'b', 'b-copy'])
      assert.ok((await fs.lstat(path.join(root, rel))).isSymbolicLink(), rel)

    const replaced = await pool.unpack(pack.spoolPath, ctx, listOf(root, wants), true)
    assert.deepEqual(codes(replaced), [WRITTEN, WRITTEN, WRITTEN])
    for (const w of wants) for (const t of w.targets) await assertFile(root, t, w.m.data)
    assert.equal(await fs.readFile(victim, 'utf8'), 'must not change')
    await assert.rejects(fs.lstat(nowhere), { code: 'ENOENT' })
    assert.deepEqual(await fs.readdir(outside), ['victim'])
  })

  it('a missing pack file: the failure names it, every target MISSING, nothing written', async () => {
    const root = await out()
    const gone = path.join(work.dir, 'no-such-pack')
    const r = await pool.unpack(
      gone,
      ctx,
      listOf(root, [{ m: m.a!, targets: [{ rel: 'a', mode: 0o600, mtimeMs: T0 }] }]),
      false,
    )
    assert.deepEqual(codes(r), [MISSING])
    assert.equal(r.failure?.code, 'not-found')
    assert.equal(r.failure?.key, false)
    assert.match(r.failure!.message, new RegExp(gone))
    assert.deepEqual(await fs.readdir(root), [])
  })

  for (const [how, spoil] of [
    [
      'with a flipped byte near its end',
      (c: Buffer) => {
        const d = Buffer.from(c)
        d[d.length - 1500]! ^= 0x20
        return d
      },
    ],
    ['cut short', (c: Buffer) => c.subarray(0, c.length - 1500)],
  ] as const) {
    it(`a pack ${how}: what came before the damage is written and right, the member cut by it removed, the rest MISSING`, async () => {
      const root = await out()
      const file = path.join(work.dir, `spoiled-${dirs}`)
      await fs.writeFile(file, spoil(await fs.readFile(pack.spoolPath)))
      const wants: Want[] = [
        { m: m.a!, targets: [{ rel: 'a', mode: 0o600, mtimeMs: T0 }] },
        { m: m.b!, targets: [{ rel: 'b', mode: 0o644, mtimeMs: T0 + 1 }] },
        { m: m.big!, targets: [{ rel: 'big', mode: 0o600, mtimeMs: T0 }] },
        { m: m.after!, targets: [{ rel: 'after', mode: 0o600, mtimeMs: T0 }] },
        { m: m.last!, targets: [{ rel: 'last', mode: 0o600, mtimeMs: T0 }] },
      ]
      const r = await pool.unpack(file, ctx, listOf(root, wants), false)
      // The main thread's first frame ends inside `big`; the damage is in the second.
      assert.deepEqual(codes(r), [WRITTEN, WRITTEN, MISSING, MISSING, MISSING])
      assert.ok(r.error, 'the archive’s own damage is reported too')
      assert.equal(r.failure?.code, 'gpg-corrupt', JSON.stringify(r.failure))
      assert.equal(r.failure?.key, false)
      for (const w of wants.slice(0, 2)) await assertFile(root, w.targets[0]!, w.m.data)
      assert.deepEqual((await fs.readdir(root)).sort(), ['a', 'b'], 'no partial big')
    })
  }
})
