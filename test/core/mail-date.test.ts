// Why: --since/--until compare the Date header of every message; dates as old mailers wrote them must
// parse to the right instant, junk must give null (never a throw, never a wrong date), and the command
// line's values must mean what a person typing them means (a bare day: local midnight).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseDateQuery, parseMailDate } from '../../src/core/mail-date.js'

const utc = (s: string) => Date.parse(s)

describe('mail dates', () => {
  it('parses RFC 5322 dates and their obsolete and real-world forms', () => {
    const cases: [string, string][] = [
      ['Mon, 3 Jun 2024 10:00:00 +0000', '2024-06-03T10:00:00Z'],
      ['Mon, 03 Jun 2024 12:00:00 +0200', '2024-06-03T10:00:00Z'],
      ['3 Jun 2024 10:00:00 -0000', '2024-06-03T10:00:00Z'],
      ['Mon, 3 Jun 2024 10:00 +0000', '2024-06-03T10:00:00Z'],
      ['Mon,  3  Jun   2024  10:00:00   +0000 ', '2024-06-03T10:00:00Z'],
      ['Mon, 3 Jun 2024 12:00:00 +0200 (CEST)', '2024-06-03T10:00:00Z'],
      ['Mon, 3 Jun 2024 (a (nested) comment) 10:00:00 +0000', '2024-06-03T10:00:00Z'],
      ['Wed, 2 Oct 02 08:00:00 EST', '2002-10-02T13:00:00Z'],
      ['Fri, 21 Nov 97 09:55:06 GMT', '1997-11-21T09:55:06Z'],
      ['Sat, 1 Jan 49 00:00:00 UT', '2049-01-01T00:00:00Z'],
      ['Sat, 1 Jan 50 00:00:00 UT', '1950-01-01T00:00:00Z'],
      ['Thu, 1 Jan 104 00:00:00 GMT', '2004-01-01T00:00:00Z'],
      ['Tue, 1 Jul 2003 10:52:37 PDT', '2003-07-01T17:52:37Z'],
      ['Tue, 1 Jul 2003 10:52:37 CDT', '2003-07-01T15:52:37Z'],
      ['Tue, 1 Jul 2003 10:52:37 MST', '2003-07-01T17:52:37Z'],
      ['Tue, 1 Jul 2003 10:52:37 Z', '2003-07-01T10:52:37Z'],
      ['Tue, 1 Jul 2003 10:52:37 A', '2003-07-01T10:52:37Z'],
      ['Tue, 1 Jul 2003 10:52:37', '2003-07-01T10:52:37Z'],
      ['Tue, 1 Jul 2003 10:52:37 +0530', '2003-07-01T05:22:37Z'],
      ['Tue, 1 Jul 2003 10:52:37 GMT+0200', '2003-07-01T08:52:37Z'],
      ['Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)', '1969-02-14T03:02:00Z'],
      ['Tuesday, 1 July 2003 10:52:37 +0000', '2003-07-01T10:52:37Z'],
      ['01-Jul-2003 10:52:37 +0000', '2003-07-01T10:52:37Z'],
      ['Tue Jul  1 10:52:37 2003', '2003-07-01T10:52:37Z'],
      ['2003-07-01 10:52:37', '2003-07-01T10:52:37Z'],
      ['2003-07-01T10:52:37+02:00', '2003-07-01T08:52:37Z'],
      ['Mon, 3 Jun 2024', '2024-06-03T00:00:00Z'],
      ['Thu, 29 Feb 2024 23:59:60 +0000', '2024-02-29T23:59:59Z'],
      ['mon, 3 JUN 2024 10:00:00 +0000', '2024-06-03T10:00:00Z'],
    ]
    for (const [text, want] of cases) assert.equal(parseMailDate(text), utc(want), text)
  })

  it('says null, never throws, for what it cannot read', () => {
    for (const text of [
      '',
      'sometime last week',
      'Mon, 31 Feb 2024 10:00:00 +0000',
      'Tue, 29 Feb 2023 10:00:00 +0000',
      'Mon, 3 Foo 2024 10:00:00 +0000',
      'Mon, 3 Jun 2024 25:00:00 +0000',
      'Mon, 3 Jun 2024 10:61:00 +0000',
      'Mon, 3 Jun 2024 10:00:00 +0000 extra 17',
      'Mon, 3 Jun',
      '3 2024 10:00',
      '10:00:00',
      `${'('.repeat(10_000)}`,
      'x'.repeat(10_000),
      'Mon, 3 Jun 99999 10:00:00',
      '\u0000\uffff',
    ])
      assert.equal(parseMailDate(text), null, JSON.stringify(text.slice(0, 40)))
  })

  it('reads --since/--until values: a bare day is local midnight', () => {
    assert.equal(parseDateQuery('2024-06-03'), new Date(2024, 5, 3).getTime())
    assert.equal(parseDateQuery(' 2024-06-03 '), new Date(2024, 5, 3).getTime())
    assert.equal(parseDateQuery('2024-06-03T10:20'), new Date(2024, 5, 3, 10, 20).getTime())
    assert.equal(parseDateQuery('2024-06-03 10:20:30'), new Date(2024, 5, 3, 10, 20, 30).getTime())
    assert.equal(parseDateQuery('2024-06-03T10:20:30Z'), utc('2024-06-03T10:20:30Z'))
    assert.equal(parseDateQuery('2024-06-03T10:20+02:00'), utc('2024-06-03T08:20:00Z'))
    assert.equal(parseDateQuery('2024-06-03T10:20-0130'), utc('2024-06-03T11:50:00Z'))
    assert.equal(parseDateQuery('2024-02-29'), new Date(2024, 1, 29).getTime())
    for (const bad of [
      '',
      '2024-6-3',
      '2024-02-30',
      '2023-02-29',
      '2024-13-01',
      '2024-00-10',
      '2024-06-00',
      '2024-06-03T24:00',
      '2024-06-03T10:60',
      '2024-06-03T10',
      '2024-06-03Z',
      'yesterday',
      '03/06/2024',
      '2024-06-03T10:20+25',
    ])
      assert.equal(parseDateQuery(bad), null, bad)
  })

  // The usual form is read by a shortcut; a comment after it sends the same text down the general
  // reader, which must agree on every value, valid or not (days past a month's end, 60 seconds, zones).
  it('reads the usual form by its shortcut exactly as the general reader does', () => {
    const days = ['Mon, ', 'sun,', 'Mar, ', '']
    const months = ['Jan', 'feb', 'JUN', 'Dec', 'Foo']
    let checked = 0
    for (const day of days)
      for (const date of ['1', '09', '29', '31', '0', '32'])
        for (const month of months)
          for (const year of ['1999', '2024', '2000'])
            for (const time of ['00:00:00', '23:59:60', '10:07', '24:00:00', '12:60:00'])
              for (const zone of ['+0000', '-0930', '+1400', '+2399']) {
                const text = `${day}${date} ${month} ${year} ${time} ${zone}`
                assert.equal(parseMailDate(text), parseMailDate(`${text} (c)`), text)
                checked++
              }
    assert.equal(checked, 4 * 6 * 5 * 3 * 5 * 4)
    assert.equal(parseMailDate('Thu, 29 Feb 2024 23:59:60 +0100'), Date.parse('2024-02-29T22:59:59Z'))
    assert.equal(parseMailDate('Thu, 29 Feb 2023 10:00:00 +0000'), null)
  })
})
