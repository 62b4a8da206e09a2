// Why: the config file is written by hand; these tests pin that a good file reads as intended and that
// every kind of mistake comes back as one line naming the file and the right line.
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { checkConfigPaths, configPath, loadConfig, loadConfigFile } from '../../src/config/load.js'
import { ConfigError } from '../../src/config/schema.js'
import { parseConfig } from '../../src/config/validate.js'
import { expandHome, suggest, tildePath } from '../../src/config/values.js'
import { UsageError } from '../../src/errors.js'
import { isRemoteDestination as isRemote } from '../../src/storage/destination.js'

const HOME = '/home/alice'
const FILE = `${HOME}/.config/seb/config.yaml`
const parse = (text: string) => parseConfig(text, { file: FILE, home: HOME })

/** problem parses `text`, expects a ConfigError and returns it. */
function problem(text: string): ConfigError {
  try {
    parse(text)
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`)
    assert.ok(err instanceof UsageError)
    assert.equal(err.exitCode, 2)
    assert.ok(!err.message.includes('\n'), `one line: ${JSON.stringify(err.message)}`)
    return err
  }
  assert.fail(`no error for:\n${text}`)
}

// Three mail accounts; the line numbers matter to the tests below.
const THREE = `# seb config
defaults:
  recipients: [alice@example.org]
  exclude: ["Junk/**"]
  retention-days: 30
  limit-upload: 2M
  connections: 4
profiles:
  personal:
    source: ~/Mail/personal
    destination: user@usw-s001.rsync.net:seb/personal
  work:
    source: ~/Mail/work
    destination: s3://my-bucket/seb/work
    s3-endpoint: https://s3.example.com
    s3-path-style: true
    recipients: [alice@work.example, backup-officer@work.example]
    exclude-file: ~/.config/seb/work.exclude
    default-excludes: false
  lists:
    source: /srv/mail/lists
    destination: ~/backup/lists
    passphrase-file: ~/.config/seb/lists.pass
    exclude:
      - "Archive/**"
    limit-upload: none
    cache-dir: ~/.cache/seb-lists
`

describe('config file: a valid file', () => {
  const c = parse(THREE)

  it('keeps the profiles in file order', () => {
    assert.deepEqual([...c.profiles.keys()], ['personal', 'work', 'lists'])
    assert.equal(c.found, true)
    assert.equal(c.displayFile, '~/.config/seb/config.yaml')
  })

  it('reads the defaults', () => {
    assert.deepEqual(c.defaults.settings, {
      recipients: ['alice@example.org'],
      exclude: ['Junk/**'],
      retentionDays: 30,
      limitUpload: 2 * 1024 * 1024,
      connections: 4,
    })
    assert.equal(c.defaults.lines.retentionDays, 5)
  })

  it('reads each profile, expanding ~ in paths and leaving remote destinations alone', () => {
    assert.deepEqual(c.profiles.get('personal')?.settings, {
      source: '/home/alice/Mail/personal',
      destination: 'user@usw-s001.rsync.net:seb/personal',
    })
    assert.deepEqual(c.profiles.get('work')?.settings, {
      source: '/home/alice/Mail/work',
      destination: 's3://my-bucket/seb/work',
      s3Endpoint: 'https://s3.example.com',
      s3PathStyle: true,
      recipients: ['alice@work.example', 'backup-officer@work.example'],
      excludeFile: '/home/alice/.config/seb/work.exclude',
      defaultExcludes: false,
    })
    assert.deepEqual(c.profiles.get('lists')?.settings, {
      source: '/srv/mail/lists',
      destination: '/home/alice/backup/lists',
      passphraseFile: '/home/alice/.config/seb/lists.pass',
      exclude: ['Archive/**'],
      limitUpload: 0,
      cacheDir: '/home/alice/.cache/seb-lists',
    })
  })

  it('records the line of each profile and setting', () => {
    assert.equal(c.profiles.get('work')?.line, 12)
    assert.equal(c.profiles.get('work')?.lines.s3Endpoint, 15)
    assert.equal(c.profiles.get('lists')?.lines.exclude, 24)
  })

  it('reads an empty file, or one with only comments, as no profiles', () => {
    for (const text of ['', '# nothing yet\n', 'profiles:\n', 'defaults:\nprofiles:\n']) {
      const e = parse(text)
      assert.equal(e.profiles.size, 0)
      assert.deepEqual(e.defaults.settings, {})
    }
  })

  it('keeps key ids and numbers written in string settings as written', () => {
    const e = parse(
      'profiles:\n  a:\n    source: /m\n    destination: /d\n    recipients: [0x1234ABCD, 12345678]\n',
    )
    assert.deepEqual(e.profiles.get('a')?.settings.recipients, ['0x1234ABCD', '12345678'])
  })

  it('accepts a single string where a list is expected, and yes/no for booleans', () => {
    const e = parse(
      'defaults:\n  recipients: alice@example.org\n  exclude: "Spam/**"\n  s3-path-style: yes\n  default-excludes: off\n',
    )
    assert.deepEqual(e.defaults.settings, {
      recipients: ['alice@example.org'],
      exclude: ['Spam/**'],
      s3PathStyle: true,
      defaultExcludes: false,
    })
  })

  it('reads upload limits like the command line does', () => {
    const lim = (v: string) => parse(`defaults:\n  limit-upload: ${v}\n`).defaults.settings.limitUpload
    assert.equal(lim('500k'), 500 * 1024)
    assert.equal(lim('1048576'), 1048576)
    assert.equal(lim('1.5M'), 1.5 * 1024 * 1024)
    assert.equal(lim('off'), 0)
    assert.equal(lim('0'), 0)
  })

  it('follows YAML anchors and aliases', () => {
    const e = parse(
      'profiles:\n  a:\n    source: /m/a\n    destination: /d/a\n    exclude: &ex ["Junk/**"]\n  b:\n    source: /m/b\n    destination: /d/b\n    exclude: *ex\n',
    )
    assert.deepEqual(e.profiles.get('b')?.settings.exclude, ['Junk/**'])
  })
})

describe('config file: each mistake names its line', () => {
  it('a YAML syntax error', () => {
    const e = problem('profiles:\n  work:\n    source: ~/Mail\n    destination: [a, b\n    exclude: x\n')
    assert.match(e.message, /^~\/\.config\/seb\/config\.yaml:5: YAML syntax error: /)
  })

  it('an unclosed quote', () => {
    const e = problem('profiles:\n  work:\n    source: "~/Mail\n')
    assert.match(e.message, /^~\/\.config\/seb\/config\.yaml:\d+: YAML syntax error: .*quote/)
  })

  it('a tab used for indentation', () => {
    const e = problem('profiles:\n\twork:\n')
    assert.equal(e.problems[0]?.line, 2)
    assert.match(e.message, /tab .* indent with spaces/)
  })

  it('a key written twice', () => {
    const e = problem('profiles:\n  work:\n    source: /a\n    destination: /b\n    source: /c\n')
    assert.equal(
      e.message,
      '~/.config/seb/config.yaml:5: YAML syntax error: this key is written twice in the same section; keep one',
    )
  })

  it('an unknown setting, with a suggestion', () => {
    const text = THREE.replace(
      '    destination: s3://my-bucket/seb/work',
      '    destinaton: s3://my-bucket/seb/work',
    )
    const e = problem(text)
    assert.equal(
      e.message,
      '~/.config/seb/config.yaml:14: unknown setting "destinaton" in profile "work" (did you mean "destination"?)',
    )
    assert.equal(e.problems.length, 1, 'the destination it was taken for is not also reported missing')
  })

  it('common other spellings get a suggestion too', () => {
    const cases: [string, string][] = [
      ['recipient', 'recipients'],
      ['excludes', 'exclude'],
      ['retention', 'retention-days'],
      ['passphrase_file', 'passphrase-file'],
      ['limit', 'limit-upload'],
      ['src', 'source'],
      ['Connections', 'connections'],
    ]
    for (const [typed, meant] of cases) {
      const e = problem(`defaults:\n  ${typed}: x\n`)
      assert.match(
        e.message,
        new RegExp(`:2: unknown setting "${typed}" in "defaults" \\(did you mean "${meant}"\\?\\)$`),
      )
    }
  })

  it('an unknown setting without a likely meaning lists the known ones', () => {
    const e = problem('defaults:\n  colour: blue\n')
    assert.match(
      e.message,
      /:2: unknown setting "colour" in "defaults" \(known: source, destination, recipients, /,
    )
  })

  it('a value of the wrong type', () => {
    const e = problem(THREE.replace('retention-days: 30', 'retention-days: thirty'))
    assert.equal(
      e.message,
      '~/.config/seb/config.yaml:5: defaults.retention-days: must be a whole number of days (got "thirty")',
    )
    const cases: [string, RegExp][] = [
      ['retention-days: -1', /defaults\.retention-days: must be a whole number of days \(got -1\)/],
      ['retention-days: 2.5', /\(got 2\.5\)/],
      ['connections: 65', /defaults\.connections: must be a whole number from 1 to 64 \(got 65\)/],
      ['connections: 0', /from 1 to 64 \(got 0\)/],
      [
        'limit-upload: fast',
        /defaults\.limit-upload: must be bytes per second like 500k, 2M or 1048576, or none for no limit \(got "fast"\)/,
      ],
      ['s3-path-style: maybe', /defaults\.s3-path-style: must be true or false \(got "maybe"\)/],
      ['s3-endpoint: s3.example.com', /defaults\.s3-endpoint: must be a URL like https:\/\/s3\.example\.com/],
      ['recipients: {a: b}', /defaults\.recipients: must be a list of GnuPG keys .* \(got a mapping\)/],
      ['recipients: []', /defaults\.recipients: must list at least one key/],
      ['exclude: [a, [b]]', /defaults\.exclude: every item must be one of globs .*\(got a list\)/],
      ['cache-dir:', /defaults\.cache-dir: must be a path \(got nothing\)/],
    ]
    for (const [line, re] of cases) {
      const err = problem(`# c\ndefaults:\n  ${line}\n`)
      assert.match(err.message, /^~\/\.config\/seb\/config\.yaml:3: /, line)
      assert.match(err.message, re, line)
    }
  })

  it("a list item of the wrong type names the item's line", () => {
    const e = problem('defaults:\n  exclude:\n    - "Junk/**"\n    - {x: 1}\n')
    assert.equal(e.problems[0]?.line, 4)
  })

  it('a bad profile name', () => {
    const e = problem(
      'profiles:\n  ok:\n    source: /a\n    destination: /b\n  my work:\n    source: /a\n    destination: /b\n',
    )
    assert.equal(
      e.message,
      '~/.config/seb/config.yaml:5: profile name "my work": use only letters, digits, ".", "_" and "-" (it is typed as --profile NAME)',
    )
  })

  it('a profile without a source or a destination', () => {
    const e = problem('profiles:\n  a:\n    source: /m\n    destination: /d\n  work:\n    destination: /d\n')
    assert.equal(
      e.message,
      '~/.config/seb/config.yaml:5: profile "work" has no source: add "source: ~/Mail/work" (the Maildir folder to back up)',
    )
    const e2 = problem('profiles:\n  work:\n    source: /m\n')
    assert.match(e2.message, /:2: profile "work" has no destination: add "destination: PATH-OR-URL"/)
    const e3 = problem('profiles:\n  work:\n')
    assert.equal(e3.problems.length, 2)
    assert.ok(e3.problems.every((p) => p.line === 2))
  })

  it('a misspelt source is reported as misspelt, not also as missing', () => {
    const e = problem('profiles:\n  work:\n    sourc: /m\n    destination: /d\n')
    assert.equal(e.problems.length, 1) // not also "has no source"
    assert.match(e.problems[0]!.message, /unknown setting "sourc" .*did you mean "source"/)
    const e2 = problem('profiles:\n  work:\n    source: 42x/rel\n    destination: /d\n')
    assert.equal(e2.problems.length, 1)
  })

  it('both recipients and passphrase-file', () => {
    const e = problem(
      'profiles:\n  work:\n    source: /m\n    destination: /d\n    recipients: [a@b.c]\n    passphrase-file: ~/p\n',
    )
    assert.equal(
      e.message,
      '~/.config/seb/config.yaml:6: profiles.work: sets both recipients and passphrase-file; keep one (recipients for GnuPG keys, passphrase-file for a passphrase)',
    )
  })

  it('a relative path, or ~user', () => {
    const e = problem('profiles:\n  work:\n    source: Mail/work\n    destination: /d\n')
    assert.match(
      e.message,
      /:3: profiles\.work\.source: "Mail\/work" is a relative path; write an absolute path or one starting with ~\/$/,
    )
    const e2 = problem('profiles:\n  work:\n    source: /m\n    destination: backup\n')
    assert.match(e2.message, /:4: .*relative path.*\(or a remote like user@host:path\)$/)
    const e3 = problem('defaults:\n  cache-dir: ~bob/cache\n')
    assert.match(e3.message, /:2: defaults\.cache-dir: "~bob\/cache": only ~ and ~\/ are expanded/)
  })

  it('a destination is read by the same rules as on the command line (storage/destination.ts)', () => {
    const e = problem('profiles:\n  work:\n    source: /m\n    destination: ftp://host/x\n')
    assert.match(e.message, /:4: profiles\.work\.destination: "ftp:\/\/host\/x": unknown scheme 'ftp:\/\/'/)
    const e2 = problem('profiles:\n  work:\n    source: /m\n    destination: s3://Bad_Bucket/x\n')
    assert.match(e2.message, /:4: .*invalid S3 bucket name/)
    const c = parse('profiles:\n  w:\n    source: /m\n    destination: file:///srv/backup\n')
    assert.equal(c.profiles.get('w')!.settings.destination, '/srv/backup')
  })

  it('settings indented like profile names', () => {
    const e = problem('profiles:\n  work:\n  source: ~/Mail\n  destination: /d\n')
    assert.deepEqual(
      e.problems.map((p) => [p.line, p.message]),
      [
        [3, '"source" is a setting, not a profile: indent it under "work:"'],
        [4, '"destination" is a setting, not a profile: indent it under "work:"'],
      ],
    )
  })

  it('a missing colon', () => {
    const e = problem('profiles:\n  work:\n    source ~/Mail\n    destination: /d\n')
    assert.match(e.message, /^~\/\.config\/seb\/config\.yaml:3: YAML syntax error: /)
  })

  it('source or destination under defaults', () => {
    const e = problem('defaults:\n  source: ~/Mail\n')
    assert.match(e.message, /:2: defaults\.source: source cannot be a default, each profile has its own/)
  })

  it('a profile written without "profiles:", and a setting at the top level', () => {
    const e = problem('work:\n  source: /m\n  destination: /d\n')
    assert.match(
      e.message,
      /:1: unknown section "work": if it is a profile, indent it under a "profiles:" line$/,
    )
    const e2 = problem('# x\nrecipients: [a]\n')
    assert.match(e2.message, /:2: "recipients" is a setting: put it under "defaults:"/)
    const e3 = problem('profile:\n  a: {}\n')
    assert.match(e3.message, /:1: unknown section "profile" \(did you mean "profiles"\?\)/)
  })

  it('a file that is not a mapping', () => {
    const e = problem('- a\n- b\n')
    assert.match(e.message, /:1: the file must be a mapping with "defaults:" and "profiles:"/)
    const e2 = problem('profiles: [a, b]\n')
    assert.match(e2.message, /:1: profiles: must be a mapping of profile names/)
    const e3 = problem('profiles:\n  a: /m\n')
    assert.match(e3.message, /:2: profiles\.a: must be a mapping of settings/)
  })

  it('several problems: all kept, in line order; the message is the first plus a count', () => {
    const e = problem(
      'defaults:\n  connections: 99\nprofiles:\n  w:\n    destination: /d\n    colour: blue\n',
    )
    assert.deepEqual(
      e.problems.map((p) => p.line),
      [2, 4, 6],
    )
    assert.match(
      e.message,
      /^~\/\.config\/seb\/config\.yaml:2: .*\(\+2 more: 'seb config check' lists them all\)$/,
    )
  })
})

