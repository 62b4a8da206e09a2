// Why: the pure parts of the storage layer — destination parsing, rates, ssh_config, known_hosts, the
// retry and rate-limit decorators — are checked here without any server, so they always run fast.
import assert from 'node:assert/strict'
import { createHmac, randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { NotFoundError, PermanentStorageError, UsageError } from '../../src/errors.js'
import { isRemoteDestination, parseDestination } from '../../src/storage/destination.js'
import { parseRate, RateLimitStorage } from '../../src/storage/limit.js'
import { MemoryStorage } from '../../src/storage/memory.js'
import { openStorage } from '../../src/storage/open.js'
import { classifyStorageError, isTransient, RetryStorage } from '../../src/storage/retry.js'
import {
  checkHostKey,
  knownHostsName,
  parseKnownHosts,
  preferredHostKeyAlgorithms,
} from '../../src/storage/ssh/known-hosts.js'
import { resolveSshHost } from '../../src/storage/ssh/ssh-config.js'
import { bufferBody, type Storage } from '../../src/storage/storage.js'
import { pack } from './suite.js'

const tmp = mkdtempSync(path.join(os.tmpdir(), 'seb-units-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

describe('parseDestination', () => {
  const cases: [string, unknown][] = [
    ['/srv/backup', { kind: 'local', path: '/srv/backup' }],
    ['backup', { kind: 'local', path: 'backup' }],
    ['./a:b', { kind: 'local', path: './a:b' }],
    ['/mnt/x:y', { kind: 'local', path: '/mnt/x:y' }],
    ['dir/with:colon', { kind: 'local', path: 'dir/with:colon' }],
    ['C:\\Backups\\mail', { kind: 'local', path: 'C:\\Backups\\mail' }],
    ['D:/mail', { kind: 'local', path: 'D:/mail' }],
    ['file:///srv/x', { kind: 'local', path: '/srv/x' }],
    [
      '1234@usw-s001.rsync.net:mail',
      { kind: 'sftp', user: '1234', host: 'usw-s001.rsync.net', path: 'mail' },
    ],
    ['backupbox:', { kind: 'sftp', user: undefined, host: 'backupbox', path: '' }],
    ['host:/abs/path', { kind: 'sftp', user: undefined, host: 'host', path: '/abs/path' }],
    ['me@[::1]:repo', { kind: 'sftp', user: 'me', host: '::1', path: 'repo' }],
    [
      'sftp://me@host:2222/srv/repo',
      { kind: 'sftp', user: 'me', host: 'host', port: 2222, path: '/srv/repo' },
    ],
    ['sftp://host/~/repo', { kind: 'sftp', user: undefined, host: 'host', port: undefined, path: 'repo' }],
    ['sftp://host', { kind: 'sftp', user: undefined, host: 'host', port: undefined, path: '' }],
    ['s3://my-bucket/some/prefix/', { kind: 's3', bucket: 'my-bucket', prefix: 'some/prefix' }],
    ['s3://my-bucket', { kind: 's3', bucket: 'my-bucket', prefix: '' }],
    ['rclone:gdrive:backups/mail', { kind: 'rclone', remote: 'gdrive:backups/mail' }],
  ]
  for (const [dest, want] of cases) it(dest, () => assert.deepEqual(parseDestination(dest), want))

  it('isRemoteDestination agrees with parseDestination (config and backends ask the same module)', () => {
    for (const d of ['sftp://u@h/p', 's3://b/p', 'rclone:remote:path', 'user@host:seb', 'ftp://x/y'])
      assert.equal(isRemoteDestination(d), true, d)
    for (const d of ['/mnt/backup', '~/backup', '~x:y', './a:b', 'C:\\Backups', 'file:///srv/x'])
      assert.equal(isRemoteDestination(d), false, d)
  })

  it('refuses a host name that ssh would read as an option', () => {
    for (const bad of ['-oProxyCommand=x:path', 'sftp://-oFoo/x'])
      assert.throws(
        () => parseDestination(bad),
        (err: Error) => err instanceof UsageError && /'-'/.test(err.message),
      )
  })

  it('rejects unknown schemes and malformed destinations with a UsageError naming them', async () => {
    for (const bad of ['ftp://host/x', 'rclone:', '', 's3://A_B/x', 'sftp://']) {
      assert.throws(
        () => parseDestination(bad),
        (err: Error) => err instanceof UsageError && err.message.includes(JSON.stringify(bad)),
      )
    }
    await assert.rejects(openStorage('webdav://x/y'), UsageError)
  })

  it('opens a local path wrapped in retry and rate limit', async () => {
    const s = await openStorage(path.join(tmp, 'open-local'), { limitUpload: '1M' })
    assert.ok(s instanceof RateLimitStorage)
    assert.ok((s as RateLimitStorage).inner instanceof RetryStorage)
    await s.save(pack(), bufferBody(Buffer.from('x')))
  })
})

describe('parseRate', () => {
  it('reads plain and suffixed rates', () => {
    assert.equal(parseRate('1048576'), 1048576)
    assert.equal(parseRate('500k'), 500 * 1024)
    assert.equal(parseRate('5M'), 5 * 1024 * 1024)
    assert.equal(parseRate('1.5G'), 1.5 * 1024 ** 3)
    assert.equal(parseRate('5MiB/s'), 5 * 1024 * 1024)
  })
  it('rejects nonsense with a UsageError', () => {
    for (const bad of ['', 'fast', '5X', '-1', '0', '1e6', '5 M B'])
      assert.throws(() => parseRate(bad), UsageError, bad)
  })
})

describe('ssh_config', () => {
  it('resolves aliases, first value wins, patterns and negation', () => {
    const cfg = path.join(tmp, 'ssh_config')
    writeFileSync(
      cfg,
      [
        'Host rsync',
        '  HostName usw-s001.rsync.net',
        '  User 1234',
        '  IdentityFile ~/.ssh/rsync_key',
        'Host *.example.com !bad.example.com',
        '  Port 2200',
        'Host *',
        '  User fallback',
        '  Port=22',
        '  IdentityFile "%d/.ssh/id_%h"',
        '  UserKnownHostsFile ~/kh1 ~/kh2',
      ].join('\n'),
    )
    const home = '/home/u'
    const a = resolveSshHost('rsync', { configPath: cfg, home })
    assert.equal(a.hostName, 'usw-s001.rsync.net')
    assert.equal(a.user, '1234')
    assert.equal(a.port, 22)
    assert.deepEqual(a.identityFiles, ['/home/u/.ssh/rsync_key', '/home/u/.ssh/id_usw-s001.rsync.net'])
    assert.deepEqual(a.userKnownHostsFiles, ['/home/u/kh1', '/home/u/kh2'])
    assert.equal(resolveSshHost('a.example.com', { configPath: cfg, home }).port, 2200)
    assert.equal(resolveSshHost('bad.example.com', { configPath: cfg, home }).port, 22)
    assert.equal(resolveSshHost('other', { configPath: path.join(tmp, 'missing'), home }).hostName, 'other')
  })
})

describe('known_hosts', () => {
  const key = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), randomBytes(36)])
  const other = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), randomBytes(36)])
  const b64 = key.toString('base64')
  it('matches plain, [host]:port, wildcard and hashed entries', () => {
    const salt = randomBytes(20)
    const hash = createHmac('sha1', salt).update('[10.0.0.1]:2222').digest('base64')
    const entries = parseKnownHosts(
      [
        `example.org,192.0.2.7 ssh-ed25519 ${b64}`,
        `[backup.example.org]:2200 ssh-ed25519 ${b64}`,
        `*.wild.net ssh-ed25519 ${b64}`,
        `|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${b64}`,
      ].join('\n'),
    )
    for (const name of [
      'example.org',
      '192.0.2.7',
      '[backup.example.org]:2200',
      'a.wild.net',
      '[10.0.0.1]:2222',
    ])
      assert.equal(checkHostKey(entries, [name], key).status, 'ok', name)
    assert.equal(checkHostKey(entries, ['backup.example.org'], key).status, 'unknown')
    assert.equal(checkHostKey(entries, [knownHostsName('10.0.0.1', 2222)], other).status, 'changed')
    assert.equal(checkHostKey(entries, ['nowhere'], key).status, 'unknown')
  })
  it('refuses @revoked keys and prefers known key types', () => {
    const entries = parseKnownHosts(
      `@revoked * ssh-ed25519 ${b64}\nhost ecdsa-sha2-nistp256 ${other.toString('base64')}`,
    )
    assert.equal(checkHostKey(entries, ['host'], key).status, 'revoked')
    assert.equal(preferredHostKeyAlgorithms(entries, ['host'])[0], 'ecdsa-sha2-nistp256')
  })
})

