// A gpg failure of several lines keeps the line that names the cause (issue 15: only the last one was
// kept, often "gpg: quitting" or a keybox note). A fake gpg on PATH prints the cause between notes.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { assertOneLine } from './one-line.js'

describe('a gpg failure of several lines', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  const bin = path.join(work.dir, 'bin')
  before(async () => {
    await makeMaildir(src, 8)
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
    await fs.mkdir(bin)
    await fs.symlink(execFileSync('which', ['zstd']).toString().trim(), path.join(bin, 'zstd'))
    await fs.writeFile(
      path.join(bin, 'gpg'),
      [
        '#!/bin/sh',
        'cat >/dev/null',
        `echo "gpg: keybox '/home/u/.gnupg/pubring.kbx' created" >&2`,
        'echo "gpg: build_packet failed: Invalid crypto engine" >&2',
        'echo "gpg: [stdin]: encryption aborted" >&2',
        'echo "gpg: signal Terminated caught ... exiting" >&2',
        'echo "gpg: quitting" >&2',
        'exit 2',
        '',
      ].join('\n'),
      { mode: 0o755 },
    )
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('the CLI shows the first line naming the cause, not the last; nothing committed', async () => {
    const before = await fs.readdir(path.join(dest, 'commits')).catch(() => [])
    const line = assertOneLine(
      await runSeb(['backup', src, dest], { ...env, PATH: `${bin}:/usr/bin:/bin` }),
      1,
      /^seb: gpg encrypt failed \(exit 2\): gpg: build_packet failed: Invalid crypto engine$/,
    )
    assert.doesNotMatch(line, /quitting|keybox/)
    assert.deepEqual(await fs.readdir(path.join(dest, 'commits')).catch(() => []), before)
  })
})
