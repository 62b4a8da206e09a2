// Why: the SFTP backend against a real OpenSSH sshd on 127.0.0.1: the conformance suite, then what
// only a real server shows — host key refusal, auth failures, ssh_config aliases, the scp form, a server
// killed or frozen mid-transfer.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { PermanentStorageError } from '../../src/errors.js'
import { openStorage } from '../../src/storage/open.js'
import { RetryStorage } from '../../src/storage/retry.js'
import { type SftpOptions, SftpStorage } from '../../src/storage/sftp/store.js'
import { bufferBody } from '../../src/storage/storage.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { load, pack, runStorageSuite, slowBody } from './suite.js'

let server: Sshd
let n = 0

before(async () => {
  server = await startSshd()
})
after(async () => {
  await server?.stop()
})

function opts(extra: Partial<SftpOptions> = {}): SftpOptions {
  return {
    host: '127.0.0.1',
    port: server.port,
    user: server.user,
    path: path.join(server.dataDir, `repo${n++}`),
    identityFile: server.clientKey,
    knownHostsPath: server.knownHosts,
    sshConfigPath: '/dev/null',
    agent: false,
    ...extra,
  }
}

runStorageSuite('sftp', async () => new SftpStorage(opts()))

describe('sftp: ssh behaviour', () => {
  it('refuses an unknown host key with a one-line hint to run ssh once', async () => {
    const kh = path.join(server.dir, 'empty_known_hosts')
    writeFileSync(kh, '')
    const s = new SftpStorage(opts({ knownHostsPath: kh }))
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(err.message, /127\.0\.0\.1:\d+: host key SHA256:\S+ is not in known_hosts/)
        assert.match(err.message, new RegExp(`run 'ssh -p ${server.port} ${server.user}@127.0.0.1' once`))
        assert.ok(!err.message.includes('\n'))
        return true
      })
    } finally {
      await s.close()
    }
  })

  it('refuses a changed host key', async () => {
    const other = path.join(server.dir, 'other_host_key')
    if (!existsSync(other)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
    const line = readFileSync(`${other}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')
    const kh = path.join(server.dir, 'changed_known_hosts')
    writeFileSync(kh, `# pinned\n[127.0.0.1]:${server.port} ${line}\n`)
    const s = new SftpStorage(opts({ knownHostsPath: kh }))
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(err.message, /HOST KEY CHANGED/)
        assert.match(err.message, /changed_known_hosts:2/)
        return true
      })
    } finally {
      await s.close()
    }
  })

  it('accepts a hashed known_hosts entry (ssh-keygen -H)', async () => {
    const kh = path.join(server.dir, 'hashed_known_hosts')
    writeFileSync(kh, `[127.0.0.1]:${server.port} ${server.hostKeyLine}\n`)
    execFileSync('ssh-keygen', ['-q', '-H', '-f', kh], { stdio: 'ignore' })
    assert.match(readFileSync(kh, 'utf8'), /^\|1\|/)
    const s = new SftpStorage(opts({ knownHostsPath: kh }))
    try {
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('hashed')))
      assert.equal((await load(s, h)).toString(), 'hashed')
    } finally {
      await s.close()
    }
  })

  it('fails a wrong client key at once with a PermanentStorageError, without retrying', async () => {
    const wrong = path.join(server.dir, 'wrong_client_key')
    if (!existsSync(wrong)) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', wrong])
    let retries = 0
    const s = new RetryStorage(new SftpStorage(opts({ identityFile: wrong })), {
      baseDelayMs: 10,
      onRetry: () => retries++,
    })
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(err.message, /ssh authentication failed/)
        return true
      })
      assert.equal(retries, 0)
    } finally {
      await s.close()
    }
  })

  it('follows an ssh_config Host alias (HostName, Port, User, IdentityFile)', async () => {
    const cfg = path.join(server.dir, 'ssh_config')
    writeFileSync(
      cfg,
      [
        'Host other',
        '  HostName 192.0.2.1',
        'Host backupbox',
        '  HostName 127.0.0.1',
        `  Port ${server.port}`,
        `  User ${server.user}`,
        `  IdentityFile ${server.clientKey}`,
        'Host *',
        '  Port 1',
        '  User nobody',
        '',
      ].join('\n'),
    )
    const s = await openStorage('backupbox:alias-repo', {
      sshConfigPath: cfg,
      knownHostsPath: server.knownHosts,
      sshAgent: false,
    })
    try {
      assert.equal(s.location, 'backupbox:alias-repo')
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('via alias')))
      assert.ok(existsSync(path.join(server.dataDir, 'alias-repo', 'packs', h.name.slice(0, 2), h.name)))
    } finally {
      await s.close()
    }
  })

  it('uses ssh-agent when SSH_AUTH_SOCK is set', async () => {
    const sock = path.join(server.dir, 'agent.sock')
    const out = execFileSync('ssh-agent', ['-a', sock, '-s']).toString()
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)?.[1])
    try {
      execFileSync('ssh-add', [server.clientKey], {
        env: { ...process.env, SSH_AUTH_SOCK: sock },
        stdio: 'ignore',
      })
      const s = new SftpStorage(opts({ identityFile: [], agent: sock }))
      try {
        const h = pack()
        await s.save(h, bufferBody(Buffer.from('agent')))
        assert.equal((await s.stat(h)).size, 5)
      } finally {
        await s.close()
      }
    } finally {
      if (pid) process.kill(pid, 'SIGTERM')
    }
  })

  it('opens the scp form user@host:path relative to the remote home', async () => {
    const cfg = path.join(server.dir, 'ssh_config_port')
    // The scp form has no port: it comes from ssh_config, as with scp and rsync.
    writeFileSync(cfg, `Host 127.0.0.1\n  Port ${server.port}\n  IdentityFile ${server.clientKey}\n`)
    const dest = `${server.user}@127.0.0.1:scp-repo/sub`
    const s = await openStorage(dest, {
      sshConfigPath: cfg,
      knownHostsPath: server.knownHosts,
      sshAgent: false,
    })
    try {
      assert.equal(s.location, dest)
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('scp form')))
      const file = path.join(server.dataDir, 'scp-repo', 'sub', 'packs', h.name.slice(0, 2), h.name)
      assert.equal(readFileSync(file, 'utf8'), 'scp form')
      assert.equal(statSync(file).mode & 0o777, 0o600)
      const url = await openStorage(
        `sftp://${server.user}@127.0.0.1:${server.port}${server.dataDir}/scp-repo/sub`,
        {
          sshConfigPath: '/dev/null',
          knownHostsPath: server.knownHosts,
          identityFile: server.clientKey,
          sshAgent: false,
        },
      )
      try {
        assert.equal((await load(url, h)).toString(), 'scp form')
      } finally {
        await url.close()
      }
    } finally {
      await s.close()
    }
  })
})

