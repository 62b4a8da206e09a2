// In-process zstd checked against the system `zstd` as the oracle: a pack is a run of independent
// frames (some written into a shared slot, some cut by the FrameBuilder), and `zstd -d` must read the
// run as one stream equal to the plaintext.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import {
  FRAME_BYTES,
  FrameBuilder,
  FrameCompressor,
  FrameDecompressor,
  frameBound,
  TextFrames,
} from '../../src/pack/zstd.js'

function systemUnzstd(compressed: Buffer): Buffer {
  return execFileSync('zstd', ['-d', '-q', '-c'], { input: compressed, maxBuffer: 64 * 1024 * 1024 })
}

describe('zstd frames (system zstd as oracle)', () => {
  it('concatenated frames decompress with zstd -d to the concatenated plaintext', () => {
    const c = new FrameCompressor()
    const text = Buffer.from('Subject: hello\nFrom: a@example.invalid\n\nbody line\n'.repeat(5000))
    const noise = randomBytes(100_000)
    const frames = [
      c.frame([text]),
      c.frame([noise, text.subarray(0, 123)]),
      c.frame([Buffer.alloc(0), text]),
    ]
    assert.ok(frames[0]!.length < text.length / 10, 'mail-like text compresses')
    const out = systemUnzstd(Buffer.concat(frames))
    assert.deepEqual(out, Buffer.concat([text, noise, text.subarray(0, 123), text]))
  })

  it('writes into a slot that is large enough, and into a buffer of its own otherwise', () => {
    const c = new FrameCompressor()
    const plain = randomBytes(50_000)
    const slot = new SharedArrayBuffer(frameBound(plain.length))
    const inSlot = c.frame([plain], new Uint8Array(slot))
    assert.equal(inSlot.buffer, slot)
    assert.deepEqual(systemUnzstd(Buffer.from(inSlot)), plain)
    const small = new SharedArrayBuffer(1000)
    const own = c.frame([plain], new Uint8Array(small))
    assert.notEqual(own.buffer, small)
    assert.deepEqual(systemUnzstd(own), plain)
  })

  it('FrameBuilder cuts frames of about FRAME_BYTES and flushes the rest', () => {
    const b = new FrameBuilder(new FrameCompressor())
    const piece = Buffer.alloc(1024 * 1024, 'x')
    const frames: Buffer[] = []
    for (let i = 0; i < 9; i++) {
      const f = b.push(piece)
      if (f) frames.push(f)
    }
    assert.equal(frames.length, Math.floor((9 * piece.length) / FRAME_BYTES))
    assert.equal(b.push(Buffer.alloc(0)), null)
    const last = b.flush()
    assert.ok(last)
    frames.push(last)
    assert.equal(b.flush(), null)
    assert.deepEqual(systemUnzstd(Buffer.concat(frames)), Buffer.concat(Array(9).fill(piece)))
  })

  it('TextFrames compresses text pieces (multi-byte, and one larger than a frame) into frames of the UTF-8 text', () => {
    const frames: Buffer[] = []
    const text = new TextFrames(new FrameCompressor(), (f) => frames.push(f))
    const pieces = [
      '{"a":',
      'é😀'.repeat(1000),
      'x'.repeat(FRAME_BYTES - 3000),
      'ü'.repeat(FRAME_BYTES),
      ...Array.from({ length: 50 }, (_, i) => `,${i}`),
      '}',
    ]
    for (const p of pieces) text.push(p)
    text.flush()
    const expected = Buffer.from(pieces.join(''), 'utf8')
    assert.equal(text.length, expected.length)
    assert.ok(frames.length >= 3, `${frames.length} frames`)
    assert.ok(systemUnzstd(Buffer.concat(frames)).equals(expected))
  })

  it('FrameDecompressor reads frames pushed in pieces of any size, and tells a cut stream', () => {
    const plain = Buffer.concat([
      randomBytes(300_000),
      Buffer.alloc(3 * 1024 * 1024, 'mail '),
      randomBytes(1000),
    ])
    // The CLI's stream from a pipe does not say its size (streamed); seb's frames do (whole).
    const stream = Buffer.from(execFileSync('zstd', ['-3', '-q', '-c'], { input: plain }))
    const both = Buffer.concat([stream, new FrameCompressor().frame([plain]), stream])
    for (const piece of [1, 777, 15_000, 65_536, both.length]) {
      const d = new FrameDecompressor()
      const out: Buffer[] = []
      const sink = (p: Buffer) => out.push(Buffer.from(p))
      for (let i = 0; i < both.length; i += piece) d.push(both.subarray(i, i + piece), sink)
      d.end(sink)
      assert.ok(d.complete, `pieces of ${piece}`)
      assert.deepEqual(Buffer.concat(out), Buffer.concat([plain, plain, plain]), `pieces of ${piece}`)
    }
    const cut = new FrameDecompressor()
    cut.push(stream.subarray(0, stream.length - 10), () => {})
    cut.end(() => {})
    assert.equal(cut.complete, false)
    const cutWhole = new FrameDecompressor()
    const whole = new FrameCompressor().frame([plain])
    cutWhole.push(whole.subarray(0, whole.length - 10), () => {})
    cutWhole.end(() => {})
    assert.equal(cutWhole.complete, false)
    // reset starts a new stream after a cut one
    const out: Buffer[] = []
    cutWhole.reset()
    cutWhole.push(whole, (p) => out.push(Buffer.from(p)))
    cutWhole.end(() => {})
    assert.ok(cutWhole.complete)
    assert.deepEqual(Buffer.concat(out), plain)
  })

  it('FrameDecompressor streams a frame too large to take whole (a large attachment), read through space()', () => {
    const plain = Buffer.concat([randomBytes(5 * 1024 * 1024), Buffer.alloc(5 * 1024 * 1024, 'attachment ')])
    const c = new FrameCompressor()
    const frames = Buffer.concat([
      c.frame([plain.subarray(0, 1000)]),
      c.frame([plain]),
      c.frame([plain.subarray(0, 1000)]),
    ])
    const d = new FrameDecompressor()
    const hash = createHash('sha256')
    let bytes = 0
    const sink = (p: Buffer) => {
      hash.update(p)
      bytes += p.length
    }
    for (let off = 0; off < frames.length; ) {
      const space = d.space()
      assert.ok(space.length >= 256 * 1024)
      const n = Math.min(15_000, frames.length - off)
      frames.copy(space, 0, off, off + n)
      off += n
      d.wrote(n, sink)
    }
    d.end(sink)
    assert.ok(d.complete)
    assert.equal(bytes, plain.length + 2000)
    const expected = createHash('sha256')
      .update(plain.subarray(0, 1000))
      .update(plain)
      .update(plain.subarray(0, 1000))
      .digest('hex')
    assert.equal(hash.digest('hex'), expected)
  })

  it('FrameDecompressor throws on a damaged frame, whole or streamed', () => {
    const plain = Buffer.alloc(200_000, 'Subject: x\n')
    const whole = Buffer.from(new FrameCompressor().frame([plain]))
    whole[whole.length >> 1] = whole[whole.length >> 1]! ^ 0xff
    assert.throws(() => {
      const d = new FrameDecompressor()
      d.push(whole, () => {})
      d.end(() => {})
    })
    const garbage = randomBytes(100_000)
    assert.throws(() => {
      const d = new FrameDecompressor()
      d.push(garbage, () => {})
      d.end(() => {})
    })
  })
  it('FrameDecompressor takes frames of known size whole (one call each), read in 15 kB pieces', () => {
    const c = new FrameCompressor()
    const text = Buffer.from('Received: from mx.example.invalid\nSubject: hi\n\n'.repeat(40_000))
    const noise = randomBytes(300_000)
    const all = Buffer.concat([c.frame([text]), c.frame([noise]), c.frame([text.subarray(0, 1000)])])
    const d = new FrameDecompressor()
    // White box: count the binding's calls, to catch a silent fall back to streaming (slower, not wrong).
    const dctx = (d as unknown as { dctx: { decompress: unknown; decompressStream: unknown } }).dctx
    const calls = { whole: 0, streamed: 0 }
    const whole = (dctx.decompress as (...a: unknown[]) => number).bind(dctx)
    const streamed = (dctx.decompressStream as (...a: unknown[]) => unknown).bind(dctx)
    dctx.decompress = (...a: unknown[]) => {
      calls.whole++
      return whole(...a)
    }
    dctx.decompressStream = (...a: unknown[]) => {
      calls.streamed++
      return streamed(...a)
    }
    const out: Buffer[] = []
    const sink = (p: Buffer) => out.push(Buffer.from(p))
    for (let i = 0; i < all.length; i += 15_000) d.push(all.subarray(i, i + 15_000), sink)
    d.end(sink)
    assert.ok(d.complete)
    assert.deepEqual(calls, { whole: 3, streamed: 0 })
    assert.deepEqual(Buffer.concat(out), Buffer.concat([text, noise, text.subarray(0, 1000)]))
  })

  it('FrameDecompressor refuses a block of the reserved type', () => {
    const frame = Buffer.from(new FrameCompressor().frame([Buffer.alloc(100_000, 'x')]))
    // The first block header follows the frame header: magic, descriptor, then the size fields.
    const fhd = frame[4]!
    const single = (fhd >> 5) & 1
    const at = 5 + (single ? 0 : 1) + [0, 1, 2, 4][fhd & 3]! + [single, 2, 4, 8][fhd >> 6]!
    frame[at] = frame[at]! | 0b110 // block type 3
    assert.throws(() => {
      const d = new FrameDecompressor()
      d.push(frame, () => {})
      d.end(() => {})
    })
  })
})
