// In-process zstd checked against the system `zstd` as the oracle: a pack is a run of independent
// frames (some written into a shared slot, some cut by the FrameBuilder), and `zstd -d` must read the
// run as one stream equal to the plaintext.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
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
    const stream = Buffer.from(execFileSync('zstd', ['-3', '-q', '-c'], { input: plain }))
    const both = Buffer.concat([stream, new FrameCompressor().frame([plain])])
    for (const piece of [1, 777, 65_536, both.length]) {
      const d = new FrameDecompressor()
      const out: Buffer[] = []
      for (let i = 0; i < both.length; i += piece)
        d.push(both.subarray(i, i + piece), (p) => out.push(Buffer.from(p)))
      assert.ok(d.complete)
      assert.deepEqual(Buffer.concat(out), Buffer.concat([plain, plain]))
    }
    const cut = new FrameDecompressor()
    cut.push(stream.subarray(0, stream.length - 10), () => {})
    assert.equal(cut.complete, false)
  })
})
