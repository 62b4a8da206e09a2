// Why: the rclone backend drives the real rclone binary, against a local path and against the test
// sshd over SFTP; both must pass the conformance suite. Over SFTP rclone alone accepts any host key:
// seb must make it check ~/.ssh/known_hosts, whatever way the remote is defined.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PermanentStorageError } from '../../src/errors.js'
import { LocalStorage } from '../../src/storage/local.js'
import { openStorage } from '../../src/storage/open.js'
import { RcloneStorage } from '../../src/storage/rclone.js'
import { bufferBody, type Handle, type Storage } from '../../src/storage/storage.js'
import { rcloneSftpConfig, rcloneSftpEnv, requireRclone } from '../helpers/rclone.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { load, pack, runStorageSuite } from './suite.js'

const base = mkdtempSync(path.join(os.tmpdir(), 'seb-rclone-'))
let server: Sshd
let n = 0
// The listing test seeds 1100 objects straight into the folder rclone serves (one rclone process per
// save would take minutes); listing them is still rclone's job.
const dirs = new Map<Storage, string>()
const seed = (s: Storage, h: Handle, data: Buffer) => new LocalStorage(dirs.get(s)!).save(h, bufferBody(data))

before(async () => {
  requireRclone()
  server = await startSshd()
})
after(async () => {
  await server?.stop()
  rmSync(base, { recursive: true, force: true })
})

runStorageSuite(
  'rclone (local path)',
  async () => {
    const dir = path.join(base, `repo${n++}`)
    const s = new RcloneStorage({ remote: dir, env: { RCLONE_CONFIG: '/dev/null' } })
    dirs.set(s, dir)
    return s
  },
  { seed },
)

runStorageSuite(
  'rclone (sftp remote)',
  async () => {
    const rel = `rclone-repo${n++}`
    const s = new RcloneStorage({ remote: `sebsftp:${rel}`, env: rcloneSftpEnv(server) })
    dirs.set(s, path.join(server.dataDir, rel))
    return s
  },
  { seed },
)