describe('config file: finding and reading it', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seb-config-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('configPath: SEB_CONFIG, then XDG_CONFIG_HOME, then ~/.config', () => {
    assert.equal(configPath({ SEB_CONFIG: '/etc/seb.yaml', XDG_CONFIG_HOME: '/x' }, HOME), '/etc/seb.yaml')
    assert.equal(configPath({ SEB_CONFIG: '~/seb.yaml' }, HOME), '/home/alice/seb.yaml')
    assert.equal(configPath({ XDG_CONFIG_HOME: '/xdg' }, HOME), '/xdg/seb/config.yaml')
    assert.equal(configPath({ XDG_CONFIG_HOME: 'relative' }, HOME), FILE) // the XDG spec ignores relative ones
    assert.equal(configPath({}, HOME), FILE)
  })

  it('a missing file at the default location is an empty config', () => {
    const c = loadConfig({ env: { XDG_CONFIG_HOME: path.join(dir, 'nothing') }, home: dir })
    assert.equal(c.found, false)
    assert.equal(c.profiles.size, 0)
    assert.equal(loadConfigFile(path.join(dir, 'absent.yaml')).found, false)
  })

  it('a missing file given explicitly is an error', () => {
    const missing = path.join(dir, 'absent.yaml')
    assert.throws(
      () => loadConfigFile(missing, { required: true }),
      (err: unknown) => {
        assert.ok(err instanceof UsageError)
        assert.equal(
          err.message,
          `${missing}: no such config file (create it as docs/configuration.md shows, or fix --config / SEB_CONFIG)`,
        )
        return true
      },
    )
    assert.throws(() => loadConfig({ configFile: missing, env: {} }), UsageError)
    assert.throws(() => loadConfig({ env: { SEB_CONFIG: missing } }), /no such config file/)
  })

  it('a folder given as the file is an error', () => {
    assert.throws(() => loadConfigFile(dir, { required: true }), /is a folder, not a config file/)
  })

  it('reads a file from disk, shows it with ~ and expands ~ against the given home', () => {
    const home = path.join(dir, 'home')
    mkdirSync(path.join(home, '.config', 'seb'), { recursive: true })
    const file = path.join(home, '.config', 'seb', 'config.yaml')
    writeFileSync(file, 'profiles:\n  a:\n    source: ~/Mail\n    destination: ~/backup\n')
    const c = loadConfig({ env: {}, home })
    assert.equal(c.file, file)
    assert.equal(c.displayFile, '~/.config/seb/config.yaml')
    assert.equal(c.profiles.get('a')?.settings.source, path.join(home, 'Mail'))
    writeFileSync(file, 'profiles:\n  a:\n    source: ~/Mail\n    destinaton: ~/backup\n')
    assert.throws(
      () => loadConfig({ env: {}, home }),
      /^ConfigError: ~\/\.config\/seb\/config\.yaml:4: unknown setting "destinaton"/,
    )
  })

  it('checkConfigPaths reports missing folders and files and a readable passphrase file', () => {
    const pass = path.join(dir, 'pass')
    writeFileSync(pass, 'secret\n')
    chmodSync(pass, 0o644)
    const c = parseConfig(
      `profiles:\n  a:\n    source: ${dir}/no-such-mail\n    destination: /d\n    passphrase-file: ${pass}\n    exclude-file: ${dir}/none\n  b:\n    source: ${dir}\n    destination: /d\n`,
      { file: path.join(dir, 'c.yaml'), home: dir },
    )
    const ps = checkConfigPaths(c)
    assert.deepEqual(
      ps.map((p) => p.line),
      [3, 5, 6],
    )
    assert.match(ps[0]!.message, /profiles\.a\.source: .*no-such-mail does not exist/)
    assert.match(ps[1]!.message, /profiles\.a\.passphrase-file: .* can be read by other users; run chmod 600/)
    assert.match(ps[2]!.message, /profiles\.a\.exclude-file: cannot read .* \(no such file\)/)
    chmodSync(pass, 0o600)
    assert.equal(checkConfigPaths(c).length, 2)
  })
})

