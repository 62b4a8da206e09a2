// The excluder against picomatch itself as the oracle: a relative pattern matches at any depth (as
// `**/pattern` would), an anchored one from the root, on Maildir-like paths made at random.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import picomatch from 'picomatch'
import { DEFAULT_EXCLUDES, makeExcluder } from '../../src/core/excludes.js'
import { seededRandom } from '../helpers/random.js'

/** reference is the plain rule: every pattern as one full-path matcher. */
function reference(patterns: readonly string[]): (path: string) => boolean {
  const ms = patterns.map((p) =>
    p.startsWith('/') ? picomatch(p.slice(1), { dot: true }) : picomatch(`**/${p}`, { dot: true }),
  )
  return (path) => ms.some((m) => m(path))
}

const NAMES = [
  'tmp',
  'cur',
  'new',
  'INBOX',
  '.Sent',
  'Junk',
  'cache',
  'dovecot.index',
  'dovecot.index.log',
  'dovecot.list.index',
  'dovecot-uidlist.lock',
  '.mbsyncstate.lock',
  '.mbsyncstate',
  '.offlineimap.lock',
  '1700000000.M1P2.host,S=1234:2,S',
  'x.tmp',
  'a',
  'b',
  'c',
]

describe('makeExcluder', () => {
  it('matches exactly what the plain full-path globs match', () => {
    const sets: string[][] = [
      [...DEFAULT_EXCLUDES],
      ['Trash', 'cur/*.tmp', 'a/b/c', '*.lock', '/Junk/**', '**/cache/*', 'tmp', '/INBOX/cur/*', 'a/*/c'],
    ]
    const rand = seededRandom(5)
    for (const patterns of sets) {
      const fast = makeExcluder(patterns)
      const slow = reference(patterns)
      let hits = 0
      for (let i = 0; i < 20_000; i++) {
        const depth = 1 + rand(5)
        const path = Array.from({ length: depth }, () => NAMES[rand(NAMES.length)]!).join('/')
        const want = slow(path)
        assert.equal(fast(path), want, `${path} against ${patterns.join(' ')}`)
        if (want) hits++
      }
      assert.ok(hits > 1000, `${hits} matches`)
    }
  })

  it('excludes nothing without patterns', () => {
    assert.equal(makeExcluder([])('tmp/x'), false)
  })
})
