// Why: `seb find` is only useful if the words a person remembers find the message and unrelated words do
// not: whole words in any case and script, addresses and domains as written, nothing partial.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addressesOf, compileWordQuery, matchesWords, searchWords } from '../../src/core/header-search.js'

describe('header search', () => {
  it('splits text into lower-case words of any script', () => {
    assert.deepEqual(searchWords('Re: October rent – from your Landlord!'), [
      're',
      'october',
      'rent',
      'from',
      'your',
      'landlord',
    ])
    assert.deepEqual(searchWords('ÉTÉ Straße Отчёт 2024'), ['été', 'straße', 'отчёт', '2024'])
    // Decomposed é (e + U+0301) is the same word as the composed one; Devanagari keeps its marks.
    assert.deepEqual(searchWords('cafe\u0301'), ['café'])
    assert.deepEqual(searchWords('नमस्ते दुनिया'), ['नमस्ते', 'दुनिया'])
    assert.deepEqual(searchWords('会議の日程 OK'), ['会', '議', 'の', '日', '程', 'ok'])
    assert.deepEqual(searchWords(''), [])
  })

  it('matches the brief’s examples', () => {
    assert.ok(matchesWords('Re: October rent – from your Landlord', 'landlord october'))
    const from = '"Jane Doe" <jane@example.org>'
    for (const q of [
      'jane',
      'doe',
      'jane@example.org',
      'example.org',
      'JANE',
      'Doe Jane',
      '<jane@example.org>',
    ])
      assert.ok(matchesWords(from, q), q)
  })

  it('does not match parts of words, other addresses, or missing words', () => {
    const from = '"Jane Doe" <jane@example.org>'
    for (const q of [
      'jan',
      'ja',
      'jane@example',
      'bob@example.org',
      'jane@example.org.evil',
      'example.com',
      'org.example',
    ])
      assert.ok(!matchesWords(from, q), q)
    assert.ok(!matchesWords('Re: October rent', 'oct'))
    assert.ok(!matchesWords('Re: October rent', 'october landlord'))
  })

  it('matches domains, parent domains and dotted words as runs of words', () => {
    const to = 'Sam <sam@mail.example.org>, "Ops" <ops@corp.example.com>'
    assert.ok(matchesWords(to, 'example.org'))
    assert.ok(matchesWords(to, 'mail.example.org'))
    assert.ok(matchesWords(to, 'corp.example.com'))
    assert.ok(matchesWords(to, 'ops@corp.example.com'))
    assert.ok(matchesWords(to, 'OPS@Corp.Example.COM'))
    assert.ok(!matchesWords(to, 'sam@example.org'))
    assert.ok(matchesWords('Release v2.1 is out', 'v2.1'))
    assert.ok(!matchesWords('Release v2 and 1 more', 'v2.1'))
  })

  it('matches Unicode case, composition and unspaced scripts', () => {
    assert.ok(matchesWords('Отчёт за октябрь', 'ОТЧЁТ'))
    // Accents are part of a word: "reunion" is another word than "réunion".
    assert.ok(!matchesWords('Réunion à Zürich', 'reunion'))
    assert.ok(matchesWords('Re\u0301union', 'Réunion'))
    assert.ok(matchesWords('会議の日程について', '会議'))
    assert.ok(matchesWords('会議の日程について', '日程 会議'))
    assert.ok(!matchesWords('会議の日程について', '議会'))
  })

  it('treats an empty query as matching everything, and compiles once for many headers', () => {
    assert.ok(matchesWords('anything', ''))
    assert.ok(matchesWords('anything', ' ,;- '))
    const q = compileWordQuery('rent october')
    assert.deepEqual(['October rent', 'rent due', 'Rent: October', ''].map(q), [true, false, true, false])
  })

  it('lists the addresses of a header', () => {
    assert.deepEqual(addressesOf('"Doe, Jane" <Jane@Example.org>, bob@x.net (Bob), <a.b+c@d.e>.'), [
      'jane@example.org',
      'bob@x.net',
      'a.b+c@d.e',
    ])
  })
})