/** Flaky fails the first `failures` calls of each method with `error`. */
function flaky(inner: Storage, failures: number, error: () => unknown): Storage {
  let left = failures
  const maybe = () => {
    if (left > 0) {
      left--
      throw error()
    }
  }
  return {
    location: inner.location,
    connections: inner.connections,
    save: async (h, b, s) => {
      maybe()
      return inner.save(h, b, s)
    },
    load: async (h, r, c, s) => {
      maybe()
      return inner.load(h, r, c, s)
    },
    stat: async (h, s) => {
      maybe()
      return inner.stat(h, s)
    },
    list: (t, s) => inner.list(t, s),
    remove: async (h, s) => {
      maybe()
      return inner.remove(h, s)
    },
    close: () => inner.close(),
  }
}

describe('RetryStorage', () => {
  it('retries transient errors with backoff and reports each retry', async () => {
    const events: number[] = []
    const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const s = new RetryStorage(flaky(new MemoryStorage(), 2, reset), {
      baseDelayMs: 5,
      onRetry: (e) => events.push(e.attempt),
    })
    const h = pack()
    await s.save(h, bufferBody(Buffer.from('x')))
    assert.deepEqual(events, [1, 2])
  })
  it('gives up after the bounded number of attempts', async () => {
    let n = 0
    const s = new RetryStorage(
      flaky(new MemoryStorage(), 100, () => new Error('socket hang up')),
      {
        attempts: 3,
        baseDelayMs: 1,
        onRetry: () => n++,
      },
    )
    await assert.rejects(s.stat(pack()), /socket hang up/)
    assert.equal(n, 2)
  })
  it('never retries NotFoundError, permanent or unknown errors', async () => {
    let n = 0
    const opts = { baseDelayMs: 1, onRetry: () => n++ }
    await assert.rejects(new RetryStorage(new MemoryStorage(), opts).stat(pack()), NotFoundError)
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    })
    await assert.rejects(
      new RetryStorage(
        flaky(new MemoryStorage(), 1, () => denied),
        opts,
      ).stat(pack()),
      PermanentStorageError,
    )
    await assert.rejects(
      new RetryStorage(
        flaky(new MemoryStorage(), 1, () => new TypeError('bug')),
        opts,
      ).stat(pack()),
      TypeError,
    )
    assert.equal(n, 0)
  })
  it('classifies errors', () => {
    assert.ok(isTransient({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }))
    assert.ok(isTransient(new Error('Keepalive timeout')))
    assert.ok(!isTransient(new Error('bad data')))
    const auth = Object.assign(new Error('All configured authentication methods failed'), {
      level: 'client-authentication',
    })
    assert.ok(classifyStorageError(auth, 'x') instanceof PermanentStorageError)
    const full = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' })
    assert.match((classifyStorageError(full, 'x') as Error).message, /no space left/)
  })
  it('stops waiting when aborted', async () => {
    const s = new RetryStorage(
      flaky(new MemoryStorage(), 100, () => new Error('ETIMEDOUT')),
      { baseDelayMs: 10_000 },
    )
    const ac = new AbortController()
    const p = s.stat(pack(), ac.signal)
    setTimeout(() => ac.abort(new Error('bye')), 50)
    await assert.rejects(p, /bye/)
  })
})

describe('RateLimitStorage', () => {
  it('paces uploads to the configured rate', async () => {
    const s = new RateLimitStorage(new MemoryStorage(), 200 * 1024)
    const t0 = Date.now()
    // The bucket starts full (one burst of 50 KiB); 250 KiB more at 200 KiB/s takes ~1.25 s.
    await Promise.all([
      s.save(pack(), bufferBody(randomBytes(150 * 1024))),
      s.save(pack(), bufferBody(randomBytes(150 * 1024))),
    ])
    const took = Date.now() - t0
    assert.ok(took >= 1100 && took < 2500, `took ${took} ms`)
  })
})