describe('rclone: specifics', () => {
  it('opens rclone:remote:path', async () => {
    const s = await openStorage('rclone:sebsftp:opened', { rcloneEnv: rcloneSftpEnv(server) })
    try {
      assert.equal(s.location, 'rclone:sebsftp:opened')
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('via rclone')))
      assert.equal((await load(s, h)).toString(), 'via rclone')
    } finally {
      await s.close()
    }
  })

  it('fails fast and permanently on an unknown host key', async () => {
    const kh = path.join(base, 'empty_known_hosts')
    writeFileSync(kh, '')
    let retries = 0
    const s = await openStorage('rclone:sebsftp:x', {
      rcloneEnv: rcloneSftpEnv(server, 'sebsftp', kh),
      retry: { baseDelayMs: 10, onRetry: () => retries++ },
    })
    const t0 = Date.now()
    await assert.rejects(s.stat(pack()), PermanentStorageError)
    assert.equal(retries, 0)
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`)
  })

  it('names the package to install when rclone is missing', async () => {
    const s = new RcloneStorage({ remote: base, binary: '/nonexistent/rclone' })
    await assert.rejects(s.stat(pack()), (err: Error) => {
      assert.ok(err instanceof PermanentStorageError)
      assert.match(err.message, /Debian package 'rclone'/)
      return true
    })
  })
})

describe('rclone: sftp host keys (rclone alone accepts any key)', () => {
  /** home makes a $HOME whose ~/.ssh/known_hosts pins the server (trust) or is empty. */
  const home = (trust: boolean | 'missing') => {
    const dir = mkdtempSync(path.join(base, 'home-'))
    if (trust !== 'missing') {
      mkdirSync(path.join(dir, '.ssh'))
      writeFileSync(
        path.join(dir, '.ssh', 'known_hosts'),
        trust ? `[127.0.0.1]:${server.port} ${server.hostKeyLine}\n` : '',
      )
    }
    return dir
  }
  const refused = (err: Error) => {
    assert.ok(err instanceof PermanentStorageError, String(err))
    assert.match(
      err.message,
      new RegExp(
        `the sftp server 127\\.0\\.0\\.1:${server.port}: host key is not in \\S+/\\.ssh/known_hosts; seb never accepts a new host key by itself: run 'ssh -p ${server.port} ${server.user}@127\\.0\\.0\\.1' once`,
      ),
    )
    assert.ok(!err.message.includes('\n'))
    return true
  }

  it("refuses an unknown key of a remote without known_hosts_file, and uses ~/.ssh/known_hosts's", async () => {
    const env = rcloneSftpEnv(server, 'nokh', null)
    const s = new RcloneStorage({ remote: 'nokh:hk1', env, home: home(false) })
    await assert.rejects(s.stat(pack()), refused)
    const ok = new RcloneStorage({ remote: 'nokh:hk1', env, home: home(true) })
    const h = pack()
    await ok.save(h, bufferBody(Buffer.from('known key')))
    assert.equal((await load(ok, h)).toString(), 'known key')
  })

  it('does the same for a config-file remote behind a wrapping remote (alias)', async () => {
    const conf = path.join(base, 'rclone.conf')
    writeFileSync(
      conf,
      `${rcloneSftpConfig(server, 'filesftp')}\n[wrapped]\ntype = alias\nremote = filesftp:hk2\n`,
    )
    const env = { RCLONE_CONFIG: conf }
    await assert.rejects(
      new RcloneStorage({ remote: 'wrapped:', env, home: home(false) }).stat(pack()),
      refused,
    )
    const ok = new RcloneStorage({ remote: 'wrapped:', env, home: home(true) })
    const h = pack()
    await ok.save(h, bufferBody(Buffer.from('wrapped')))
    assert.equal((await load(ok, h)).toString(), 'wrapped')
  })

  it('does the same for an on-the-fly :sftp remote', async () => {
    const spec = `:sftp,host=127.0.0.1,port=${server.port},user=${server.user},key_file=${server.clientKey}:hk3`
    const env = { RCLONE_CONFIG: '/dev/null' }
    await assert.rejects(new RcloneStorage({ remote: spec, env, home: home(false) }).stat(pack()), refused)
    const ok = new RcloneStorage({ remote: spec, env, home: home(true) })
    const h = pack()
    await ok.save(h, bufferBody(Buffer.from('on the fly')))
    assert.equal((await load(ok, h)).toString(), 'on the fly')
  })

  it("keeps a remote's own known_hosts_file", async () => {
    // The remote's file pins the key; $HOME's known_hosts is empty and must not be used instead.
    const s = new RcloneStorage({ remote: 'sebsftp:hk4', env: rcloneSftpEnv(server), home: home(false) })
    const h = pack()
    await s.save(h, bufferBody(Buffer.from('own file')))
    assert.equal((await s.stat(h)).size, 8)
  })

  it('refuses a changed key with the ssh-keygen -R command', async () => {
    const dir = home('missing')
    mkdirSync(path.join(dir, '.ssh'))
    const other = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'
    writeFileSync(path.join(dir, '.ssh', 'known_hosts'), `[127.0.0.1]:${server.port} ${other}\n`)
    const s = new RcloneStorage({ remote: 'nokh:hk5', env: rcloneSftpEnv(server, 'nokh', null), home: dir })
    await assert.rejects(s.stat(pack()), (err: Error) => {
      assert.ok(err instanceof PermanentStorageError, String(err))
      assert.match(err.message, /HOST KEY CHANGED.*ssh-keygen -R "\[127\.0\.0\.1\]:\d+"/)
      return true
    })
  })

  it('says what to do when there is no ~/.ssh/known_hosts at all', async () => {
    const s = new RcloneStorage({
      remote: 'nokh:hk6',
      env: rcloneSftpEnv(server, 'nokh', null),
      home: home('missing'),
    })
    await assert.rejects(s.stat(pack()), (err: Error) => {
      assert.ok(err instanceof PermanentStorageError, String(err))
      assert.match(
        err.message,
        /rclone remote 'nokh' is sftp without a known_hosts_file and \S+ does not exist.*run 'ssh -p \d+ \S+@127\.0\.0\.1' once/,
      )
      return true
    })
  })
})
