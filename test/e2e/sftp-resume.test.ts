// Why: the rsync.net case going wrong — the SFTP server dies in the middle of a long backup. The run must
// fail with one clear line; once the server is back, the same command must finish WITHOUT uploading
// again the packs that had completed (seb journals them in its cache and adopts them), leave no
// `*.seb-tmp-*` debris from the uploads that were cut off, restore identically and verify.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { promises as fs, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { init } from '../../src/engine/init.js'
import { TEMP_MARK } from '../../src/storage/layout.js'
import { LocalStorage } from '../../src/storage/local.js'
import { openStorage } from '../../src/storage/open.js'
import { RcloneStorage } from '../../src/storage/rclone.js'
import { SftpStorage } from '../../src/storage/sftp/store.js'
import { bufferBody, type Storage } from '../../src/storage/storage.js'
import { runSeb, startSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { rcloneSftpEnv, requireRclone } from '../helpers/rclone.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'
import { assertOneLineError, cliEnv, jsonSummary, makeSshHome, type SshHome } from './env.js'

const PACK_BYTES = 1024 * 1024
const BIG_FILES = 24

const g = makeGnupgHome()
const fpr = g.keys[0]!.fingerprint
const work = tempDir('seb-e2e-resume-')
let server: Sshd
let ssh: SshHome
let env: NodeJS.ProcessEnv

before(async () => {
  server = await startSshd()
  ssh = makeSshHome(path.join(work.dir, 'home'), server)
  env = cliEnv({ gnupgHome: g.home, cacheDir: path.join(work.dir, 'cache'), ssh, server })
})

after(async () => {
  await server?.stop()
  work.cleanup()
  g.cleanup()
})

/** walk lists every file below `dir` (relative paths); a missing folder is empty. */
function walk(dir: string, rel = ''): string[] {
  let names: import('node:fs').Dirent[]
  try {
    names = readdirSync(path.join(dir, rel), { withFileTypes: true })
  } catch {
    return []
  }
  return names.flatMap((e) =>
    e.isDirectory() ? walk(dir, path.join(rel, e.name)) : [path.join(rel, e.name)],
  )
}

/** serverPacks lists the complete packs (final names, not temp files) in the repository on the server. */
function serverPacks(repo: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const f of walk(path.join(repo, 'packs'))) {
    const name = path.basename(f)
    if (/^[0-9a-f]{64}$/.test(name)) out.set(name, readFileSync(path.join(repo, 'packs', f)).length)
  }
  return out
}

const tempFiles = (repo: string) => walk(repo).filter((f) => f.includes(TEMP_MARK))

describe('sftp: server killed mid-backup, then the backup is run again', () => {
  const src = path.join(work.dir, 'src')
  const out = path.join(work.dir, 'out')
  let repo = ''
  let dest = ''
  let repoId = ''
  let afterKill = new Map<string, number>()
  let journaled: string[] = []
  let total = 0

  before(async () => {
    repo = path.join(server.dataDir, 'resume-repo')
    dest = `sftp://${server.user}@127.0.0.1:${server.port}${repo}`
    await makeMaildir(src, 40)
    // Incompressible "attachments", one pack each: the backup needs many packs and a while to upload.
    for (let i = 0; i < BIG_FILES; i++) {
      const p = path.join(src, 'Archive.2019/cur', `${1_500_000_000 + i}.M${i}P7.laptop,U=${500 + i}:2,S`)
      writeFileSync(p, randomBytes(PACK_BYTES - 4096))
      utimesSync(p, 1_500_000_000 + i, 1_500_000_000 + i)
    }
    // The CLI has no pack-size option: the repository is made with 1 MiB packs by seb's init.
    const storage = await openStorage(dest, {
      sshConfigPath: ssh.config,
      knownHostsPath: ssh.knownHosts,
      identityFile: ssh.identity,
      sshAgent: false,
    })
    try {
      process.env.GNUPGHOME = env.GNUPGHOME
      repoId = (await init(storage, { recipients: [fpr], packBytes: PACK_BYTES })).id
    } finally {
      await storage.close()
    }
  })

  it('the first backup fails with one line when the server is SIGKILLed mid-upload', async (t) => {
    // --limit-upload paces the uploads so that the kill lands after some packs, not after all.
    const { done, stderr } = startSeb(['backup', src, dest, '--limit-upload', '3M'], env)
    let exited = false
    void done.then(() => {
      exited = true
    })
    while (serverPacks(repo).size < 5 && !exited) await sleep(20)
    assert.ok(!exited, `the backup finished before the server could be killed:\n${stderr()}`)
    await server.kill()
    afterKill = serverPacks(repo)
    const r = await done
    assert.notEqual(r.code, 0)
    assert.equal(r.code, 1)
    assertOneLineError(
      r.stderr,
      /failed 6 times in \d+ s \(last: .*127\.0\.0\.1.*\); the destination is unreachable/,
    )
    assert.doesNotMatch(r.stderr, /unexpected error/, 'a lost server is not a bug in seb')
    // The uploads in flight when the server died left temp files.
    assert.ok(tempFiles(repo).length >= 1, 'no temp file left by the killed uploads')
    // Nothing was committed: no commit object exists yet.
    assert.deepEqual(
      walk(path.join(repo, 'index')).filter((f) => !f.includes(TEMP_MARK)),
      [],
    )
    const journal = await fs.readFile(path.join(work.dir, 'cache', repoId, 'pending.jsonl'), 'utf8')
    journaled = journal
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as [string])[0])
    assert.ok(journaled.length >= 5, `journal lists ${journaled.length} packs`)
    for (const p of journaled) assert.ok(afterKill.has(p), `journaled pack ${p} is on the server`)
    t.diagnostic(`error: ${r.stderr.split('\n').find((l) => /^seb: (?!note:)/.test(l))}`)
    t.diagnostic(
      `after the kill: ${afterKill.size} complete packs, ${journaled.length} journaled, ${tempFiles(repo).length} temp files`,
    )
  })

  it('after a restart on the same port and key, the rerun adopts the completed packs', async (t) => {
    await server.start()
    const r = await runSeb(['backup', src, dest, '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const s = jsonSummary(r.stdout)
    const final = serverPacks(repo)
    total = final.size
    // Every pack that had completed is still there, unchanged (adopted, not deleted as an orphan)…
    for (const [name, size] of afterKill) assert.equal(final.get(name), size, `pack ${name} adopted`)
    // …and only the packs the first run had not finished were uploaded.
    assert.equal(s.packsWritten, total - afterKill.size, `packs: ${afterKill.size} before, ${total} after`)
    assert.ok(total >= BIG_FILES, `${total} packs`)
    t.diagnostic(`rerun: packsWritten ${s.packsWritten}, ${total} packs in the repository`)
  })

  it('no *.seb-tmp-* file stays on the server', () => {
    assert.deepEqual(tempFiles(repo), [])
  })

  it('restore is identical and verify --read-data passes', async () => {
    const r = await runSeb(['restore', dest, out], env)
    assert.equal(r.code, 0, r.stderr)
    await assertSameTree(src, out, { ignore: isExcludedByDefault })
    const v = await runSeb(['verify', dest, '--read-data', '--json'], env)
    assert.equal(v.code, 0, `${v.stdout}${v.stderr}`)
    assert.equal(jsonSummary(v.stdout).packsRead, total)
  })
})

