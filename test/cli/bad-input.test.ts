// Bad input gets one clear line naming the file or setting and what to do, a documented exit code,
// no stack trace, and nothing half-written. Each case runs the built CLI as a user would.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb, type SebRun } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

/** assertOneLine checks the error is a single `seb: …` line with no stack trace. */
function assertOneLine(r: SebRun, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, `exit code ${r.code}, stderr: ${r.stderr}`)
  // Progress notes may precede it on stderr; the error itself is exactly one `seb:` line.
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('seb'))
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`)
  assert.match(lines[0]!, /^seb: /)
  assert.match(lines[0]!, pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
}

describe('bad input', () => {
  const g = makeGnupgHome(['alice@example.invalid'])
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache') }
  const fpr = g.keys[0]!.fingerprint
  before(async () => {
    await makeMaildir(src, 8)
    const r = await runSeb(['init', dest, '--recipient', fpr], env)
    assert.equal(r.code, 0, r.stderr)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('init without a key or passphrase: usage error (2)', async () => {
    assertOneLine(await runSeb(['init', path.join(work.dir, 'x')], env), 2, /needs --recipient KEY/)
  })

  it('init with an unknown recipient: key error (12), nothing written', async () => {
    const d = path.join(work.dir, 'unknown')
    assertOneLine(
      await runSeb(['init', d, '--recipient', 'nobody@example.invalid'], env),
      12,
      /recipient nobody@example.invalid: no public key found/,
    )
    await assert.rejects(fs.stat(path.join(d, 'config')))
  })

  it('init with an expired recipient: key error (12)', async () => {
    execFileSync(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--faked-system-time',
        '20200101T000000',
        '--quick-gen-key',
        'Old <old@example.invalid>',
        'future-default',
        'default',
        '1d',
      ],
      { env: { ...process.env, GNUPGHOME: g.home }, stdio: 'ignore' },
    )
    assertOneLine(
      await runSeb(['init', path.join(work.dir, 'expired'), '--recipient', 'old@example.invalid'], env),
      12,
      /has expired/,
    )
  })

  it('init twice: refused, config untouched', async () => {
    const before = await fs.readFile(path.join(dest, 'config'))
    assertOneLine(await runSeb(['init', dest, '--recipient', fpr], env), 1, /already a seb repository/)
    assert.deepEqual(await fs.readFile(path.join(dest, 'config')), before)
  })

  it('source missing: usage error (2) naming it', async () => {
    assertOneLine(
      await runSeb(['backup', path.join(work.dir, 'nope'), dest], env),
      2,
      /nope: source folder does not exist/,
    )
  })

  it('source is a file: usage error (2)', async () => {
    const f = path.join(work.dir, 'afile')
    await fs.writeFile(f, 'x')
    assertOneLine(await runSeb(['backup', f, dest], env), 2, /afile: source is not a folder/)
  })

  it('destination without a repository: exit 10 saying to run seb init', async () => {
    const empty = path.join(work.dir, 'empty')
    await fs.mkdir(empty)
    assertOneLine(await runSeb(['backup', src, empty], env), 10, /no seb repository here \(run 'seb init/)
    assert.deepEqual(await fs.readdir(empty), [])
  })

  it('destination that cannot be written: one line naming it', async () => {
    const r = await runSeb(['init', '/etc/hostname/repo', '--recipient', fpr], env)
    assertOneLine(
      r,
      1,
      /\/etc\/hostname\/repo: cannot (read|write) config: a part of the path is not a folder/,
    )
  })

  it('unknown option: usage error (2)', async () => {
    assertOneLine(
      await runSeb(['backup', src, dest, '--frobnicate'], env),
      2,
      /unknown option '--frobnicate'/,
    )
  })

  it('gpg not installed: one line saying to install GnuPG, nothing written', async () => {
    const bin = path.join(work.dir, 'bin-nogpg')
    await fs.mkdir(bin)
    await fs.symlink(execFileSync('which', ['zstd']).toString().trim(), path.join(bin, 'zstd'))
    const d = path.join(work.dir, 'nogpg')
    assertOneLine(
      await runSeb(['init', d, '--recipient', fpr], { ...env, PATH: bin }),
      1,
      /gpg: command not found; install GnuPG/,
    )
    await assert.rejects(fs.stat(path.join(d, 'config')))
    const before = await fs.readdir(path.join(dest, 'commits')).catch(() => [])
    assertOneLine(await runSeb(['backup', src, dest], { ...env, PATH: bin }), 1, /gpg: command not found/)
    assert.deepEqual(await fs.readdir(path.join(dest, 'commits')).catch(() => []), before)
  })

  it('gpg failing: its reason in one line, nothing committed', async () => {
    const bin = path.join(work.dir, 'bin-badgpg')
    await fs.mkdir(bin)
    await fs.symlink(execFileSync('which', ['zstd']).toString().trim(), path.join(bin, 'zstd'))
    await fs.writeFile(
      path.join(bin, 'gpg'),
      '#!/bin/sh\ncat >/dev/null\necho "gpg: fatal: out of core handler" >&2\nexit 2\n',
      { mode: 0o755 },
    )
    const before = await fs.readdir(path.join(dest, 'commits')).catch(() => [])
    assertOneLine(
      await runSeb(['backup', src, dest], { ...env, PATH: `${bin}:/usr/bin:/bin` }),
      1,
      /gpg (verify|encrypt) failed \(exit 2\): gpg: fatal: out of core handler/,
    )
    assert.deepEqual(await fs.readdir(path.join(dest, 'commits')).catch(() => []), before)
  })

  it('wrong passphrase: key error (12)', async () => {
    const d = path.join(work.dir, 'pass')
    const pf = path.join(work.dir, 'pass.txt')
    await fs.writeFile(pf, 'correct horse\n')
    assert.equal((await runSeb(['init', d, '--passphrase-file', pf], env)).code, 0)
    assert.equal((await runSeb(['backup', src, d, '--passphrase-file', pf], env)).code, 0)
    const bad = path.join(work.dir, 'bad.txt')
    await fs.writeFile(bad, 'battery staple\n')
    const r = await runSeb(['restore', d, path.join(work.dir, 'r-pass'), '--passphrase-file', bad], {
      ...env,
      SEB_CACHE_DIR: path.join(work.dir, 'cache2'),
    })
    assertOneLine(r, 12, /wrong passphrase/)
  })

  it('restore with a TMPDIR where its named pipes cannot be made: one line naming it, nothing written', async () => {
    const d = path.join(work.dir, 'tmpdir-repo')
    assert.equal((await runSeb(['init', d, '--recipient', fpr], env)).code, 0)
    assert.equal((await runSeb(['backup', src, d], env)).code, 0)
    const target = path.join(work.dir, 'r-tmpdir')
    const missing = path.join(work.dir, 'no-such-tmp')
    assertOneLine(
      await runSeb(['restore', d, target], { ...env, TMPDIR: missing }),
      1,
      new RegExp(`${missing}: cannot make restore's temporary folder there \\(ENOENT\\); set TMPDIR`),
    )
    await assert.rejects(fs.stat(target), { code: 'ENOENT' })
  })

  it('missing passphrase file: usage error naming it', async () => {
    assertOneLine(
      await runSeb(
        ['init', path.join(work.dir, 'pp'), '--passphrase-file', path.join(work.dir, 'no-such-file')],
        env,
      ),
      2,
      /no-such-file: cannot read the passphrase file \(no such file\)/,
    )
  })

  it('a passphrase is never in argv: the option takes a file, and a value that is not a file is refused', async () => {
    const r = await runSeb(['init', path.join(work.dir, 'pp2'), '--passphrase-file', 'hunter2'], env)
    assert.equal(r.code, 2)
    assert.doesNotMatch(r.stdout, /hunter2.*created/)
  })
})
