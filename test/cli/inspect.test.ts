// ls, find and stats: what a repository holds, read as a user would, with exact answers checked
// against the Maildir that was backed up.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

describe('ls, find, stats', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  let first = ''
  let second = ''
  const moved = 'INBOX/cur/1400000000_0.2000.laptop,U=0,FMD5=abc:2,RS'
  before(async () => {
    await makeMaildir(src, 40)
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
    const b1 = await runSeb(['backup', src, dest, '--json'], env)
    assert.equal(b1.code, 0, b1.stderr)
    first = JSON.parse(b1.stdout.trim().split('\n').pop()!).snapshot
    // Second snapshot: one message moved to Archive, one deleted, one new.
    await fs.rename(
      path.join(src, moved),
      path.join(src, 'Archive.2019/cur/1400000000_0.2000.laptop,U=0,FMD5=abc:2,RS'),
    )
    await fs.rm(path.join(src, 'Sent/cur/1400086400.1001_1.laptop,U=1:2,S'))
    await fs.writeFile(path.join(src, 'INBOX/new/1800000000.new.laptop'), 'Subject: new\n\nhello\n')
    const b2 = await runSeb(['backup', src, dest, '--json'], env)
    assert.equal(b2.code, 0, b2.stderr)
    second = JSON.parse(b2.stdout.trim().split('\n').pop()!).snapshot
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('ls lists the latest snapshot: size, date and path of each entry, then a total', async () => {
    const r = await runSeb(['ls', dest], env)
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.match(lines.pop()!, new RegExp(`^snapshot ${second} \\(.*\\): 46 files, `))
    const note = lines.find((l) => l.endsWith('INBOX/cur/private-note:2,S'))
    assert.match(note!, /^\s+9 B {2}2020-09-13 12:26 {2}INBOX\/cur\/private-note:2,S$/)
    assert.ok(lines.some((l) => /^\s+folder .* INBOX\/$/.test(l)))
    assert.ok(lines.some((l) => l.endsWith('Sent/inbox-link -> ../INBOX/cur')))
    assert.ok(lines.some((l) => l.endsWith('INBOX/new/1800000000.new.laptop')))
    assert.ok(!lines.some((l) => l.endsWith(moved)))
  })

  it('ls --snapshot ID with globs: only matching paths of that snapshot', async () => {
    const r = await runSeb(['ls', dest, 'INBOX/cur/*', '--snapshot', first, '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const objs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const files = objs.filter((o) => o.type === 'file')
    assert.ok(files.length > 0)
    for (const f of files) assert.match(f.path, /^INBOX\/cur\/[^/]+$/)
    assert.ok(files.some((f) => f.path === moved))
    const sum = objs.pop()
    assert.equal(sum.snapshot, first)
    assert.equal(sum.files, files.length)
    // A glob without "/" matches a name at any depth.
    const any = await runSeb(['ls', dest, 'dovecot-uidlist'], env)
    assert.match(any.stdout, /INBOX\/dovecot-uidlist\n/)
    assert.match(any.stdout, /: 1 file, 8 B matching dovecot-uidlist\n$/)
  })

  it('ls with an unknown snapshot: usage error (2)', async () => {
    const r = await runSeb(['ls', dest, '--snapshot', 'ffffffff'], env)
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--snapshot ffffffff: no such snapshot/)
  })

  it('find: which snapshots hold a file, under which path', async () => {
    const r = await runSeb(['find', dest, '1400000000_0.2000*'], env)
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.equal(lines.pop(), '2 matches in 2 snapshots')
    assert.match(
      lines[0]!,
      new RegExp(
        `^${first} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +[\\d.]+ (B|KiB)  INBOX/cur/1400000000_0`,
      ),
    )
    assert.match(lines[1]!, new RegExp(`^${second} .*  Archive\\.2019/cur/1400000000_0`))
    const gone = await runSeb(['find', dest, '1400086400.1001_1*', '--json'], env)
    const matches = gone.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((o) => o.type === 'match')
    assert.deepEqual(
      matches.map((m) => m.snapshot),
      [first],
    )
    const none = await runSeb(['find', dest, 'no-such-message*'], env)
    assert.equal(none.code, 0)
    assert.equal(none.stdout, 'nothing matches no-such-message* in any snapshot\n')
  })

  it('stats: files, bytes, packs, pack bytes, dead space, compression ratio, snapshots', async () => {
    const r = await runSeb(['stats', dest, '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const s = JSON.parse(r.stdout.trim())
    assert.equal(s.snapshots, 2)
    assert.equal(s.files, 46)
    let packBytes = 0
    let packs = 0
    for (const d of await fs.readdir(path.join(dest, 'packs')))
      for (const p of await fs.readdir(path.join(dest, 'packs', d))) {
        packs++
        packBytes += (await fs.stat(path.join(dest, 'packs', d, p))).size
      }
    assert.equal(s.packs, packs)
    assert.equal(s.packBytes, packBytes)
    assert.equal(s.compressionRatio, Math.round((s.contentBytes / s.packBytes) * 100) / 100)
    assert.equal(s.deadBytes, 0) // the deleted message is still within retention
    assert.equal(s.indexObjects, (await fs.readdir(path.join(dest, 'commits'))).length)
    const text = await runSeb(['stats', dest], env)
    assert.match(text.stdout, /^snapshots: +2$/m)
    assert.match(text.stdout, /^files: +46 \(latest snapshot\)$/m)
    assert.match(text.stdout, new RegExp(`^packs: +${packs}, `, 'm'))
    assert.match(text.stdout, /^compression ratio: +\d+\.\d\dx/m)
    assert.match(text.stdout, /^dead space: +0 B/m)
  })
})
