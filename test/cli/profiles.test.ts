// The config file as a user meets it: `seb config check` says OK with the profiles, or names the
// line of each mistake; `seb backup --profile` and `--all` back up several mail accounts to their own
// repositories (creating them on first use) with one summary per profile and the worst exit code;
// command-line options and SEB_* variables override the file.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

describe('config file and profiles', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const xdg = path.join(work.dir, 'xdg')
  const file = path.join(xdg, 'seb', 'config.yaml')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache'), XDG_CONFIG_HOME: xdg }
  const mail = (n: string) => path.join(work.dir, 'mail', n)
  const repo = (n: string) => path.join(work.dir, 'repos', n)
  const config = (extra = '') => `defaults:
  recipients: [${g.keys[0]!.fingerprint}]
  exclude: ["Archive.2019/**"]

profiles:
  personal:
    source: ${mail('personal')}
    destination: ${repo('personal')}
  work:
    source: ${mail('work')}
    destination: ${repo('work')}
    retention-days: 7
  lists:
    source: ${mail('lists')}
    destination: ${repo('lists')}
    default-excludes: false
${extra}`
  before(async () => {
    for (const n of ['personal', 'work', 'lists']) await makeMaildir(mail(n), 12)
    await fs.mkdir(path.dirname(file), { recursive: true })
    await fs.mkdir(path.join(work.dir, 'repos'))
    await fs.writeFile(file, config())
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('config check: OK with the profiles (exit 0)', async () => {
    const r = await runSeb(['config', 'check'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stdout,
      `${file}: OK, 3 profiles\n  personal: ${mail('personal')} -> ${repo('personal')}\n  work: ${mail('work')} -> ${repo('work')}\n  lists: ${mail('lists')} -> ${repo('lists')}\n`,
    )
  })

  it('config check: a broken file gets every problem with its line (exit 2); backup names the first', async () => {
    const bad = path.join(work.dir, 'bad.yaml')
    await fs.writeFile(
      bad,
      `profiles:\n  work:\n    source: ${mail('work')}\n    destinaton: /tmp/x\n    retention-days: thirty\n`,
    )
    const r = await runSeb(['--config', bad, 'config', 'check'], env)
    assert.equal(r.code, 2)
    const lines = r.stderr.trim().split('\n')
    assert.ok(
      lines.some(
        (l) =>
          l === `seb: ${bad}:4: unknown setting "destinaton" in profile "work" (did you mean "destination"?)`,
      ),
      r.stderr,
    )
    assert.ok(
      lines.some((l) => l.startsWith(`seb: ${bad}:5: `) && l.includes('retention-days')),
      r.stderr,
    )
    const b = await runSeb(['backup', '--profile', 'work'], { ...env, SEB_CONFIG: bad })
    assert.equal(b.code, 2)
    assert.match(
      b.stderr,
      new RegExp(
        `^seb: ${bad.replace(/[.]/g, '\\.')}:\\d+: .*\\(\\+\\d+ more: 'seb config check' lists them all\\)\\n$`,
      ),
    )
    // A YAML syntax error names its line too.
    await fs.writeFile(bad, 'profiles:\n  work:\n\tsource: /x\n')
    const t = await runSeb(['config', 'check'], { ...env, SEB_CONFIG: bad })
    assert.equal(t.code, 2)
    assert.match(
      t.stderr,
      new RegExp(`${bad.replace(/[.]/g, '\\.')}:3: YAML syntax error: a tab is used for indentation`),
    )
  })

  it('config check: what the file points at (a missing source folder) is checked too', async () => {
    const f2 = path.join(work.dir, 'missing-source.yaml')
    await fs.writeFile(
      f2,
      `profiles:\n  gone:\n    source: ${path.join(work.dir, 'nope')}\n    destination: /tmp/x\n`,
    )
    const r = await runSeb(['--config', f2, 'config', 'check'], env)
    assert.equal(r.code, 2)
    assert.equal(
      r.stderr,
      `seb: ${f2}:3: profiles.gone.source: ${path.join(work.dir, 'nope')} does not exist\n`,
    )
  })

  it('backup --profile: settings from the file, the repository created on first use', async () => {
    const r = await runSeb(['backup', '--profile', 'work'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^work: snapshot [0-9a-f]{8} saved: /m)
    const c = JSON.parse(JSON.parse(await fs.readFile(path.join(repo('work'), 'config'), 'utf8')).manifest)
    assert.equal(c.retentionDays, 7)
    assert.deepEqual(c.encryption.recipients, [g.keys[0]!.fingerprint])
    // The defaults' exclude applies: nothing under Archive.2019.
    const ls = await runSeb(['ls', repo('work'), 'Archive.2019'], env)
    assert.match(ls.stdout, /: 0 files, 0 B matching Archive.2019\n$/)
    // An unknown profile: usage error naming the ones there are.
    const u = await runSeb(['backup', '--profile', 'wrok'], env)
    assert.equal(u.code, 2)
    assert.match(u.stderr, /no profile "wrok" .*did you mean "work"\? profiles: personal, work, lists/)
  })

  it('command-line options override the file: --no-default-excludes, --exclude adds', async () => {
    const r = await runSeb(
      ['backup', '--profile', 'personal', '--no-default-excludes', '--exclude', 'Sent/**', '--json'],
      env,
    )
    assert.equal(r.code, 0, r.stderr)
    const ls = await runSeb(['ls', repo('personal'), '--json'], env)
    const paths = ls.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((o) => o.type === 'file')
      .map((o) => o.path as string)
    assert.ok(
      paths.includes('INBOX/tmp/1700000002.partial.laptop'),
      'tmp/ mail kept with --no-default-excludes',
    )
    assert.ok(!paths.some((p) => p.startsWith('Sent/cur/')), 'Sent excluded by --exclude')
    assert.ok(!paths.some((p) => p.startsWith('Archive.2019/cur/')), "the file's exclude still applies")
  })

  it('backup --all: three profiles, three repositories, one summary each; a failing one gives the worst exit code', async () => {
    const r = await runSeb(['backup', '--all'], env)
    assert.equal(r.code, 0, r.stderr)
    for (const n of ['personal', 'work', 'lists'])
      assert.match(r.stdout, new RegExp(`^${n}: snapshot [0-9a-f]{8} saved: `, 'm'))
    assert.match(r.stdout, /^3 of 3 profiles run, 3 ok\n$/m)
    for (const n of ['personal', 'work', 'lists']) await fs.access(path.join(repo(n), 'config'))
    // `lists` has default-excludes: false: its tmp/ mail is there.
    const ls = await runSeb(['ls', repo('lists'), 'INBOX/tmp/*'], env)
    assert.match(ls.stdout, /INBOX\/tmp\/1700000002\.partial\.laptop/)
    // A locked repository fails its profile (11); the others still run; the exit code is the worst.
    await fs.mkdir(path.join(repo('work'), 'locks'), { recursive: true })
    const now = new Date().toISOString()
    await fs.writeFile(
      path.join(repo('work'), 'locks', 'a'.repeat(32)),
      JSON.stringify({
        host: 'otherhost',
        machine: 'f'.repeat(32),
        pidns: 'pid:[1]',
        pid: 1,
        command: 'backup',
        kind: 'backup',
        created: now,
        heartbeat: now,
      }),
    )
    const j = await runSeb(['backup', '--all', '--json'], env)
    assert.equal(j.code, 11)
    const objs = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const summaries = objs.filter((o) => o.type === 'summary' && o.command === 'backup')
    assert.deepEqual(
      summaries.map((s) => s.profile),
      ['personal', 'lists'],
    )
    const err = objs.find((o) => o.type === 'error')
    assert.equal(err.profile, 'work')
    assert.equal(err.exitCode, 11)
    assert.deepEqual(objs[objs.length - 1], {
      type: 'summary',
      command: 'backup-all',
      profiles: [
        { profile: 'personal', exitCode: 0 },
        { profile: 'work', exitCode: 11 },
        { profile: 'lists', exitCode: 0 },
      ],
      exitCode: 11,
    })
    assert.match(j.stderr, /^seb: work: .*repository is locked by backup \(pid 1 on otherhost/m)
    // --quiet: nothing on stdout, only the error.
    const q = await runSeb(['backup', '--all', '--quiet'], env)
    assert.equal(q.code, 11)
    assert.equal(q.stdout, '')
    assert.equal(q.stderr.trim().split('\n').length, 1)
    await fs.rm(path.join(repo('work'), 'locks', 'a'.repeat(32)))
  })

  it("a profile whose local destination's parent folder is missing (a disk not mounted): exit 10, nothing created", async () => {
    const f3 = path.join(work.dir, 'unmounted.yaml')
    const gone = path.join(work.dir, 'not-mounted', 'seb', 'mail')
    await fs.writeFile(
      f3,
      `profiles:\n  usb:\n    source: ${mail('work')}\n    destination: ${gone}\n    recipients: [${g.keys[0]!.fingerprint}]\n`,
    )
    const r = await runSeb(['backup', '--profile', 'usb'], { ...env, SEB_CONFIG: f3 })
    assert.equal(r.code, 10)
    assert.match(r.stderr, /no seb repository here/)
    await assert.rejects(fs.stat(path.join(work.dir, 'not-mounted')))
  })

  it('SRC DEST with --profile, or --all without profiles, are usage errors (2)', async () => {
    const r = await runSeb(['backup', mail('work'), repo('work'), '--profile', 'work'], env)
    assert.equal(r.code, 2)
    assert.match(r.stderr, /give either SRC DEST or --profile NAME/)
    const none = await runSeb(['backup', '--all'], {
      ...env,
      XDG_CONFIG_HOME: path.join(work.dir, 'empty-xdg'),
    })
    assert.equal(none.code, 2)
    assert.match(none.stderr, /--all: there is no config file/)
    const noArgs = await runSeb(['backup'], env)
    assert.equal(noArgs.code, 2)
    assert.match(noArgs.stderr, /backup needs SRC and DEST \(or --profile NAME, or --all\)/)
  })

  it('the short form and plain backup still work beside a config file', async () => {
    const d = path.join(work.dir, 'short')
    const r = await runSeb([mail('personal'), d, '--recipient', g.keys[0]!.fingerprint], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^snapshot [0-9a-f]{8} saved: /)
    // The file's defaults apply to SRC DEST too (its exclude).
    const ls = await runSeb(['ls', d, 'Archive.2019'], env)
    assert.match(ls.stdout, /: 0 files, 0 B matching Archive.2019\n$/)
    assert.equal((await runSeb(['backup', mail('personal'), d], env)).code, 0)
  })

  it('a plain SRC DEST run names the config file whose defaults it applied; --no-config ignores the file', async () => {
    const d = path.join(work.dir, 'noted')
    const fpr = g.keys[0]!.fingerprint
    const r = await runSeb(['backup', mail('work'), d, '--init-if-missing', '--recipient', fpr], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      r.stderr.split('\n')[0],
      `seb: note: applying the defaults of ${file}: exclude (--no-config ignores the file)`,
    )
    assert.match(
      r.stdout,
      /\nexcluded: 5 files left out \(1 by "\*\*\/tmp\/\*", 4 by "Archive.2019\/\*\*"\)\n/,
    )
    const bare = await runSeb(['--no-config', 'backup', mail('work'), d], env)
    assert.equal(bare.code, 0, bare.stderr)
    assert.doesNotMatch(bare.stderr, /note: applying/)
    assert.doesNotMatch(bare.stdout, /Archive.2019/)
    const ls = await runSeb(['--no-config', 'ls', d, 'Archive.2019'], env)
    assert.doesNotMatch(ls.stdout, /: 0 files/)
  })
})