describe('removeTemp deletes leftover temp objects, and only those', () => {
  const pack = 'ab'.repeat(32)
  const lock = 'cd'.repeat(16)
  /** seed writes one real pack and temp objects beside the config, a pack, a commit and a lock. */
  const seed = async (s: Storage, root: string) => {
    await s.save({ type: 'pack', name: pack }, bufferBody(Buffer.from('pack')))
    const temps = [
      `config${TEMP_MARK}0a0a0a`,
      `packs/ab/${pack}${TEMP_MARK}1b1b1b`,
      `index/0000000001-0123456789abcdef${TEMP_MARK}2c2c2c`,
    ]
    for (const t of temps) {
      await fs.mkdir(path.dirname(path.join(root, t)), { recursive: true })
      await fs.writeFile(path.join(root, t), 'partial')
    }
    // A recent temp lock may be a reader's shared lock being written: kept. An old one goes.
    await fs.mkdir(path.join(root, 'locks'), { recursive: true })
    await fs.writeFile(path.join(root, `locks/${lock}${TEMP_MARK}3d3d3d`), '{}')
    const old = path.join(root, `locks/${lock}${TEMP_MARK}4e4e4e`)
    await fs.writeFile(old, '{}')
    await fs.utimes(old, 1_600_000_000, 1_600_000_000)
    // Not seb's: outside the repository's folders, or without the mark.
    await fs.writeFile(path.join(root, 'packs/ab/notes.txt'), 'mine')
    await fs.mkdir(path.join(root, 'other'), { recursive: true })
    await fs.writeFile(path.join(root, `other/x${TEMP_MARK}5f5f5f`), 'mine')
  }
  const check = async (s: Storage, root: string) => {
    await seed(s, root)
    assert.equal(await s.removeTemp!(), 4)
    assert.deepEqual(
      walk(root).sort(),
      [
        `locks/${lock}${TEMP_MARK}3d3d3d`,
        `other/x${TEMP_MARK}5f5f5f`,
        'packs/ab/notes.txt',
        `packs/ab/${pack}`,
      ].sort(),
    )
    assert.equal(await s.removeTemp!(), 0)
    await s.close()
  }

  it('local', async () => {
    const root = path.join(work.dir, 'temp-local')
    await check(new LocalStorage(root), root)
  })

  it('sftp, through the retry wrapper the CLI uses', async () => {
    const root = path.join(server.dataDir, 'temp-sftp')
    const s = await openStorage(`sftp://${server.user}@127.0.0.1:${server.port}${root}`, {
      sshConfigPath: ssh.config,
      knownHostsPath: ssh.knownHosts,
      identityFile: ssh.identity,
      sshAgent: false,
      limitUpload: '100M',
    })
    await check(s, root)
  })

  it('sftp with the repository at the remote home', async () => {
    const root = server.dataDir
    const s = new SftpStorage({
      host: ssh.alias,
      path: '',
      sshConfigPath: ssh.config,
      knownHostsPath: ssh.knownHosts,
      agent: false,
      home: ssh.home,
    })
    await seed(s, root)
    assert.equal(await s.removeTemp(), 4)
    assert.ok(walk(root).includes(`other/x${TEMP_MARK}5f5f5f`))
    assert.ok(walk(root).includes(`locks/${lock}${TEMP_MARK}3d3d3d`))
    await s.close()
  })

  it('rclone (over the sshd)', async () => {
    requireRclone()
    const root = path.join(server.dataDir, 'temp-rclone')
    await check(
      new RcloneStorage({
        remote: 'sebsftp:temp-rclone',
        env: rcloneSftpEnv(server, 'sebsftp', ssh.knownHosts),
      }),
      root,
    )
  })
})
