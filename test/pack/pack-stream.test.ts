// PackStream (src/pack/pack-stream.ts), the one reader of seb's archives: zstd frames in, tar members
// out by ordinal. Whatever the size of the pieces it is fed (push, or space + wrote as the unpack
// workers read a FIFO), wherever a frame is split, it must hand out the members GNU tar lists with the
// bytes they hold; damage (a cut-short stream, a damaged frame, a broken tar header) is kept in `error`
// and the visitor hears nothing more; a visitor's own failure is kept apart; reset starts over cleanly.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { type MemberVisitor, PackStream } from '../../src/pack/pack-stream.js'
import type { TarEntry } from '../../src/pack/tar-header.js'
import { FrameCompressor } from '../../src/pack/zstd.js'
import { tarList, unzstd } from '../helpers/pack-oracle.js'
import { tarOf } from '../helpers/tar.js'

type Event =
  | readonly ['member', number, number, string]
  | readonly ['data', number, Buffer]
  | readonly ['end', number]

/** Recorder is a visitor that logs every call (data copied: a piece is only valid during the call). */
class Recorder implements MemberVisitor {
  readonly events: Event[] = []
  member(entry: number, size: number, typeflag: string): void {
    this.events.push(['member', entry, size, typeflag])
  }
  data(entry: number, piece: Uint8Array): void {
    this.events.push(['data', entry, Buffer.from(piece)])
  }
  end(entry: number): void {
    this.events.push(['end', entry])
  }
  /** members folds the log into whole members: ordinal, size, type flag, bytes, whether it ended. */
  members(): { entry: number; size: number; typeflag: string; data: Buffer; ended: boolean }[] {
    const out: { entry: number; size: number; typeflag: string; parts: Buffer[]; ended: boolean }[] = []
    for (const e of this.events) {
      if (e[0] === 'member') out.push({ entry: e[1], size: e[2], typeflag: e[3], parts: [], ended: false })
      else {
        const m = out[out.length - 1]
        assert.ok(m && m.entry === e[1] && !m.ended, `${e[0]} for entry ${e[1]} outside its member`)
        if (e[0] === 'data') m.parts.push(e[2])
        else m.ended = true
      }
    }
    return out.map(({ parts, ...m }) => ({ ...m, data: Buffer.concat(parts) }))
  }
}

const T = 1_700_000_000_000
const text = (n: number) => Buffer.from('Received: from mx.example.invalid\nSubject: hi\n\n'.repeat(n))

/** MEMBERS is a small archive's content: what a pack holds, in order. */
const MEMBERS: { e: TarEntry; data?: Buffer }[] = [
  { e: { path: 'INBOX', type: 'directory', size: 0, mode: 0o700, mtimeMs: T } },
  {
    e: { path: 'INBOX/cur/1', type: 'file', size: 2400, mode: 0o600, mtimeMs: T },
    data: text(60).subarray(0, 2400),
  },
  { e: { path: 'INBOX/link', type: 'symlink', size: 0, mode: 0o777, mtimeMs: T, linkPath: 'cur/1' } },
  {
    e: { path: 'INBOX/cur/empty', type: 'file', size: 0, mode: 0o600, mtimeMs: T + 0.5 },
    data: Buffer.alloc(0),
  },
  {
    e: { path: 'INBOX/cur/rnd', type: 'file', size: 5000, mode: 0o644, mtimeMs: T },
    data: randomBytes(5000),
  },
  {
    e: { path: `INBOX/cur/${'long-'.repeat(30)}`, type: 'file', size: 1536, mode: 0o600, mtimeMs: T + 0.25 },
    data: randomBytes(1536),
  },
  {
    e: { path: 'INBOX/cur/3', type: 'file', size: 700, mode: 0o600, mtimeMs: T },
    data: text(20).subarray(0, 700),
  },
]

/** expected is what a reader must hand out for `members`: ordinal, size, type flag, bytes, ended. */
function expected(members: typeof MEMBERS) {
  const flag = { file: '0', directory: '5', symlink: '2', link: '1' } as const
  return members.map(({ e, data }, entry) => ({
    entry,
    size: e.type === 'file' ? e.size : 0,
    typeflag: flag[e.type],
    data: data ?? Buffer.alloc(0),
    ended: true,
  }))
}

/** framed compresses `plain` as one zstd frame per slice between the cut points (anywhere, not at members). */
function framed(plain: Buffer, cuts: number[]): { stream: Buffer; frames: Buffer[] } {
  const c = new FrameCompressor()
  const at = [0, ...cuts, plain.length]
  const frames = at.slice(1).map((end, i) => Buffer.from(c.frame([plain.subarray(at[i]!, end)])))
  return { stream: Buffer.concat(frames), frames }
}

const PLAIN = tarOf(MEMBERS)
const SMALL = framed(PLAIN, [700, 3000, 3001, 9000])

/** pushAll feeds `data` in pieces of `piece` bytes and finishes. */
function pushAll(s: PackStream, data: Buffer, piece: number): Error | null {
  for (let i = 0; i < data.length; i += piece) s.push(data.subarray(i, i + piece))
  return s.finish()
}

