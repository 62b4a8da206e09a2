// Why: issue 4's "must show": every kind of destination works end to end through the built CLI — a local
// path, sftp://user@host:port/abs/path, the scp form through a ~/.ssh/config alias (as scp would), an S3
// bucket (a real Ceph radosgw) and an rclone remote (over the same sshd). For each: init, backup, change
// mail (rename, new, delete), an incremental backup that uploads only the new mail, a restore identical
// to the source, and verify --read-data. An unknown host key is refused with exit 1 and one line.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { type Radosgw, startRadosgw } from '../helpers/radosgw.js'
import { requireRclone } from '../helpers/rclone.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'
import { assertOneLineError, cliEnv, jsonSummary, listObjects, makeSshHome, type SshHome } from './env.js'

const g = makeGnupgHome()
const fpr = g.keys[0]!.fingerprint
const work = tempDir('seb-e2e-')
let server: Sshd
let rgw: Radosgw
let ssh: SshHome
let env: NodeJS.ProcessEnv

before(async () => {
  requireRclone()
  ;[server, rgw] = await Promise.all([startSshd(), startRadosgw()])
  ssh = makeSshHome(path.join(work.dir, 'home'), server)
  env = cliEnv({ gnupgHome: g.home, cacheDir: path.join(work.dir, 'cache'), ssh, server, rgw })
  // listObjects opens S3 in this process: the SDK reads the keys from the environment.
  process.env.AWS_ACCESS_KEY_ID = rgw.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = rgw.secretAccessKey
  process.env.AWS_REGION = 'us-east-1'
})

after(async () => {
  await Promise.allSettled([server?.stop(), rgw?.stop()])
  work.cleanup()
  g.cleanup()
})

/** The destinations, as a user writes them; built once the servers run. */
const destinations: { kind: string; dest: () => string }[] = [
  { kind: 'local path', dest: () => path.join(work.dir, 'local-repo') },
  {
    kind: 'sftp://user@host:port/abs/path',
    dest: () => `sftp://${server.user}@127.0.0.1:${server.port}${path.join(server.dataDir, 'sftp-repo')}`,
  },
  { kind: 'scp form user@alias:relpath (~/.ssh/config)', dest: () => `${server.user}@${ssh.alias}:scp-repo` },
  { kind: 's3://bucket/prefix', dest: () => 's3://seb-e2e/mail/repo' },
  { kind: 'rclone:remote:path (sftp)', dest: () => 'rclone:sebsftp:rclone-repo' },
]

const ignore = (rel: string) => isExcludedByDefault(rel)

for (const [i, d] of destinations.entries()) {
  describe(d.kind, () => {
    const src = path.join(work.dir, `src${i}`)
    const out = path.join(work.dir, `out${i}`)
    let dest = ''
    let made: string[] = []
    let firstPacks = new Map<string, number>()
    let firstPackBytes = 0
    const list = () => listObjects(dest, 'pack', { ssh, rgw, server })

    it('seb init DEST --recipient FPR', async () => {
      dest = d.dest()
      made = await makeMaildir(src, 60)
      const r = await runSeb(['init', dest, '--recipient', fpr], env)
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /created seb repository [0-9a-f]{32} at /)
    })

    it('seb backup SRC DEST stores everything', async () => {
      const r = await runSeb(['backup', src, dest, '--json'], env)
      assert.equal(r.code, 0, r.stderr)
      const s = jsonSummary(r.stdout)
      assert.ok((s.packsWritten as number) >= 1)
      assert.ok((s.filesAdded as number) >= 60)
      firstPacks = await list()
      assert.equal(firstPacks.size, s.packsWritten, 'packs at the destination = packs written')
      firstPackBytes = (s.bytesUploaded as number) - (s.indexBytes as number)
      assert.equal(
        firstPackBytes,
        [...firstPacks.values()].reduce((a, b) => a + b, 0),
      )
    })

    it('after a rename, a new message and a deletion, the next backup uploads only the new message', async () => {
      // made[0] is INBOX/cur/…:2,RS: flag it (mbsync renames the file); made[1] is deleted.
      const from = path.join(src, made[0]!)
      await fs.rename(from, from.replace(/:2,RS$/, ':2,FRS'))
      await fs.rm(path.join(src, made[1]!))
      const fresh = 'From: new@example.org\nSubject: arrived after the first backup\n\nhello again\n'
      const freshPath = path.join(src, 'INBOX/new/1700000500.M1P9.laptop')
      await fs.writeFile(freshPath, fresh)
      await fs.utimes(freshPath, 1_700_000_500, 1_700_000_500)

      const r = await runSeb(['backup', src, dest, '--json'], env)
      assert.equal(r.code, 0, r.stderr)
      const s = jsonSummary(r.stdout)
      assert.deepEqual(
        {
          added: s.filesAdded,
          renamed: s.filesRenamed,
          deleted: s.filesDeleted,
          changed: s.filesChanged,
          bytesNew: s.bytesNew,
        },
        { added: 1, renamed: 1, deleted: 1, changed: 0, bytesNew: Buffer.byteLength(fresh) },
      )
      assert.ok((s.packsWritten as number) <= 1, `packsWritten ${s.packsWritten}`)
      const packBytes = (s.bytesUploaded as number) - (s.indexBytes as number)
      assert.ok(packBytes < 8192 && packBytes < firstPackBytes, `uploaded ${packBytes} bytes of packs`)
      // No re-upload: every pack of the first run is still there, unchanged, plus at most one.
      const now = await list()
      for (const [name, size] of firstPacks) assert.equal(now.get(name), size, `pack ${name} kept`)
      assert.equal(now.size - firstPacks.size, s.packsWritten)
    })

    it('seb restore DEST OUT gives back the source, byte for byte with mtimes', async () => {
      const r = await runSeb(['restore', dest, out], env)
      assert.equal(r.code, 0, r.stderr)
      await assertSameTree(src, out, { ignore })
    })

    it('seb verify DEST --read-data exits 0', async () => {
      const r = await runSeb(['verify', dest, '--read-data'], env)
      assert.equal(r.code, 0, `${r.stdout}${r.stderr}`)
      assert.match(r.stdout, /no problems found/)
    })
  })
}

describe('unknown host key', () => {
  it('is refused with exit code 1 and one line, for sftp:// and the scp form', async () => {
    const stranger = makeSshHome(path.join(work.dir, 'stranger-home'), server, { trust: false })
    const e = { ...env, HOME: stranger.home }
    const url = `sftp://${server.user}@127.0.0.1:${server.port}${path.join(server.dataDir, 'never')}`
    const a = await runSeb(['init', url, '--recipient', fpr], e)
    assert.equal(a.code, 1)
    assertOneLineError(a.stderr, /127\.0\.0\.1:\d+: host key SHA256:\S+ is not in known_hosts/)
    assert.match(a.stderr, new RegExp(`run 'ssh -p ${server.port} ${server.user}@127\\.0\\.0\\.1' once`))
    const b = await runSeb(['backup', path.join(work.dir, 'src0'), `${stranger.alias}:never`], e)
    assert.equal(b.code, 1)
    assertOneLineError(b.stderr, /host key SHA256:\S+ is not in known_hosts/)
    assert.match(b.stderr, new RegExp(`run 'ssh -p ${server.port} ${server.user}@${stranger.alias}' once`))
    // Nothing was written on the server.
    await assert.rejects(fs.stat(path.join(server.dataDir, 'never')), { code: 'ENOENT' })
  })
})
