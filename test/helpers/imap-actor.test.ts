// Why: the IMAP actor writes sequence sets, dates and quoted names by hand; a wrong one makes the server
// act on other messages than the test meant, so they are pinned here.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { imapDate, quote, toCrlf, uidSet } from './imap-actor.js'

describe('IMAP actor helpers', () => {
  it('writes UID sets as ranges', () => {
    assert.equal(uidSet([1, 2, 3, 7]), '1:3,7')
    assert.equal(uidSet([9, 3, 2, 2, 10]), '2:3,9:10')
    assert.equal(uidSet([5]), '5')
  })

  it('writes dates, quoted names and CRLF as IMAP wants them', () => {
    assert.equal(imapDate(new Date(Date.UTC(2024, 5, 3, 4, 5, 6))), '"03-Jun-2024 04:05:06 +0000"')
    assert.equal(quote('Work/a "b" \\c'), '"Work/a \\"b\\" \\\\c"')
    assert.throws(() => quote('Entwürfe'))
    assert.deepEqual(toCrlf(Buffer.from('a\nb\r\nc\n')), Buffer.from('a\r\nb\r\nc\r\n'))
  })
})
