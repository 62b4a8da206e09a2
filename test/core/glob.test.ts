// The one glob rule (.gitignore's) as a table: every pattern selects exactly the files the table says,
// a folder match takes what is below it, and a scan's test of a path alone (matchSelf, with folders
// pruned) agrees with the full test of the path and its folders.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import picomatch from 'picomatch'
import { compileGlobs, pathMatcher, suggestGlob } from '../../src/core/glob.js'
import { UsageError } from '../../src/errors.js'
import { GLOB_TABLE, GLOB_TREE, selectedFiles } from '../helpers/glob-table.js'
import { seededRandom } from '../helpers/random.js'

/** folders lists every folder above the table's files. */
function folders(): string[] {
  const out = new Set<string>()
  for (const p of GLOB_TREE)
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) out.add(p.slice(0, i))
  return [...out]
}

/** scanSelect does what a scan does: test each path, and skip everything below a folder that matched. */
function scanSelect(patterns: string[]): string[] {
  const g = compileGlobs(patterns)
  const pruned = folders()
    .sort()
    .filter((d) => g.matchSelf(d, true) >= 0)
  return GLOB_TREE.filter((p) => pruned.some((d) => p.startsWith(`${d}/`)) || g.matchSelf(p, false) >= 0)
    .slice()
    .sort()
}

describe('the glob rule', () => {
  for (const row of GLOB_TABLE) {
    it(`${row.pattern} selects ${row.selects.join(' ') || 'nothing'}`, () => {
      const match = pathMatcher([row.pattern])
      assert.deepEqual(GLOB_TREE.filter((p) => match(p, false)).sort(), selectedFiles(row))
      assert.deepEqual(scanSelect([row.pattern]), selectedFiles(row))
    })
  }

  it('several patterns select the union, and name the first that matched', () => {
    const g = compileGlobs(['*.cache', 'work', 'Archive'])
    assert.equal(g.match('work/Archive/2019/cur/d:2,S', false), 1)
    assert.equal(g.match('personal/dovecot.index.cache', false), 0)
    assert.equal(g.match('personal/INBOX/cur/e:2,S', false), -1)
  })

  it('matches what plain full-path globs match, on random Maildir-like paths', () => {
    // The reference: a pattern with a '/' as a full-path glob from the root, one without as '**/name'.
    const reference = (patterns: string[]) => {
      const ms = patterns.map((raw) => {
        const p = raw.replace(/^\/+/, '')
        return picomatch(raw.startsWith('/') || p.includes('/') ? p : `**/${p}`, { dot: true })
      })
      return (path: string) => ms.some((m) => m(path))
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
      'dovecot-uidlist.lock',
      '.mbsyncstate.lock',
      '.mbsyncstate',
      '1700000000.M1P2.host,S=1234:2,S',
      'a',
      'b',
      'c',
    ]
    const sets = [
      ['**/tmp/*', 'dovecot.index*', 'dovecot-uidlist.lock', '.mbsyncstate.lock'],
      ['Trash', 'cur/*.tmp', 'a/b/c', '*.lock', '/Junk/**', '**/cache/*', 'tmp', '/INBOX/cur/*', 'a/*/c'],
    ]
    const rand = seededRandom(5)
    for (const patterns of sets) {
      const g = compileGlobs(patterns)
      const want = reference(patterns)
      let hits = 0
      for (let i = 0; i < 20_000; i++) {
        const depth = 1 + rand(5)
        const path = Array.from({ length: depth }, () => NAMES[rand(NAMES.length)]!).join('/')
        assert.equal(g.matchSelf(path, false) >= 0, want(path), `${path} against ${patterns.join(' ')}`)
        if (want(path)) hits++
      }
      assert.ok(hits > 1000, `${hits} matches`)
    }
  })

  it('refuses patterns that cannot mean anything', () => {
    for (const bad of ['', '/', 'a//b', './x', 'a/../b'])
      assert.throws(() => compileGlobs([bad], 'exclude'), UsageError, JSON.stringify(bad))
  })

  it('suggests a pattern at any depth, or a bare name as a part of names', () => {
    assert.equal(suggestGlob('INBOX/cur/*'), '**/INBOX/cur/*')
    assert.equal(suggestGlob('1556491622.M893698P40985Q1'), '*1556491622.M893698P40985Q1*')
    assert.equal(suggestGlob('**/x/*'), null)
  })
})
