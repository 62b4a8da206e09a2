// Why: the index's search headers are read once per new message and kept for years; they must come out
// as a mail reader shows them for messages shaped like real mail (charsets, folds, CRLF, 8-bit bytes,
// missing and repeated fields, odd dates) and stay bounded for hostile ones.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  MAX_HEADER_CHARS,
  matchesWords,
  normalizeMessageId,
  parseDateQuery,
  readSearchHeaders,
  searchWords,
} from '../../src/core/mail-headers.js'
import { encodeCharset } from '../helpers/charset-encode.js'
import { generateMails } from '../helpers/mail-messages.js'

const mail = (...lines: (string | Buffer)[]) =>
  Buffer.concat(lines.map((l) => (typeof l === 'string' ? Buffer.from(l, 'utf8') : l)))

describe('search headers', () => {
  it('reads a typical message', () => {
    const m = mail(
      'Return-Path: <jane@example.org>\n',
      'Received: from mx.example.org\n\tby imap.example.net; Mon, 3 Jun 2024 10:00:00 +0000\n',
      'From: "Jane Doe" <jane@example.org>\n',
      'To: Sam Owner <sam@example.net>\n',
      'Cc: Bob <bob@example.com>\n',
      'Subject: Re: October rent – from your Landlord\n',
      'Date: Mon, 3 Jun 2024 12:00:00 +0200 (CEST)\n',
      'Message-ID: <20240603.abc123@example.org>\n',
      'MIME-Version: 1.0\n',
      '\n',
      'Subject: not this one\nMessage-ID: <nor@this>\n',
    )
    assert.deepEqual(readSearchHeaders(m), {
      subject: 'Re: October rent – from your Landlord',
      from: '"Jane Doe" <jane@example.org>',
      to: 'Sam Owner <sam@example.net>',
      date: Date.parse('2024-06-03T10:00:00Z'),
      messageId: '20240603.abc123@example.org',
    })
  })

  it('decodes encoded words in several charsets, folded, with CRLF', () => {
    const cases: [string | Buffer, string][] = [
      ['=?UTF-8?B?w6l0w6kgMjAyNA==?=', 'été 2024'],
      ['=?utf-8?Q?R=C3=A9union_d=E2=80=99=C3=A9quipe?=', 'Réunion d’équipe'],
      ['=?ISO-8859-1?Q?R=E9ponse_=E0_votre_demande?=', 'Réponse à votre demande'],
      ['=?ISO-2022-JP?B?GyRCMnE1RCRORnxEeCRLJEQkJCRGGyhC?=', '会議の日程について'],
      ['=?KOI8-R?B?79Teo9Qg2sEg78vU0cLS2A==?=', 'Отчёт за Октябрь'],
      ['=?windows-1252?Q?=93Angebot=94_=96_20_=80?=', '“Angebot” – 20 €'],
      ['Re: =?utf-8?B?5pel5pys?=\r\n =?utf-8?B?6Kqe?= (fwd)', 'Re: 日本語 (fwd)'],
      [
        '[list] =?iso-8859-15?q?Gr=F6=DFe?=\r\n\t=?iso-8859-15?q?_und_Preise_=A4?=',
        '[list] Größe und Preise €',
      ],
      [
        'A long subject that a mailer\r\n folded over\r\n\tthree lines',
        'A long subject that a mailer folded over three lines',
      ],
    ]
    for (const [subject, want] of cases) {
      const m = mail('From: a@example.org\r\n', 'Subject: ', subject, '\r\n', 'Date: x\r\n\r\nbody\r\n')
      assert.equal(readSearchHeaders(m)?.subject, want, String(subject))
    }
  })

  it('reads raw 8-bit subjects as UTF-8, else windows-1252', () => {
    const utf8 = mail('From: a@b\nSubject: Grüße aus Köln – 日本\n\n')
    assert.equal(readSearchHeaders(utf8)?.subject, 'Grüße aus Köln – 日本')
    const latin1 = mail('From: a@b\nSubject: ', encodeCharset('Résumé für Zoë', 'iso-8859-1'), '\n\n')
    assert.equal(readSearchHeaders(latin1)?.subject, 'Résumé für Zoë')
    const cp1252 = mail('From: a@b\nSubject: ', encodeCharset('“Offre” – 5 €', 'windows-1252'), '\n\n')
    assert.equal(readSearchHeaders(cp1252)?.subject, '“Offre” – 5 €')
    const from = mail(
      'From: ',
      encodeCharset('José Müller', 'iso-8859-1'),
      ' <jose@example.es>\nSubject: x\n\n',
    )
    assert.equal(readSearchHeaders(from)?.from, 'José Müller <jose@example.es>')
  })

  it('handles missing, repeated and odd fields', () => {
    const h = readSearchHeaders(mail('From: a@b\nX-Other: 1\n\nbody\n'))!
    assert.deepEqual(h, { subject: '', from: 'a@b', to: '', date: null, messageId: '' })
    const dup = readSearchHeaders(
      mail('Message-ID:  <first@x> (comment)\nSubject: one\nSubject: two\nMessage-Id: <second@x>\n\n'),
    )!
    assert.equal(dup.messageId, 'first@x')
    assert.equal(dup.subject, 'one')
    const tos = readSearchHeaders(mail('To: a@x\nCc: c@x\nto: "B, Bee" <b@x>,\n d@x\nTO:e@x\n\n'))!
    assert.equal(tos.to, 'a@x, "B, Bee" <b@x>, d@x, e@x')
    // Field names in any case, spaces before the colon, empty values.
    const odd = readSearchHeaders(mail('SUBJECT : shouting\nfrom:\nDATE: Mon, 3 Jun 24 10:00 EST\n\n'))!
    assert.equal(odd.subject, 'shouting')
    assert.equal(odd.from, '')
    assert.equal(odd.date, Date.parse('2024-06-03T15:00:00Z'))
    assert.equal(readSearchHeaders(mail('Subject: a\nDate: next Tuesday\n\n'))!.date, null)
  })

  it('normalises Message-IDs and queries the same way', () => {
    for (const s of [
      '<a.b@c>',
      ' <a.b@c> ',
      'a.b@c',
      '<a.b@c> (by postmaster)',
      '<a.b\n @c>',
      'junk <a.b@c> <d@e>',
    ])
      assert.equal(normalizeMessageId(s), 'a.b@c', JSON.stringify(s))
    assert.equal(normalizeMessageId('<>'), '')
    assert.equal(normalizeMessageId(''), '')
    assert.equal(normalizeMessageId('<CaseKept@X>'), 'CaseKept@X')
  })

  it('says null for files that are not mail, and reads messages without a body', () => {
    for (const junk of ['', '\nSubject: x\n', 'From a@b Mon Jun 3 2024\nSubject: x\n', '\u0000\u0001binary'])
      assert.equal(readSearchHeaders(Buffer.from(junk)), null, JSON.stringify(junk))
    assert.equal(
      readSearchHeaders(Buffer.from('Subject: no blank line, no newline'))?.subject,
      'no blank line, no newline',
    )
  })

  it('stays bounded for hostile messages', () => {
    const huge = mail('Subject: ', 'word '.repeat(100_000), '\nFrom: a@b\n\n')
    const h = readSearchHeaders(huge)!
    assert.ok(h.subject.length <= MAX_HEADER_CHARS)
    const emoji = mail(`Subject: a${'📨'.repeat(2000)}\n\n`)
    const s = readSearchHeaders(emoji)!.subject
    assert.ok(s.length <= MAX_HEADER_CHARS)
    assert.ok(!/[\ud800-\udbff]$/.test(s), 'no lone high surrogate at the cut')
    const late = mail('From: a@b\n', `X-Pad: ${'x'.repeat(70_000)}\n`, 'Subject: too late\n\n')
    assert.equal(readSearchHeaders(late)!.subject, '')
    const controls = readSearchHeaders(mail('Subject: =?utf-8?Q?a=00b=0D=0Ac=1B[31m?=\n\n'))!
    assert.equal(controls.subject, 'a b c [31m')
    const manyTo = mail(...Array.from({ length: 3000 }, (_, i) => `To: user${i}@example.org\n`), '\n')
    assert.ok(readSearchHeaders(manyTo)!.to.length <= MAX_HEADER_CHARS)
  })

  it('reads every generated message as it was written', () => {
    let encoded = 0
    for (const m of generateMails(4242, 2000)) {
      assert.deepEqual(readSearchHeaders(m.bytes), m.expected)
      if (m.bytes.subarray(0, 4000).includes('=?')) encoded++
    }
    assert.ok(encoded > 300, `encoded words in ${encoded} messages`)
  })

  it('exposes the search helpers from one module', () => {
    assert.deepEqual(searchWords('A b'), ['a', 'b'])
    assert.ok(matchesWords('x y', 'y'))
    assert.equal(parseDateQuery('nope'), null)
  })
})
