// A mistyped command is not the short form of backup: `seb stat backup` used to back up a folder
// named "stat" (and advise `seb init backup`). And `seb --version`, `-V` and `seb version` answer.
import assert from 'node:assert/strict'
import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { closestName, editDistance, mistypedCommand, oneLine } from '../../src/cli/typo.js'
import { runSeb, SEB_BIN } from '../helpers/cli.js'
import { tempDir } from '../helpers/tree.js'
import { assertOneLine } from './one-line.js'

const NAMES = [
  'init',
  'backup',
  'restore',
  'snapshots',
  'ls',
  'find',
  'stats',
  'verify',
  'compact',
  'unlock',
  'key',
  'config',
  'version',
  'help',
]

describe('mistyped commands', () => {
  const work = tempDir()
  const env = { SEB_CACHE_DIR: path.join(work.dir, 'cache'), XDG_CONFIG_HOME: path.join(work.dir, 'xdg') }
  const cwd = path.join(work.dir, 'cwd')
  after(() => work.cleanup())

  it('edit distance counts insertions, deletions, substitutions and neighbour swaps', () => {
    assert.equal(editDistance('stat', 'stats'), 1)
    assert.equal(editDistance('restor', 'restore'), 1)
    assert.equal(editDistance('verfiy', 'verify'), 1)
    assert.equal(editDistance('bakcup', 'backup'), 1)
    assert.equal(editDistance('', 'ls'), 2)
    assert.equal(editDistance('mail', 'init'), 3)
  })

  it('a word is a typo of the nearest name within one edit per three letters', () => {
    assert.equal(closestName('stat', NAMES), 'stats')
    assert.equal(closestName('Restore', NAMES), 'restore')
    assert.equal(closestName('snapshot', NAMES), 'snapshots')
    assert.equal(closestName('verfiy', NAMES), 'verify')
    assert.equal(closestName('Mail', NAMES), null)
    assert.equal(closestName('sl', NAMES), null) // two letters: too short to guess
    assert.equal(closestName('mail-backup', NAMES), null)
  })

  it('the first word is a path, not a command, when it exists or looks like one', async () => {
    await fs.mkdir(path.join(cwd, 'stat'), { recursive: true })
    assert.equal(mistypedCommand(['stat', 'backup'], NAMES, cwd), null)
    assert.equal(mistypedCommand(['./stats', 'x'], NAMES, cwd), null)
    assert.equal(mistypedCommand(['~/stat', 'x'], NAMES, cwd), null)
    assert.equal(mistypedCommand(['--json', 'x'], NAMES, cwd), null)
    assert.match(mistypedCommand(['restor', 'b', 'r'], NAMES, cwd)!.message, /did you mean 'restore'/)
    await fs.rm(path.join(cwd, 'stat'), { recursive: true })
  })

  it("commander's two-line suggestions become one line", () => {
    assert.equal(
      oneLine("error: unknown option '--exclud'\n(Did you mean --exclude?)"),
      "error: unknown option '--exclud' (did you mean --exclude?)",
    )
  })

  for (const [argv, line] of [
    [['stat', 'backup'], "seb: unknown command 'stat' (did you mean 'stats'?)"],
    [['restor', 'backup', 'r'], "seb: unknown command 'restor' (did you mean 'restore'?)"],
    [['snapshot', '/mnt/backup/mail'], "seb: unknown command 'snapshot' (did you mean 'snapshots'?)"],
    [['stat'], "seb: unknown command 'stat' (did you mean 'stats'?)"],
    [['key', 'ad', 'repo', 'bob'], "seb: unknown command 'ad' (did you mean 'add'?)"],
    [['frobnicate'], "seb: unknown command 'frobnicate' (see seb --help)"],
    [
      ['backup', 'a', 'b', '--exclud', 'x'],
      "seb: unknown option '--exclud' (did you mean --exclude?) (see seb --help)",
    ],
    [['version', 'x'], "seb: too many arguments for 'version' (see seb version --help)"],
  ] as const) {
    it(`seb ${argv.join(' ')}: usage error (2), one line, nothing written`, async () => {
      await fs.mkdir(cwd, { recursive: true })
      const r = await runSeb([...argv], env, { cwd })
      assert.equal(assertOneLine(r, 2, /./), line)
      assert.equal(r.stdout, '')
      assert.deepEqual(await fs.readdir(cwd), [])
      await assert.rejects(fs.stat(env.SEB_CACHE_DIR), { code: 'ENOENT' })
    })
  }

  it('a word that names an existing folder is backed up by the short form, not taken for a command', async () => {
    await fs.mkdir(path.join(cwd, 'stat'), { recursive: true })
    const r = await runSeb(['stat', 'repo'], env, { cwd })
    // The short form went on to backup: no repository and no key yet.
    assertOneLine(r, 2, /^seb: repo: no repository yet; on first use give --recipient KEY/)
    await fs.rm(path.join(cwd, 'stat'), { recursive: true })
  })

  it('seb --version, -V and seb version print the version of package.json', async () => {
    const pkg = JSON.parse(readFileSync(path.resolve(path.dirname(SEB_BIN), '../../../package.json'), 'utf8'))
    for (const argv of [['--version'], ['-V'], ['version']]) {
      const r = await runSeb(argv, env)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `seb ${pkg.version}\n`)
      assert.equal(r.stderr, '')
    }
  })
})