/** readInto feeds `data` the way the unpack workers read a FIFO: straight into space(), `n` at most. */
function readInto(s: PackStream, data: Buffer, n: number): Error | null {
  let at = 0
  while (at < data.length) {
    const room = s.space()
    const k = Math.min(n, room.length, data.length - at)
    data.copy(room, 0, at, at + k)
    s.wrote(k)
    at += k
  }
  return s.finish()
}

describe('PackStream', () => {
  it('the test archive is what GNU tar lists (the oracle for the expected members)', () => {
    assert.deepEqual(unzstd(SMALL.stream), PLAIN, 'zstd -d reads the frames as one stream')
    const listed = tarList(PLAIN)
    assert.deepEqual(
      listed.map((m) => m.size),
      expected(MEMBERS).map((m) => m.size),
    )
    assert.equal(listed.length, MEMBERS.length)
  })

  it('push: the same members and bytes for any piece size', () => {
    for (const piece of [1, 2, 7, 100, 511, 512, 513, 4096, 65536, SMALL.stream.length]) {
      const r = new Recorder()
      const s = new PackStream(r)
      assert.equal(pushAll(s, SMALL.stream, piece), null, `piece ${piece}`)
      assert.deepEqual(r.members(), expected(MEMBERS), `piece ${piece}`)
      assert.equal(s.visitorError, null)
    }
  })

  it('space + wrote: the same members and bytes for any amount read at once', () => {
    for (const n of [1, 13, 512, 15 * 1024, 1 << 20]) {
      const r = new Recorder()
      const s = new PackStream(r)
      assert.equal(readInto(s, SMALL.stream, n), null, `n ${n}`)
      assert.deepEqual(r.members(), expected(MEMBERS), `n ${n}`)
    }
  })

  it('many frames and a frame too large to take whole (streamed): members and bytes intact', () => {
    const huge = Buffer.concat([text(200_000), randomBytes(100_000)]) // ~9.5 MB: over the whole-frame limit
    const members = [
      ...MEMBERS,
      {
        e: { path: 'big', type: 'file', size: huge.length, mode: 0o600, mtimeMs: T } as TarEntry,
        data: huge,
      },
      ...MEMBERS.slice(1, 3),
    ]
    const plain = tarOf(members)
    const cuts = [100, 1000, 2000, 5000, 10_000, 10_001, 20_000, 4_000_000, plain.length - 2000]
    const { stream } = framed(plain, cuts)
    for (const piece of [15 * 1024, 1 << 20]) {
      const r = new Recorder()
      assert.equal(pushAll(new PackStream(r), stream, piece), null)
      const got = r.members()
      assert.equal(got.length, members.length)
      assert.ok(got[MEMBERS.length]!.data.equals(huge), 'the large member')
      assert.deepEqual(got, expected(members))
    }
  })

  it('a frame split anywhere: every split point gives the same members', () => {
    // Mostly text, so that every split point of every frame is tried in little time.
    const members = MEMBERS.filter((m) => !m.e.path.includes('rnd'))
    const { stream } = framed(tarOf(members), [600, 2000, 4500])
    const s = new PackStream(new Recorder())
    const want = expected(members)
    for (let k = 0; k <= stream.length; k++) {
      const r = new Recorder()
      s.reset(r)
      s.push(stream.subarray(0, k))
      s.push(stream.subarray(k))
      assert.equal(s.finish(), null, `split at ${k}`)
      assert.deepEqual(r.members(), want, `split at ${k}`)
    }
  })

  it('a stream cut short: finish reports it; the members before are whole, the cut one never ends', () => {
    const want = expected(MEMBERS)
    const frameEnds = new Set<number>()
    let at = 0
    for (const f of SMALL.frames) {
      at += f.length
      frameEnds.add(at)
    }
    for (let cut = 1; cut < SMALL.stream.length; cut += 97) {
      if (frameEnds.has(cut)) continue // cut between frames: only the tar can tell
      const r = new Recorder()
      const s = new PackStream(r)
      s.push(SMALL.stream.subarray(0, cut))
      const err = s.finish()
      assert.ok(err instanceof Error, `cut at ${cut}`)
      assert.match(err.message, /zstd|tar/)
      assert.equal(s.error, err)
      assert.equal(s.visitorError, null, 'damage is not the visitor’s')
      const got = r.members()
      for (const m of got.filter((m) => m.ended)) assert.deepEqual(m, want[m.entry], `cut at ${cut}`)
      assert.ok(got.filter((m) => !m.ended).length <= 1, 'at most the cut member is open')
      assert.ok(got.length < want.length || !got[got.length - 1]!.ended, 'the archive is not complete')
    }
  })

  it('a stream cut inside the tar at a frame boundary: the tar says it ended in a member', () => {
    const { stream, frames } = framed(PLAIN, [3000])
    const r = new Recorder()
    const s = new PackStream(r)
    s.push(stream.subarray(0, frames[0]!.length))
    const err = s.finish()
    assert.match(String(err), /tar: unexpected end of data/)
  })

  it('a damaged frame: the error is kept, later input is ignored and the visitor hears nothing more', () => {
    const damaged = Buffer.from(SMALL.stream)
    // The fourth frame holds most of the random member (stored raw: only the frame's checksum can tell).
    const fourth = SMALL.frames[0]!.length + SMALL.frames[1]!.length + SMALL.frames[2]!.length
    damaged[fourth + Math.floor(SMALL.frames[3]!.length / 2)]! ^= 0x40
    for (const piece of [64, damaged.length]) {
      const r = new Recorder()
      const s = new PackStream(r)
      for (let i = 0; i < damaged.length; i += piece) {
        s.push(damaged.subarray(i, i + piece))
        if (s.error) {
          const heard = r.events.length
          s.push(SMALL.stream) // more input, even good, is ignored
          s.push(damaged.subarray(i + piece))
          assert.equal(r.events.length, heard, 'nothing more after damage')
          break
        }
      }
      const err = s.finish()
      assert.ok(err, `piece ${piece}: damage found`)
      assert.match(err.message, /checksum|corrupt|Data/i)
      assert.equal(s.finish(), err, 'the first damage is kept')
      assert.equal(s.visitorError, null)
      const got = r.members()
      assert.ok(got.length < MEMBERS.length)
      for (const m of got.filter((m) => m.ended)) assert.deepEqual(m, expected(MEMBERS)[m.entry])
    }
  })

  it('a damaged frame header (not zstd at all) is damage too', () => {
    const damaged = Buffer.from(SMALL.stream)
    damaged[SMALL.frames[0]!.length] = 0x00 // the second frame's magic number
    const r = new Recorder()
    const err = pushAll(new PackStream(r), damaged, 4096)
    assert.ok(err)
    assert.ok(
      r.members().every((m) => m.entry < 2),
      'only the first frame’s members',
    )
  })

  it('a broken tar header in an intact frame: tar damage, the members before stay whole', () => {
    const plain = Buffer.from(PLAIN)
    // The header of the member "INBOX/cur/3" (the last one, before its 700 bytes padded to 1024 and the
    // two end blocks): its checksum no longer matches.
    const headerAt = plain.length - 1024 - 1024 - 512
    assert.equal(plain.toString('latin1', headerAt, headerAt + 11), 'INBOX/cur/3')
    plain[headerAt + 5] = 0x58
    const r = new Recorder()
    const s = new PackStream(r)
    const err = pushAll(s, framed(plain, [1000]).stream, 333)
    assert.match(String(err), /tar: invalid header/)
    assert.deepEqual(r.members(), expected(MEMBERS).slice(0, MEMBERS.length - 1))
  })

  it('a visitor that throws: its error is kept apart from damage, and it hears nothing more', () => {
    const thrown = new Error('disk full while writing member 4')
    const r = new Recorder()
    let calls = 0
    const s = new PackStream({
      member: (e, size, t) => r.member(e, size, t),
      data: (e, p) => {
        if (e === 4) throw thrown
        r.data(e, p)
      },
      end: (e) => {
        calls++
        r.end(e)
      },
    })
    const err = pushAll(s, SMALL.stream, 256)
    assert.equal(s.visitorError, thrown)
    assert.equal(err, thrown, 'finish reports it as the stream’s error too')
    assert.equal(calls, 4, 'members 0–3 ended, nothing after the throw')
    assert.equal(r.events.at(-1)![0], 'member')
    assert.equal(r.events.at(-1)![1], 4)

    const s2 = new PackStream({
      member() {
        throw 'not an Error'
      },
      data() {},
      end() {},
    })
    const err2 = pushAll(s2, SMALL.stream, 100_000)
    assert.equal(s2.visitorError, 'not an Error', 'kept as thrown')
    assert.ok(err2 instanceof Error)
  })

  it('reset starts a new archive: after damage, a cut-short stream or a visitor’s error, the next one reads whole', () => {
    const s = new PackStream(new Recorder())
    const damaged = Buffer.from(SMALL.stream)
    damaged[SMALL.frames[0]!.length + 10]! ^= 0xff
    const spoilers: ((s: PackStream) => void)[] = [
      (s) => pushAll(s, damaged, 1000),
      (s) => s.push(SMALL.stream.subarray(0, SMALL.frames[0]!.length + 5)), // inside a frame, no finish
      (s) => {
        s.reset({
          member() {
            throw new Error('visitor')
          },
          data() {},
          end() {},
        })
        s.push(SMALL.stream)
      },
    ]
    for (const spoil of spoilers) {
      const old = new Recorder()
      s.reset(old)
      spoil(s)
      const heard = old.events.length
      const r = new Recorder()
      s.reset(r)
      assert.equal(s.error, null)
      assert.equal(s.visitorError, null)
      assert.equal(pushAll(s, SMALL.stream, 777), null)
      assert.deepEqual(r.members(), expected(MEMBERS))
      assert.equal(old.events.length, heard, 'the old visitor hears nothing after reset')
    }
  })
})
