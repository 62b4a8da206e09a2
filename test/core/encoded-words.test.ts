// Why: header text arrives in many charsets and two encodings; each case here is one that real mail
// carries and a decoder has got wrong (RFC 2047 §8's examples, split characters, unknown charsets,
// Node's windows-1252).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeEncodedWords, decodeRawHeader, decodeWindows1252 } from '../../src/core/encoded-words.js'
import { encodedWords } from '../helpers/charset-encode.js'

describe('encoded words', () => {
  it('follows RFC 2047 §8 on whitespace between words', () => {
    const cases: [string, string][] = [
      ['(=?ISO-8859-1?Q?a?=)', '(a)'],
      ['(=?ISO-8859-1?Q?a?= b)', '(a b)'],
      ['(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)', '(ab)'],
      ['(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)', '(ab)'],
      ['(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)', '(ab)'],
      ['(=?ISO-8859-1?Q?a_b?=)', '(a b)'],
      ['(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)', '(a b)'],
      ['Re: =?utf-8?q?caf=C3=A9?= and more', 'Re: café and more'],
    ]
    for (const [input, want] of cases) assert.equal(decodeEncodedWords(input), want, input)
  })

  it('decodes B and Q in the charsets mail uses', () => {
    const cases: [string, string][] = [
      ['=?UTF-8?B?w6l0w6kg4oCTIOaXpeacrA==?=', 'été – 日本'],
      ['=?utf-8?Q?=C3=A9t=C3=A9_=E2=80=93?=', 'été –'],
      ['=?iso-8859-1?q?R=E9ponse_=E0_la_r=E9union?=', 'Réponse à la réunion'],
      ['=?ISO-8859-15?Q?Preis_=A4?=', 'Preis €'],
      ['=?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?=', '日本語'],
      ['=?koi8-r?B?8NLJ18XU?=', 'Привет'],
      ['=?windows-1251?B?z/Do4uXy?=', 'Привет'],
      ['=?windows-1252?Q?=93quoted=94_=96_dash_=80?=', '“quoted” – dash €'],
      ['=?iso-8859-2?Q?Za=BF=F3=B3=E6?=', 'Zażółć'],
      ['=?gb2312?B?1tDOxA==?=', '中文'],
      ['=?big5?B?pKSk5Q==?=', '中文'],
      ['=?shift_jis?B?k/qWe4zq?=', '日本語'],
      ['=?euc-jp?B?xvzL3Ljs?=', '日本語'],
      ['=?euc-kr?B?x9Gxub7u?=', '한국어'],
      ['=?US-ASCII*EN?Q?Keith_Moore?=', 'Keith Moore'],
      ['=?utf-8*fr?B?w6l0w6k=?=', 'été'],
    ]
    for (const [input, want] of cases) assert.equal(decodeEncodedWords(input), want, input)
  })

  it('joins a character split across adjacent words of one charset', () => {
    // "é" is C3 A9: one byte in each word, as some mailers cut them.
    assert.equal(decodeEncodedWords('=?utf-8?Q?caf=C3?= =?utf-8?Q?=A9?='), 'café')
    assert.equal(decodeEncodedWords('=?utf-8?B?w6nm?=\n =?utf-8?B?loc=?='), 'é文')
  })

  it('round-trips what the test encoder writes, in every charset and fold', () => {
    const texts: [string, string][] = [
      ['Café crème – “ok” €', 'windows-1252'],
      ['Отчёт за октябрь', 'koi8-r'],
      ['会議の日程について、よろしく', 'iso-2022-jp'],
      ['Zażółć gęślą jaźń 📨', 'utf-8'],
      ['Größe', 'iso-8859-15'],
    ]
    for (const [text, charset] of texts)
      for (const enc of ['B', 'Q'] as const)
        for (const per of [1, 3, 7, 40])
          for (const sep of [' ', '\r\n ', '\n\t'])
            assert.equal(decodeEncodedWords(encodedWords(text, charset, enc, per, sep)), text)
  })

  it('leaves what it cannot decode as written', () => {
    for (const s of [
      '=?x-unknown?Q?abc?=',
      '=?utf-7?B?K2dlLQ==?=',
      '=?utf-8?B?not*base64?=',
      '=?utf-8?X?abc?=',
      '=?utf-8?Q?has space?=',
      '=??Q?abc?=',
      'a =? b ?= c',
      'plain text',
    ])
      assert.equal(decodeEncodedWords(s), s)
    // An undecodable word between two good ones keeps its spaces.
    assert.equal(decodeEncodedWords('=?utf-8?Q?a?= =?x-none?Q?b?= =?utf-8?Q?c?='), 'a =?x-none?Q?b?= c')
  })

  it('reads raw 8-bit header bytes as UTF-8, else windows-1252', () => {
    assert.equal(decodeRawHeader(Buffer.from('Grüße – 日本', 'utf8')), 'Grüße – 日本')
    assert.equal(decodeRawHeader(Buffer.from([0x52, 0xe9, 0x73, 0x75, 0x6d, 0xe9])), 'Résumé')
    assert.equal(decodeRawHeader(Buffer.from([0x93, 0x61, 0x94, 0x20, 0x96, 0x20, 0x80])), '“a” – €')
    assert.equal(decodeRawHeader(Buffer.from('plain')), 'plain')
  })

  it('maps windows-1252 0x80–0x9F itself (Node 20 decodes them as C1 controls)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const s = decodeWindows1252(all)
    assert.equal(s.length, 256)
    assert.equal(s[0x80], '€')
    assert.equal(s[0x96], '–')
    assert.equal(s[0x9f], 'Ÿ')
    assert.equal(s[0x81], '\u0081')
    assert.equal(s[0xe9], 'é')
    // Where windows-1252 and windows-1250 share a character, ICU's windows-1250 agrees with the table.
    const w1250 = new TextDecoder('windows-1250').decode(all)
    for (const b of [
      0x80, 0x82, 0x84, 0x85, 0x86, 0x87, 0x89, 0x8b, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x99,
    ])
      assert.equal(s[b], w1250[b], `byte ${b.toString(16)}`)
  })
})
