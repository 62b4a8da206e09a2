// A pattern that matches nothing is answered with the one probably meant (issue 15): `INBOX/cur/*` in a
// tree with one folder per account, a message id without wildcards. ls notes it (exit 0), find notes it
// (exit 0) or, for a bare name, fails (exit 1), restore refuses (exit 2) with the target untouched. And
// restore's help says what it does with a non-empty target, which is what it does.
import assert from 'node:assert/strict'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { checkLine } from './json-schema.js'
import { assertOneLine } from './one-line.js'

describe('patterns that match nothing', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'Mail')
  const dest = path.join(work.dir, 'dest')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  const id = '1400000000_0.2000'
  let snapshot = ''
  before(async () => {
    await makeMaildir(path.join(src, 'work'), 8)
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
    const b = await runSeb(['backup', src, dest, '--json'], env)
    assert.equal(b.code, 0, b.stderr)
    snapshot = JSON.parse(b.stdout.trim().split('\n').pop()!).snapshot
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it("ls 'INBOX/cur/*' in a tree of accounts: exit 0, the summary, and one note with the glob meant", async () => {
    const r = await runSeb(['ls', dest, 'INBOX/cur/*'], env)
    assertOneLine(r, 0, /^seb: note: 0 files match 'INBOX\/cur\/\*'; did you mean '\*\*\/INBOX\/cur\/\*'\?$/)
    assert.match(r.stdout, /: 0 files, 0 B matching INBOX\/cur\/\*\n$/)
    const meant = await runSeb(['ls', dest, '**/INBOX/cur/*'], env)
    assert.match(meant.stdout, /work\/INBOX\/cur\//)
    assert.equal(meant.stderr, '')
    const j = await runSeb(['ls', dest, 'INBOX/cur/*', '--json'], env)
    const objs = j.stdout.trim().split('\n')
    for (const l of objs) assert.deepEqual(checkLine(l), [], l)
    assert.match(JSON.parse(objs[0]!).message, /did you mean '\*\*\/INBOX\/cur\/\*'/)
  })

  it('find with an anchored glob that matches nothing: exit 0, with a note', async () => {
    const r = await runSeb(['find', dest, 'INBOX/cur/*'], env)
    assertOneLine(r, 0, /^seb: note: 0 files match 'INBOX\/cur\/\*'; did you mean '\*\*\/INBOX\/cur\/\*'\?$/)
    assert.equal(r.stdout, 'nothing matches INBOX/cur/* in any snapshot\n')
  })

  it('find with a bare message id that matches nothing: exit 1, suggesting *ID*', async () => {
    const r = await runSeb(['find', dest, id], env)
    assertOneLine(r, 1, new RegExp(`^seb: 0 files match '${id}'; did you mean '\\*${id}\\*'\\?$`))
    assert.equal(r.stdout, `nothing matches ${id} in any snapshot\n`)
    const meant = await runSeb(['find', dest, `*${id}*`], env)
    assert.equal(meant.code, 0, meant.stderr)
    assert.match(meant.stdout, /^1 match in 1 snapshot$/m)
    const j = await runSeb(['find', dest, id, '--json'], env)
    assert.equal(j.code, 1)
    const objs = j.stdout.trim().split('\n')
    for (const l of objs) assert.deepEqual(checkLine(l), [], l)
    assert.deepEqual(
      objs.map((l) => JSON.parse(l)).map((o) => [o.type, o.command ?? o.code]),
      [
        ['summary', 'find'],
        ['error', 'no-match'],
      ],
    )
  })

  it('find with a bare name that does match: exit 0', async () => {
    const r = await runSeb(['find', dest, 'dovecot-uidlist'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /work\/INBOX\/dovecot-uidlist\n1 match in 1 snapshot\n$/)
  })

  it("restore 'INBOX/cur/*': usage error (2) naming the glob meant, the target not made", async () => {
    const target = path.join(work.dir, 'r-none')
    assertOneLine(
      await runSeb(['restore', dest, target, 'INBOX/cur/*'], env),
      2,
      new RegExp(
        `^seb: 0 files in snapshot ${snapshot} match 'INBOX/cur/\\*'; did you mean '\\*\\*/INBOX/cur/\\*'\\?$`,
      ),
    )
    assert.equal(existsSync(target), false)
  })

  it('restore help says what a non-empty target gets; a merge without conflicts and a conflict behave so', async () => {
    const help = await runSeb(['restore', '--help'], env)
    assert.match(help.stdout, /A non-empty TARGET is accepted when nothing in it would be overwritten/)
    assert.match(help.stdout, /--overwrite replaces such files instead/)
    assert.doesNotMatch(help.stdout, /new or empty, unless --overwrite/)
    const target = path.join(work.dir, 'r-merge')
    await fs.mkdir(target)
    await fs.writeFile(path.join(target, 'mine.txt'), 'mine\n')
    const merged = await runSeb(['restore', dest, target, '**/Sent/**'], env)
    assert.equal(merged.code, 0, merged.stderr)
    assert.equal(await fs.readFile(path.join(target, 'mine.txt'), 'utf8'), 'mine\n')
    assert.ok(existsSync(path.join(target, 'work', 'Sent', 'cur')))
    const before = ((await fs.readdir(target, { recursive: true })) as string[]).sort()
    const conflict = await runSeb(['restore', dest, target], env)
    assertOneLine(conflict, 2, /already exists; restore into an empty folder, or add --overwrite/)
    assert.deepEqual(((await fs.readdir(target, { recursive: true })) as string[]).sort(), before)
  })
})
