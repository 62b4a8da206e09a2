// Why: pins the precedence rule every command relies on — defaults < profile < environment < command
// line — and how lists, the key alternatives and unknown profiles behave.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  allProfiles,
  envSettings,
  resolveAll,
  resolveDefaults,
  resolveProfile,
} from '../../src/config/resolve.js'
import { emptyConfig } from '../../src/config/schema.js'
import { parseConfig } from '../../src/config/validate.js'
import { UsageError } from '../../src/errors.js'

const HOME = '/home/alice'

/** usage matches a UsageError whose message matches re (the error's name is not part of the contract). */
const usage = (re: RegExp) => (err: unknown) => err instanceof UsageError && re.test(err.message)
const FILE = `${HOME}/.config/seb/config.yaml`

const config = parseConfig(
  `defaults:
  recipients: [alice@example.org]
  exclude: ["Junk/**"]
  exclude-file: ~/.config/seb/all.exclude
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
    exclude: ["Spam/**"]
    exclude-file: ~/.config/seb/work.exclude
    default-excludes: false
    connections: 8
    retention-days: 90
  lists:
    source: /srv/mail/lists
    destination: ~/backup/lists
    passphrase-file: ~/.config/seb/lists.pass
    limit-upload: none
`,
  { file: FILE, home: HOME },
)

describe('resolveProfile', () => {
  it('three profiles resolve with defaults filled in', () => {
    const personal = resolveProfile(config, 'personal', {}, {}, HOME)
    assert.deepEqual(
      { ...personal, origins: undefined },
      {
        profile: 'personal',
        source: '/home/alice/Mail/personal',
        destination: 'user@usw-s001.rsync.net:seb/personal',
        recipients: ['alice@example.org'],
        passphraseFile: undefined,
        exclude: ['Junk/**'],
        excludeFiles: ['/home/alice/.config/seb/all.exclude'],
        defaultExcludes: true,
        retentionDays: 30,
        limitUpload: 2 * 1024 * 1024,
        connections: 4,
        origins: undefined,
      },
    )
    const work = resolveProfile(config, 'work', {}, {}, HOME)
    assert.deepEqual(work.recipients, ['alice@work.example', 'backup-officer@work.example'])
    assert.deepEqual(work.exclude, ['Junk/**', 'Spam/**'])
    assert.deepEqual(work.excludeFiles, [
      '/home/alice/.config/seb/all.exclude',
      '/home/alice/.config/seb/work.exclude',
    ])
    assert.equal(work.defaultExcludes, false)
    assert.equal(work.connections, 8)
    assert.equal(work.retentionDays, 90)
    assert.equal(work.s3Endpoint, 'https://s3.example.com')
    assert.equal(work.s3PathStyle, true)
    const lists = resolveProfile(config, 'lists', {}, {}, HOME)
    assert.equal(lists.limitUpload, undefined, 'none in the profile lifts the default limit')
    assert.deepEqual(lists.recipients, [], 'a passphrase-file in the profile replaces the default recipients')
    assert.equal(lists.passphraseFile, '/home/alice/.config/seb/lists.pass')
    assert.equal(lists.destination, '/home/alice/backup/lists')
  })

  it('precedence: defaults < profile < environment < command line', () => {
    const env = { SEB_CONNECTIONS: '16', SEB_LIMIT_UPLOAD: '500k', SEB_S3_ENDPOINT: 'https://env.example' }
    // defaults only
    assert.equal(resolveProfile(config, 'personal', {}, {}, HOME).connections, 4)
    // profile beats defaults
    assert.equal(resolveProfile(config, 'work', {}, {}, HOME).connections, 8)
    // environment beats the profile
    const e = resolveProfile(config, 'work', {}, env, HOME)
    assert.equal(e.connections, 16)
    assert.equal(e.limitUpload, 500 * 1024)
    assert.equal(e.s3Endpoint, 'https://env.example')
    // the command line beats the environment
    const c = resolveProfile(
      config,
      'work',
      { connections: 2, limitUpload: 1000, s3Endpoint: 'https://cli.example' },
      env,
      HOME,
    )
    assert.equal(c.connections, 2)
    assert.equal(c.limitUpload, 1000)
    assert.equal(c.s3Endpoint, 'https://cli.example')
    // origins say who won
    assert.equal(
      resolveProfile(config, 'personal', {}, {}, HOME).origins.connections,
      '~/.config/seb/config.yaml:7 (defaults)',
    )
    assert.equal(
      resolveProfile(config, 'work', {}, {}, HOME).origins.connections,
      '~/.config/seb/config.yaml:21',
    )
    assert.equal(e.origins.connections, 'SEB_CONNECTIONS')
    assert.equal(c.origins.connections, 'command line')
  })

  it('the command line can override source, destination and every scalar', () => {
    const r = resolveProfile(
      config,
      'work',
      {
        source: '/tmp/m',
        destination: '/tmp/d',
        defaultExcludes: true,
        retentionDays: 0,
        s3PathStyle: false,
        cacheDir: '/c',
      },
      {},
      HOME,
    )
    assert.equal(r.source, '/tmp/m')
    assert.equal(r.destination, '/tmp/d')
    assert.equal(r.defaultExcludes, true)
    assert.equal(r.retentionDays, 0)
    assert.equal(r.s3PathStyle, false)
    assert.equal(r.cacheDir, '/c')
    assert.equal(resolveProfile(config, 'work', { limitUpload: 0 }, {}, HOME).limitUpload, undefined)
  })

  it('excludes concatenate: defaults, profile, command line', () => {
    const r = resolveProfile(
      config,
      'work',
      { exclude: ['Trash/**'], excludeFile: '/x/cli.exclude' },
      {},
      HOME,
    )
    assert.deepEqual(r.exclude, ['Junk/**', 'Spam/**', 'Trash/**'])
    assert.deepEqual(r.excludeFiles, [
      '/home/alice/.config/seb/all.exclude',
      '/home/alice/.config/seb/work.exclude',
      '/x/cli.exclude',
    ])
  })

  it('recipients and passphrase-file: the highest layer that sets either decides', () => {
    // environment recipients replace the file's
    const a = resolveProfile(
      config,
      'work',
      {},
      { SEB_RECIPIENT: ' bob@example.org, ,carol@example.org ' },
      HOME,
    )
    assert.deepEqual(a.recipients, ['bob@example.org', 'carol@example.org'])
    assert.equal(a.origins.recipients, 'SEB_RECIPIENT')
    // an environment passphrase file replaces the profile's recipients
    const b = resolveProfile(config, 'work', {}, { SEB_PASSPHRASE_FILE: '~/p' }, HOME)
    assert.deepEqual(b.recipients, [])
    assert.equal(b.passphraseFile, '/home/alice/p')
    // command-line recipients replace a profile's passphrase file
    const c = resolveProfile(config, 'lists', { recipients: ['dave@example.org'] }, {}, HOME)
    assert.deepEqual(c.recipients, ['dave@example.org'])
    assert.equal(c.passphraseFile, undefined)
    // an empty list from the command line means "not given"
    assert.deepEqual(resolveProfile(config, 'work', { recipients: [] }, {}, HOME).recipients, [
      'alice@work.example',
      'backup-officer@work.example',
    ])
  })

  it('an unknown profile lists the ones that exist', () => {
    assert.throws(
      () => resolveProfile(config, 'wrok', {}, {}, HOME),
      (err: unknown) => {
        assert.ok(err instanceof UsageError)
        assert.equal(
          err.message,
          'no profile "wrok" in ~/.config/seb/config.yaml (did you mean "work"? profiles: personal, work, lists)',
        )
        return true
      },
    )
    assert.throws(
      () => resolveProfile(config, 'zzz', {}, {}, HOME),
      usage(/\(profiles: personal, work, lists\)$/),
    )
    assert.throws(
      () => resolveProfile(emptyConfig(), 'work', {}, {}, HOME),
      usage(/no profile "work": there is no config file/),
    )
  })

  it('bad environment values are usage errors naming the variable', () => {
    assert.throws(
      () => envSettings({ SEB_CONNECTIONS: 'many' }),
      usage(/^SEB_CONNECTIONS=many: must be a whole number from 1 to 64$/),
    )
    assert.throws(() => envSettings({ SEB_CONNECTIONS: '0' }), UsageError)
    assert.throws(
      () => envSettings({ SEB_LIMIT_UPLOAD: 'fast' }),
      usage(/SEB_LIMIT_UPLOAD=fast: must be bytes per second/),
    )
    assert.throws(
      () => envSettings({ SEB_S3_ENDPOINT: 'nope' }),
      usage(/SEB_S3_ENDPOINT=nope: must be a URL/),
    )
    assert.deepEqual(envSettings({ SEB_RECIPIENT: '', SEB_CONNECTIONS: ' ' }), {})
    assert.deepEqual(envSettings({ SEB_CACHE_DIR: '~/c', SEB_LIMIT_UPLOAD: 'off' }, HOME), {
      cacheDir: '/home/alice/c',
      limitUpload: 0,
    })
  })
})

