// People already have repositories: a format-1 repository made by seb 0.3 (test/fixtures/format-1)
// upgrades in place with the owner's secret key (or the passphrase), uploads no pack again, keeps every
// snapshot restorable byte- and mtime-identical, is refused by seb until upgraded, and refuses a second
// upgrade; backups go on with the public key only.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { readTree, tempDir } from '../helpers/tree.js'

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/format-1')

interface Entry {
  kind: 'f' | 'd' | 'l'
  sha256?: string
  mtimeUs: string
  target?: string
}

describe('upgrading a format-1 repository', () => {
  const g = makeGnupgHome([])
  const work = tempDir()
  const env = (extra: Record<string, string> = {}) => ({
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    SEB_DATA_DIR: path.join(work.dir, 'data'),
    ...extra,
  })
  let snapshots: Record<string, Entry>[] = []
  before(async () => {
    execFileSync('gpg', ['--batch', '--import', path.join(FIXTURE, 'secret-key.asc')], {
      env: { ...process.env, GNUPGHOME: g.home },
      stdio: 'ignore',
    })
    await fs.cp(FIXTURE, path.join(work.dir, 'fx'), { recursive: true })
    snapshots = JSON.parse(await fs.readFile(path.join(FIXTURE, 'snapshots.json'), 'utf8')).snapshots
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  /** checkSnapshot restores snapshot `i` (oldest first) with seb and compares it with the fixture's tree. */
  const checkSnapshot = async (dest: string, i: number, extra: string[] = []) => {
    const list = await runSeb([...extra, 'snapshots', dest, '--json'], env())
    assert.equal(list.code, 0, list.stderr)
    const ids = list.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.type === 'snapshot')
      .map((e) => e.id)
    const out = path.join(work.dir, `restored-${path.basename(dest)}-${i}`)
    const r = await runSeb([...extra, 'restore', dest, out, '--snapshot', ids[i]], env())
    assert.equal(r.code, 0, r.stderr)
    const tree = await readTree(out)
    const want = Object.entries(snapshots[i]!)
      .map(([k, e]) => [Buffer.from(k, 'base64').toString('latin1'), e] as const)
      .filter(([p]) => !/(^|\/)tmp\/./.test(p))
    for (const [p, e] of want) {
      const key = [...tree.keys()].find((k) => Buffer.from(k).equals(Buffer.from(p, 'latin1')) || k === p)
      const got = tree.get(key ?? p)
      assert.ok(got, `snapshot ${i}: ${p} missing`)
      if (e.kind === 'f') {
        assert.equal(got.kind, 'f')
        assert.equal(String(got.mtimeUs), e.mtimeUs, `${p}: mtime`)
      }
    }
  }

  for (const kind of ['recipients', 'passphrase'] as const) {
    it(`${kind}: refused until upgraded, then upgraded in place without uploading packs`, async () => {
      const dest = path.join(work.dir, 'fx', kind)
      const extra =
        kind === 'passphrase' ? ['--passphrase-file', path.join(work.dir, 'fx', 'passphrase.txt')] : []
      const before = await runSeb([...extra, 'snapshots', dest], env())
      assert.equal(before.code, 1)
      assert.match(before.stderr, /^seb: .*format 1 .*run 'seb upgrade /)
      const packsBefore = await fs.readdir(path.join(dest, 'packs'), { recursive: true })
      const stats = new Map<string, number>()
      for (const p of packsBefore) stats.set(p, (await fs.stat(path.join(dest, 'packs', p))).mtimeMs)
      const u = await runSeb([...extra, 'upgrade', dest, '--json'], env())
      assert.equal(u.code, 0, u.stderr)
      const s = JSON.parse(u.stdout.trim().split('\n').pop()!)
      assert.equal(s.snapshots, 2)
      // The packs are untouched: none rewritten, none added.
      assert.deepEqual(
        (await fs.readdir(path.join(dest, 'packs'), { recursive: true })).sort(),
        packsBefore.sort(),
      )
      for (const [p, t] of stats) assert.equal((await fs.stat(path.join(dest, 'packs', p))).mtimeMs, t, p)
      assert.deepEqual(await fs.readdir(path.join(dest, 'index')).catch(() => []), [])
      assert.equal(JSON.parse(await fs.readFile(path.join(dest, 'config'), 'utf8')).version, 2)
      await checkSnapshot(dest, 0, extra)
      await checkSnapshot(dest, 1, extra)
      const again = await runSeb([...extra, 'upgrade', dest], env())
      assert.equal(again.code, 1)
      assert.match(again.stderr, /already in format 2/)
    })
  }

  it('after the upgrade, a backup runs with the public key only', async () => {
    const dest = path.join(work.dir, 'fx', 'recipients')
    const pub = publicOnlyHome({
      home: g.home,
      fingerprint: '39041C4527F56F0C6DF739E1DBFC7F47749C7549',
      email: '',
    })
    const src = path.join(work.dir, 'src')
    await fs.mkdir(path.join(src, 'INBOX/cur'), { recursive: true })
    await fs.writeFile(path.join(src, 'INBOX/cur/new:2,S'), 'Subject: after the upgrade\n\nhello\n')
    // Another folder than the one the repository holds: said so deliberately.
    const r = await runSeb(['backup', src, dest, '--allow-new-source'], env({ GNUPGHOME: pub.home }))
    assert.equal(r.code, 0, r.stderr)
    pub.cleanup()
  })
})
