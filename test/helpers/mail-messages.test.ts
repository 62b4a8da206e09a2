// Why: the lead's "a re-download uploads < 2 % of a first backup" test, and the noise benchmark, are only
// meaningful if the generated messages have real mail's sizes and shapes; this pins them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { findNoise } from '../../src/core/header-noise.js'
import { generateMail, generateMails, insertHeaderLine, tuidValue } from './mail-messages.js'

describe('generated mail', () => {
  it('has realistic sizes and shapes', () => {
    const mails = generateMails(1, 3000)
    const sizes = mails.map((m) => m.bytes.length).sort((a, b) => a - b)
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length
    assert.ok(mean >= 10_000 && mean <= 15_000, `mean ${mean}`)
    assert.ok(sizes[0]! >= 200 && sizes[0]! < 1000, `smallest ${sizes[0]}`)
    const big = sizes.filter((s) => s > 100_000)
    assert.ok(big.length >= 5, `${big.length} over 100 kB`)
    assert.ok(sizes.at(-1)! <= 2.8e6, `largest ${sizes.at(-1)}`)
    const share = (f: (m: (typeof mails)[number]) => boolean) => mails.filter(f).length / mails.length
    assert.ok(share((m) => m.crlf) > 0.15)
    assert.ok(share((m) => m.bytes.includes('multipart/mixed')) > 0.04)
    assert.ok(share((m) => m.bytes.includes('multipart/alternative')) > 0.1)
    assert.ok(share((m) => m.bytes.includes('quoted-printable')) > 0.2)
    assert.ok(share((m) => m.expected.messageId === '') > 0.005)
    assert.ok(share((m) => m.expected.date === null) > 0.005)
  })

  it('keeps that mean in mailboxes as small as 150 messages', () => {
    for (const seed of [1, 2, 3, 2026]) {
      const mails = generateMails(seed, 150)
      const mean = mails.reduce((n, m) => n + m.bytes.length, 0) / mails.length
      assert.ok(mean >= 10_000 && mean <= 15_000, `seed ${seed}: mean ${mean}`)
      assert.ok(mails.some((m) => m.bytes.length > 100_000))
    }
  })

  it('is deterministic', () => {
    assert.deepEqual(generateMail(7, 11).bytes, generateMail(7, 11).bytes)
    assert.notDeepEqual(generateMail(7, 11).bytes, generateMail(8, 11).bytes)
  })

  it('inserts a header line where mbsync puts X-TUID, with the message’s line end', () => {
    const lf = Buffer.from('From: a@b\nSubject: s\n\nbody\n')
    assert.equal(insertHeaderLine(lf, 'X-TUID: x').toString(), 'From: a@b\nSubject: s\nX-TUID: x\n\nbody\n')
    const crlf = Buffer.from('From: a@b\r\n\r\nbody\r\n')
    assert.equal(insertHeaderLine(crlf, 'X-TUID: x').toString(), 'From: a@b\r\nX-TUID: x\r\n\r\nbody\r\n')
    assert.equal(insertHeaderLine(Buffer.from('From: a@b'), 'X-TUID: x').toString(), 'From: a@b\nX-TUID: x\n')
    const m = insertHeaderLine(generateMail(3, 3).bytes, `X-TUID: ${tuidValue(3)}`)
    assert.equal(findNoise(m)?.length, 1)
    assert.match(tuidValue(1), /^[A-Za-z0-9+/]{12}$/)
  })
})
