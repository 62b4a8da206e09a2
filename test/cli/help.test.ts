// Help is documentation people read first: `seb --help` lists every exit code, and every command's
// --help (subcommands included) shows an example.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ExitCode } from '../../src/exit-codes.js'
import { runSeb } from '../helpers/cli.js'

const COMMANDS = [
  ['init'],
  ['backup'],
  ['restore'],
  ['snapshots'],
  ['ls'],
  ['find'],
  ['stats'],
  ['verify'],
  ['compact'],
  ['unlock'],
  ['key'],
  ['key', 'list'],
  ['key', 'add'],
  ['key', 'remove'],
  ['key', 'rotate'],
  ['config'],
  ['config', 'check'],
]

describe('help', () => {
  it('seb --help lists every exit code with its meaning, and exits 0', async () => {
    const r = await runSeb(['--help'])
    assert.equal(r.code, 0)
    for (const code of Object.values(ExitCode))
      assert.match(r.stdout, new RegExp(`^\\s+${code}\\s+\\S`, 'm'), `exit code ${code} missing`)
    for (const [c] of COMMANDS)
      assert.match(r.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `command ${c} missing`)
  })

  for (const c of COMMANDS) {
    it(`seb ${c.join(' ')} --help shows an example`, async () => {
      const r = await runSeb([...c, '--help'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /Example/)
      assert.match(r.stdout, new RegExp(`^\\s+seb ${c.join(' ')}`, 'm'))
    })
  }

  it('an unknown command or option is a usage error (2)', async () => {
    assert.equal((await runSeb(['frobnicate'])).code, 2)
    assert.equal((await runSeb(['ls', '--frobnicate', 'x'])).code, 2)
  })
})