describe('allProfiles, resolveAll, resolveDefaults', () => {
  it('allProfiles gives the names in file order', () => {
    assert.deepEqual(allProfiles(config), ['personal', 'work', 'lists'])
    const odd = parseConfig(
      'profiles:\n  z:\n    source: /a\n    destination: /b\n  "2024":\n    source: /a\n    destination: /b\n  a.b_c-d:\n    source: /a\n    destination: /b\n',
      { file: FILE, home: HOME },
    )
    assert.deepEqual(allProfiles(odd), ['z', '2024', 'a.b_c-d'])
  })

  it('resolveAll resolves each profile and refuses SRC/DEST or an empty file', () => {
    const all = resolveAll(config, { connections: 1 }, {}, HOME)
    assert.deepEqual(
      all.map((p) => [p.profile, p.connections]),
      [
        ['personal', 1],
        ['work', 1],
        ['lists', 1],
      ],
    )
    assert.throws(
      () => resolveAll(config, { source: '/x' }, {}, HOME),
      usage(/--all backs up every profile to its own destination/),
    )
    assert.throws(() => resolveAll(emptyConfig(), {}, {}, HOME), usage(/^--all: there is no config file/))
    const none = parseConfig('defaults:\n  connections: 2\n', { file: FILE, home: HOME })
    assert.throws(
      () => resolveAll(none, {}, {}, HOME),
      usage(/--all: ~\/\.config\/seb\/config\.yaml has no profiles; add one under "profiles:"/),
    )
  })

  it('resolveDefaults applies the defaults to a run without a profile', () => {
    const r = resolveDefaults(
      config,
      { source: '/m', destination: '/d', exclude: ['X/**'] },
      { SEB_CONNECTIONS: '3' },
      HOME,
    )
    assert.equal(r.profile, undefined)
    assert.equal(r.source, '/m')
    assert.deepEqual(r.recipients, ['alice@example.org'])
    assert.deepEqual(r.exclude, ['Junk/**', 'X/**'])
    assert.equal(r.connections, 3)
    assert.equal(r.defaultExcludes, true)
    const bare = resolveDefaults(emptyConfig(), {}, {}, HOME)
    assert.deepEqual(bare, {
      recipients: [],
      exclude: [],
      excludeFiles: [],
      defaultExcludes: true,
      limitUpload: undefined,
      origins: {},
    })
  })
})
