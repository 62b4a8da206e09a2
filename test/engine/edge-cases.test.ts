// The awkward inputs of a real mail folder: files renamed between listing and reading, a file larger
// than 2 GiB, excludes, dry runs, and files seb may not read.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, promises as fs, renameSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { LocalStorage } from '../../src/storage/local.js'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { assertSameTree, createTree, tempDir } from '../helpers/tree.js'

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(file)) h.update(c as Buffer)
  return h.digest('hex')
}

describe('edge cases', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  let n = 0
  const fresh = async () => {
    n++
    const src = path.join(work.dir, `src${n}`)
    const storage = new LocalStorage(path.join(work.dir, `dest${n}`))
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    return { src, storage, cacheBase: path.join(work.dir, `cache${n}`), out: path.join(work.dir, `out${n}`) }
  }
  before(() => {
    process.env.GNUPGHOME = g.home
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('a file renamed between listing and reading is not an error and is picked up next run', async () => {
    const t = await fresh()
    await createTree(t.src, { 'INBOX/cur/a:2,S': 'message a', 'INBOX/cur/b:2,S': 'message b' })
    const s1 = await backup({
      ...t,
      source: t.src,
      progress: (e) => {
        // Between the scan and the reads, the mail client flags message a.
        if (e.type === 'scanned')
          renameSync(path.join(t.src, 'INBOX/cur/a:2,S'), path.join(t.src, 'INBOX/cur/a:2,FS'))
      },
    })
    assert.deepEqual(s1.unreadable, [])
    assert.equal(s1.filesAdded, 1) // b; a vanished under our feet
    const s2 = await backup({ ...t, source: t.src })
    assert.equal(s2.unreadable.length, 0)
    assert.equal(s2.filesAdded, 1) // a, under its new name
    await restore({ ...t, target: t.out })
    await assertSameTree(t.src, t.out)
  })

  it('attachments of 9 and 12 MiB (read whole, each a frame larger than a slot) round-trip, alone or beside stored mail', async () => {
    const t = await fresh()
    const noise = (n: number, seed: number) => {
      const b = Buffer.alloc(n)
      for (let i = 0; i < n; i += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(b, i)
      return b
    }
    await createTree(t.src, {
      'INBOX/cur/1:2,S': 'a short mail',
      'INBOX/cur/2:2,S': noise(9 * 1024 * 1024, 1), // incompressible
      'INBOX/cur/3:2,S': Buffer.from('Content-Type: text/plain\n\n'.repeat((12 * 1024 * 1024) / 26)),
    })
    await backup({ ...t, source: t.src })
    // The next run: one attachment's content is stored already (nothing to pack), the other is new.
    await createTree(t.src, {
      'INBOX/new/4': noise(9 * 1024 * 1024, 1),
      'INBOX/new/5': noise(10 * 1024 * 1024, 2),
    })
    const s = await backup({ ...t, source: t.src })
    assert.equal(s.filesAdded, 2)
    const r = await restore({ ...t, target: t.out })
    assert.deepEqual(r.failed, [])
    await assertSameTree(t.src, t.out)
  })

  it('one message in several folders (copies, each with its own mode and mtime) is stored once and restored at every path', async () => {
    const t = await fresh()
    const copy = 'Subject: the same message\n\nfiled three times\n'
    await createTree(t.src, {
      'INBOX/cur/1:2,S': { data: copy, mode: 0o600, mtime: 1_600_000_000.25 },
      'Archive/cur/7:2,S': { data: copy, mode: 0o644, mtime: 1_600_000_100 },
      'Sent/cur/3:2,S': { data: copy, mode: 0o640, mtime: 1_600_000_200.5 },
      'INBOX/cur/2:2,S': 'another message',
    })
    const s = await backup({ ...t, source: t.src })
    assert.equal(s.filesAdded, 4)
    assert.equal(s.bytesNew, copy.length + 'another message'.length) // the copies' content is stored once
    const r = await restore({ ...t, target: t.out })
    assert.deepEqual(r.failed, [])
    assert.equal(r.filesRestored, 4)
    await assertSameTree(t.src, t.out)
  })

  it('a file over 2 GiB round-trips (streamed, not held in memory)', async () => {
    const t = await fresh()
    await fs.mkdir(t.src, { recursive: true })
    const big = path.join(t.src, 'huge-attachment')
    const fh = await fs.open(big, 'w')
    // Sparse, with data at both ends so a truncation would show.
    await fh.write(Buffer.from('start of a very large file'), 0, 26, 0)
    await fh.write(Buffer.from('end'), 0, 3, 2 ** 31 + 1000)
    await fh.close()
    await fs.utimes(big, 1_600_000_000, 1_600_000_000)
    const s = await backup({ ...t, source: t.src })
    assert.equal(s.filesAdded, 1)
    assert.equal(s.bytes, 2 ** 31 + 1003)
    const r = await restore({ ...t, target: t.out })
    assert.deepEqual(r.failed, [])
    const st = await fs.stat(path.join(t.out, 'huge-attachment'))
    assert.equal(st.size, 2 ** 31 + 1003)
    assert.equal(st.mtimeMs, 1_600_000_000_000)
    assert.equal(await sha256File(path.join(t.out, 'huge-attachment')), await sha256File(big))
  })

  it('default excludes leave out tmp/ contents and Dovecot caches; --no-default-excludes keeps them', async () => {
    const t = await fresh()
    await createTree(t.src, {
      'INBOX/cur/m:2,S': 'mail',
      'INBOX/tmp/partial': 'half',
      'INBOX/dovecot.index.cache': 'cache',
      'INBOX/dovecot-uidlist': 'uids',
      'Junk/cur/spam': 'spam',
    })
    await backup({ ...t, source: t.src, excludes: ['Junk/**'] })
    await restore({ ...t, target: t.out })
    const got = (await fs.readdir(path.join(t.out, 'INBOX'))).sort()
    assert.deepEqual(got, ['cur', 'dovecot-uidlist', 'tmp'])
    assert.deepEqual(await fs.readdir(path.join(t.out, 'INBOX/tmp')), [])
    await assert.rejects(fs.stat(path.join(t.out, 'Junk/cur/spam')))
    await backup({ ...t, source: t.src, defaultExcludes: false })
    const all = path.join(work.dir, `all${n}`)
    await restore({ ...t, target: all })
    await assertSameTree(t.src, all)
  })

  it('a FIFO is skipped with a note, never opened (sockets and devices take the same path)', async () => {
    const t = await fresh()
    await createTree(t.src, { 'INBOX/cur/m:2,S': 'mail' })
    execFileSync('mkfifo', [path.join(t.src, 'INBOX/fifo')])
    const s = await backup({ ...t, source: t.src })
    assert.deepEqual(s.skipped, [{ path: 'INBOX/fifo', reason: 'FIFO' }])
    assert.equal(s.filesAdded, 1)
    await restore({ ...t, target: t.out })
    assert.deepEqual((await fs.readdir(path.join(t.out, 'INBOX'))).sort(), ['cur'])
  })

  it('--dry-run writes nothing and says how much it would store', async () => {
    const t = await fresh()
    await makeMaildir(t.src, 10)
    const before = await fs.readdir(t.storage.root)
    const s = await backup({ ...t, source: t.src, dryRun: true })
    assert.equal(s.dryRun, true)
    assert.equal(s.snapshot, null)
    assert.ok(s.bytesNew > 0)
    assert.deepEqual(await fs.readdir(t.storage.root), before)
    await assert.rejects(fs.readdir(path.join(t.storage.root, 'packs')))
  })

  it('an unreadable file is listed, kept as before, and the run exits 3', async () => {
    const t = await fresh()
    await makeMaildir(t.src, 6)
    const secretFile = path.join(t.src, 'INBOX/cur/private-note:2,S')
    // seb runs as an unprivileged user when the tests run as root (root reads everything).
    const asRoot = process.getuid?.() === 0
    const runAs = asRoot ? 65534 : undefined
    if (asRoot) {
      for (const p of [work.dir, t.storage.root]) await fs.chmod(p, 0o777)
      await chownR(t.src, 65534)
      await chownR(t.storage.root, 65534)
      await fs.chmod(g.home, 0o755)
      for (const f of await fs.readdir(g.home)) await fs.chmod(path.join(g.home, f), 0o755).catch(() => {})
      await chownR(g.home, 65534)
      // The machine data (the repository key, the pins) as that user's own.
      await chownR(process.env.SEB_DATA_DIR!, 65534)
    }
    const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, `cli-cache${n}`), HOME: work.dir }
    const r1 = await runSeb(['backup', t.src, t.storage.root, '--json'], env, { uid: runAs })
    assert.equal(r1.code, 0, r1.stderr)
    await fs.chmod(secretFile, 0o000)
    await fs.utimes(secretFile, 1_700_000_000, 1_700_000_000) // changed: must be read again
    const r2 = await runSeb(['backup', t.src, t.storage.root], env, { uid: runAs })
    assert.equal(r2.code, 3, r2.stderr)
    assert.match(r2.stderr, /private-note:2,S: cannot read \(permission denied\)/)
    assert.match(r2.stderr, /private-note:2,S: not backed up \(permission denied\)/)
    await fs.chmod(secretFile, 0o600)
    if (asRoot) {
      await chownR(g.home, 0)
      await chownR(process.env.SEB_DATA_DIR!, 0)
    }
    const r = await restore({ ...t, target: t.out, cacheBase: path.join(work.dir, `rc${n}`) })
    assert.deepEqual(r.failed, [])
    assert.equal(await fs.readFile(path.join(t.out, 'INBOX/cur/private-note:2,S'), 'utf8'), 'mode 600\n')
    await assertSameTree(t.src, t.out, {
      ignore: (p) => isExcludedByDefault(p) || p === 'INBOX/cur/private-note:2,S' || p === 'INBOX/cur',
    })
  })
})

async function chownR(p: string | Buffer, uid: number): Promise<void> {
  const b = Buffer.from(p)
  await fs.lchown(b, uid, uid)
  const st = await fs.lstat(b)
  if (st.isDirectory())
    for (const e of (await fs.readdir(b, { encoding: 'buffer' })) as Buffer[])
      await chownR(Buffer.concat([b, Buffer.from('/'), e]), uid)
}