describe('docs/configuration.md', () => {
  it('its examples are valid config files', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8')
    const blocks = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!)
    assert.equal(blocks.length, 2)
    const three = parse(blocks[0]!)
    assert.deepEqual([...three.profiles.keys()], ['personal', 'work', 'lists'])
    assert.equal(parse(blocks[1]!).profiles.size, 1)
  })
})

describe('config helpers', () => {
  it('expandHome and tildePath', () => {
    assert.equal(expandHome('~', HOME), HOME)
    assert.equal(expandHome('~/Mail', HOME), '/home/alice/Mail')
    assert.equal(expandHome('/abs/~/x', HOME), '/abs/~/x')
    assert.equal(expandHome('~bob/x', HOME), '~bob/x')
    assert.equal(tildePath('/home/alice/.config/seb/config.yaml', HOME), '~/.config/seb/config.yaml')
    assert.equal(tildePath('/home/alicex/c.yaml', HOME), '/home/alicex/c.yaml')
  })

  it('isRemote tells remote destinations from local paths', () => {
    for (const d of ['sftp://u@h/p', 's3://b/p', 'rclone:remote:path', 'user@host:seb', 'host:seb'])
      assert.equal(isRemote(d), true, d)
    for (const d of ['/mnt/backup', '~/backup', './a:b', 'backup', '~/x:y'])
      assert.equal(isRemote(d), false, d)
  })

  it('suggest', () => {
    assert.equal(suggest('wrok', ['personal', 'work', 'lists']), 'work')
    assert.equal(suggest('zzz', ['personal', 'work', 'lists']), undefined)
  })
})
