// Why: the rclone backend drives the real rclone binary, against a local path and against the test
// sshd over SFTP; both must pass the conformance suite.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PermanentStorageError } from '../../src/errors.js'
import { LocalStorage } from '../../src/storage/local.js'
import { openStorage } from '../../src/storage/open.js'
import { RcloneStorage } from '../../src/storage/rclone.js'
import { bufferBody, type Handle, type Storage } from '../../src/storage/storage.js'
import { rcloneSftpEnv, requireRclone } from '../helpers/rclone.js'
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
