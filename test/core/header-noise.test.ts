// Why: a twin stored as a patch is only safe if applying the patch gives the variant back byte for byte,
// for every shape of message and noise line a sync tool or a mail server can produce, and if nothing but
// the header's noise lines is ever ignored. Many generated messages, each given noise lines in many
// places and spellings, every pair patched into each other.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { keystream, mulberry32 } from '../../bench/maildir-gen.js'
import {
  applyPatch,
  BadPatchError,
  decodePatch,
  encodePatch,
  findNoise,
  MAX_ENCODED_PATCH,
  MAX_NOISE_BYTES,
  MAX_NOISE_LINES,
  makePatch,
  type NoiseLine,
  normalizedParts,
  patchedSize,
} from '../../src/core/header-noise.js'
import { generateMail, insertHeaderLine, tuidValue } from '../helpers/mail-messages.js'

function normalizedHash(content: Buffer): string {
  const h = createHash('sha256')
  for (const part of normalizedParts(content, findNoise(content))) h.update(part)
  return h.digest('hex')
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

/** Line starts of the header section that do not begin a folded continuation (safe insertion points). */
function fieldStarts(m: Buffer): number[] {
  const starts: number[] = []
  let pos = 0
  while (pos < m.length && m[pos] !== 10 && !(m[pos] === 13 && m[pos + 1] === 10)) {
    if (m[pos] !== 32 && m[pos] !== 9) starts.push(pos)
    const nl = m.indexOf(10, pos)
    if (nl < 0) {
      starts.push(m.length)
      break
    }
    pos = nl + 1
  }
  if (pos < m.length) starts.push(pos) // the blank line: the end of the header
  return starts
}

/** A noise line in one of the spellings tools and servers write, with the message's line end. */
function noiseLine(r: () => number, seed: number, crlf: boolean): string {
  const nl = crlf ? '\r\n' : '\n'
  const v = tuidValue(seed)
  const forms = [
    `X-TUID: ${v}${nl}`,
    `X-TUID: ${v}${nl}`,
    `x-tuid: ${v}${nl}`,
    `X-Tuid:${v}${nl}`,
    `X-TUID:${nl} ${v}${nl}`,
    `X-TUID: ${v.slice(0, 6)}${nl}\t${v.slice(6)}${nl}`,
    `X-TUID: ${v}\n`,
  ]
  return forms[Math.floor(r() * forms.length)]!
}

/** variant inserts noise lines at chosen field starts; returns the bytes and the lines' true places. */
function variant(m: Buffer, r: () => number, seed: number, crlf: boolean, count: number) {
  const starts = fieldStarts(m)
  const chosen = Array.from({ length: count }, () => starts[Math.floor(r() * starts.length)]!).sort(
    (a, b) => a - b,
  )
  const pieces: Buffer[] = []
  const lines: NoiseLine[] = []
  let pos = 0
  let out = 0
  chosen.forEach((at, k) => {
    pieces.push(m.subarray(pos, at))
    out += at - pos
    const line = Buffer.from(noiseLine(r, seed * 7 + k, crlf), 'latin1')
    pieces.push(line)
    lines.push({ start: out, end: out + line.length })
    out += line.length
    pos = at
  })
  pieces.push(m.subarray(pos))
  return { bytes: Buffer.concat(pieces), lines }
}

/** Twins of one message: without noise, and with 1 or 2 noise lines in various places and spellings. */
function twins(m: Buffer, r: () => number, seed: number, crlf: boolean) {
  const out = [{ bytes: m, lines: [] as NoiseLine[] }]
  for (let k = 0; k < 4; k++) out.push(variant(m, r, seed * 13 + k, crlf, 1 + (k % 2)))
  // mbsync's own place: the end of the header.
  out.push({ bytes: insertHeaderLine(m, `X-TUID: ${tuidValue(seed)}`), lines: [] })
  return out
}

describe('header noise', () => {
  it('finds exactly the inserted noise lines and patches every twin into every other, byte for byte', () => {
    const r = mulberry32(20261203)
    let pairs = 0
    for (let i = 0; i < 160; i++) {
      const mail = generateMail(77, i)
      // Keep the test quick: the body's length does not matter to the header code.
      const m = mail.bytes.subarray(0, Math.min(mail.bytes.length, 6000))
      const family = twins(m, r, i, mail.crlf)
      const bare = sha256(m)
      for (const t of family) {
        const noise = findNoise(t.bytes)
        if (t.lines.length) assert.deepEqual(noise, t.lines, `message ${i}: noise found where inserted`)
        assert.deepEqual(Buffer.concat(normalizedParts(t.bytes, noise)), m, `message ${i}: normalized`)
        assert.equal(normalizedHash(t.bytes), bare)
      }
      for (const base of family)
        for (const target of family) {
          const baseNoise = findNoise(base.bytes)
          const patch = makePatch(target.bytes, findNoise(target.bytes))
          const encoded = encodePatch(patch)
          assert.ok(encoded.length <= MAX_ENCODED_PATCH)
          assert.equal(JSON.parse(JSON.stringify(encoded)), encoded)
          const rebuilt = applyPatch(base.bytes, baseNoise, decodePatch(encoded))
          assert.deepEqual(rebuilt, target.bytes, `message ${i}: patched twin differs`)
          assert.equal(patchedSize(base.bytes.length, baseNoise, patch), target.bytes.length)
          pairs++
        }
    }
    assert.ok(pairs > 5000)
  })

  it('differing raw bytes, equal normalized hashes: what identifies an mbsync twin', () => {
    const m = generateMail(5, 3).bytes
    const a = insertHeaderLine(m, `X-TUID: ${tuidValue(1)}`)
    const b = insertHeaderLine(m, `X-TUID: ${tuidValue(2)}`)
    assert.notEqual(sha256(a), sha256(b))
    assert.equal(normalizedHash(a), normalizedHash(b))
    assert.equal(normalizedHash(a), sha256(m))
    // One 21-byte line: the patch is its offset and text, 25-odd characters, no JSON escapes.
    const encoded = encodePatch(makePatch(b, findNoise(b)))
    assert.match(encoded, /^\d+LX-TUID: [A-Za-z0-9+/]{12}$/)
    assert.equal(JSON.stringify(encoded).length, encoded.length + 2)
  })

  it('ignores X-TUID in the body, in a continuation line, or as part of a longer name', () => {
    const head = 'From: a@example.org\nSubject: hi\n'
    const cases = [
      `${head}\nX-TUID: abcdefghijkl\n`,
      `${head}\r\n\r\nX-TUID: abcdefghijkl\r\n`,
      `${head}Received: from x\n X-TUID: abcdefghijkl\n\nbody\n`,
      `${head}X-TUID-Old: abcdefghijkl\nX-TUIDS: a\nX-TUI: b\nX-TUID : c\n\nbody\n`,
    ]
    for (const c of cases) assert.equal(findNoise(Buffer.from(c)), null, JSON.stringify(c))
    const inBody = Buffer.from(`${head}X-TUID: aaaaaaaaaaaa\n\nX-TUID: bbbbbbbbbbbb\n`)
    assert.deepEqual(findNoise(inBody), [{ start: head.length, end: head.length + 21 }])
    // Noise in the body is content: a message differing there is not a twin.
    const a = Buffer.from(`${head}\nX-TUID: aaaaaaaaaaaa\n`)
    const b = Buffer.from(`${head}\nX-TUID: bbbbbbbbbbbb\n`)
    assert.notEqual(normalizedHash(a), normalizedHash(b))
  })

  it('handles the odd files a Maildir holds', () => {
    assert.equal(findNoise(Buffer.alloc(0)), null, 'empty file')
    assert.equal(findNoise(Buffer.from('\nX-TUID: abcdefghijkl\n')), null, 'blank first line')
    assert.equal(findNoise(Buffer.from('From a@b Mon Jun  3\nX-TUID: abc\n')), null, 'mbox From line')
    for (let s = 1; s <= 50; s++) {
      const junk = keystream(s, 3, 4000)
      junk[0] = s % 32 // control byte: not a header
      assert.equal(findNoise(junk), null, 'binary junk')
    }
    // Only noise: the normalized content is empty.
    const only = Buffer.from('X-TUID: abcdefghijkl\n')
    assert.deepEqual(findNoise(only), [{ start: 0, end: only.length }])
    assert.deepEqual(normalizedParts(only, findNoise(only)), [])
    // No blank line, noise last without a line end.
    const noEnd = Buffer.from('Subject: hi\nX-TUID: abcdefghijkl')
    assert.deepEqual(findNoise(noEnd), [{ start: 12, end: noEnd.length }])
    const other = Buffer.from('Subject: hi\nX-TUID: zzzzzzzzzzzz\n')
    const p = decodePatch(encodePatch(makePatch(noEnd, findNoise(noEnd))))
    assert.deepEqual(applyPatch(other, findNoise(other), p), noEnd)
    // CRLF first line noise, folded.
    const crlf = Buffer.from('X-TUID: abc\r\n\tdefghijkl\r\nFrom: a@b\r\n\r\nX-TUID: body\r\n')
    assert.deepEqual(findNoise(crlf), [{ start: 0, end: 25 }])
  })

  it('looks only at lines starting in the first 64 KiB of the header', () => {
    const filler = `X-Filler: ${'x'.repeat(100)}\n`.repeat(700) // 77,700 bytes of header
    const early = Buffer.from(`Subject: a\nX-TUID: abcdefghijkl\n${filler}\nbody\n`)
    const late = Buffer.from(`Subject: a\n${filler}X-TUID: abcdefghijkl\n\nbody\n`)
    assert.equal(findNoise(early)?.length, 1)
    assert.equal(findNoise(late), null)
  })

  it('treats more noise than a patch may hold as none', () => {
    const many = (n: number) => `Subject: a\n${'X-TUID: abcdefghijkl\n'.repeat(n)}\nbody\n`
    assert.equal(findNoise(Buffer.from(many(MAX_NOISE_LINES)))?.length, MAX_NOISE_LINES)
    assert.equal(findNoise(Buffer.from(many(MAX_NOISE_LINES + 1))), null)
    const big = `Subject: a\nX-TUID: ${'a'.repeat(MAX_NOISE_BYTES)}\n\nbody\n`
    assert.equal(findNoise(Buffer.from(big)), null)
    // The largest noise findNoise accepts, in the longest form (base64, apart, far in), still decodes.
    const line = `X-TUID: ${'\u00ff'.repeat(Math.floor(MAX_NOISE_BYTES / MAX_NOISE_LINES) - 9)}\n`
    const pad = `X-Pad: ${'p'.repeat(6000)}\n`
    const worst = Buffer.from(`Subject: a\n${(pad + line).repeat(MAX_NOISE_LINES)}\nbody\n`, 'latin1')
    const noise = findNoise(worst)
    assert.equal(noise?.length, MAX_NOISE_LINES)
    const encoded = encodePatch(makePatch(worst, noise))
    assert.ok(encoded.length <= MAX_ENCODED_PATCH, `${encoded.length} characters`)
    const stripped = Buffer.concat(normalizedParts(worst, noise))
    assert.deepEqual(applyPatch(stripped, null, decodePatch(encoded)), worst)
  })

  it('returns views, not copies', () => {
    const m = insertHeaderLine(generateMail(9, 1).bytes, 'X-TUID: abcdefghijkl')
    for (const part of normalizedParts(m, findNoise(m))) assert.equal(part.buffer, m.buffer)
  })

  it('round-trips patches of any bytes, merging adjacent lines', () => {
    const r = mulberry32(99)
    for (let k = 0; k < 300; k++) {
      const lines: { offset: number; bytes: Uint8Array }[] = []
      let offset = 0
      for (let j = 0; j < 1 + Math.floor(r() * 4); j++) {
        offset += Math.floor(r() * 3000)
        const tail = keystream(k, j, Math.floor(r() * 40))
        const ends = ['\n', '\r\n', '', '\r'][Math.floor(r() * 4)]!
        const text = r() < 0.5 ? Buffer.from(`x-tuid: ${tuidValue(k + j)}`) : Buffer.from('X-TUID:')
        lines.push({
          offset,
          bytes: Buffer.concat([text, r() < 0.5 ? tail : Buffer.alloc(0), Buffer.from(ends)]),
        })
      }
      const decoded = decodePatch(encodePatch({ lines }))
      assert.deepEqual(
        decoded.lines.map((l) => [l.offset, Buffer.from(l.bytes).toString('hex')]),
        lines.map((l) => [l.offset, Buffer.from(l.bytes).toString('hex')]),
      )
    }
    const two = Buffer.from('Subject: a\nX-TUID: aaaaaaaaaaaa\nx-tuid: bbbbbbbbbbbb\n\nbody\n')
    const patch = makePatch(two, findNoise(two))
    assert.equal(patch.lines.length, 1)
    // Two lines in one entry hold a line break, so they travel as base64.
    assert.match(encodePatch(patch), /^11B/)
    assert.deepEqual(applyPatch(Buffer.from('Subject: a\n\nbody\n'), null, patch), two)
  })

  it('rejects malformed encoded patches', () => {
    const ok = '12LX-TUID: abcdefghijkl'
    assert.equal(decodePatch(ok).lines.length, 1)
    const bad = [
      'x',
      '12',
      '12L',
      '-1LX-TUID: a',
      '01LX-TUID: a',
      '1.5LX-TUID: a',
      '1e3LX-TUID: a',
      ' 12LX-TUID: a',
      '12XX-TUID: a',
      '20LX-TUID: a,10LX-TUID: b',
      `${64 * 1024 + 1}LX-TUID: a`,
      '9999999LX-TUID: a',
      '12LSubject: not noise',
      '12LX-TUID',
      '12LX-TUID: "quoted"',
      '12LX-TUID: back\\slash',
      '12LX-TUID: tab\there',
      '12LX-TUID: café',
      '12Bnot base64!',
      '12BWC1UVUlEOiBhYg', // base64 without its padding
      `12B${Buffer.from('Subject: hi\n').toString('base64')}`,
      `12B${Buffer.from(`X-TUID: ${'a'.repeat(MAX_NOISE_BYTES)}`).toString('base64')}`,
      Array.from({ length: MAX_NOISE_LINES + 1 }, (_, i) => `${i}LX-TUID: a`).join(','),
      `${ok},`,
      `,${ok}`,
      `${ok},,${ok}`,
      'a'.repeat(MAX_ENCODED_PATCH + 1),
    ]
    for (const s of bad) assert.throws(() => decodePatch(s), BadPatchError, JSON.stringify(s))
    assert.throws(() => decodePatch(42 as unknown as string), BadPatchError)
    assert.deepEqual(decodePatch('').lines, [])
  })

  it('refuses a patch that does not fit the base', () => {
    const base = Buffer.from('Subject: a\n\nb\n')
    assert.throws(() => applyPatch(base, null, decodePatch('15LX-TUID: abcdefghijkl')), BadPatchError)
    assert.deepEqual(
      applyPatch(base, null, decodePatch('14LX-TUID: abcdefghijkl')),
      Buffer.from('Subject: a\n\nb\nX-TUID: abcdefghijkl\n'),
    )
  })
})