describe('sftp: server faults', () => {
  it('fails when the server is killed mid-transfer, then works again after a restart', async () => {
    const s = new SftpStorage(opts({ connections: 1 }))
    try {
      await s.save(pack(), bufferBody(Buffer.from('warm up')))
      const h = pack()
      const saving = s.save(h, slowBody(randomBytes(4 * 1024 * 1024), 40, 20))
      await sleep(300)
      await server.kill()
      await assert.rejects(saving)
      await server.start()
      const t0 = Date.now()
      await s.save(h, bufferBody(Buffer.from('after restart')))
      assert.equal((await load(s, h)).toString(), 'after restart')
      assert.ok(Date.now() - t0 < 10_000)
      // The interrupted upload left at most a temp file, which is never listed.
      const names = []
      for await (const i of s.list('pack')) names.push(i.name)
      assert.equal(names.length, 2)
    } finally {
      await s.close()
    }
  })

  it('fails within seconds, not forever, when the server hangs (SIGSTOP)', async () => {
    const s = new SftpStorage(opts({ connections: 1, readyTimeout: 4000 }))
    try {
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('before the hang')))
      server.signal('SIGSTOP')
      const t0 = Date.now()
      try {
        await assert.rejects(s.save(pack(), bufferBody(randomBytes(1024 * 1024))))
        // A new connection to the frozen listener fails on the handshake timeout.
        await assert.rejects(s.stat(h))
      } finally {
        server.signal('SIGCONT')
      }
      const took = Date.now() - t0
      assert.ok(took < 15_000, `took ${took} ms`)
      assert.equal((await load(s, h)).toString(), 'before the hang')
    } finally {
      await s.close()
    }
  })
})
