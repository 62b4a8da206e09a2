// Paths given in the wrong place get one line that says what is wrong, never advice that does not fit
// (issue 15): swapped backup arguments, a repository that is not where a read command looks (a typo,
// a disk not mounted: "run seb init" is no fix there), `seb init` on a folder of other things, and a
// restore target that cannot be a folder. Each: the exit code, one line, nothing written.
import assert from 'node:assert/strict'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { assertOneLine } from './one-line.js'

/** listing returns every path below `dir`, sorted (what "nothing written" compares). */
async function listing(dir: string): Promise<string[]> {
  return ((await fs.readdir(dir, { recursive: true })) as string[]).sort()
}

describe('paths in the wrong place', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const mail = path.join(work.dir, 'Mail')
  const repo = path.join(work.dir, 'backups', 'mail')
  const xdg = path.join(work.dir, 'xdg')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache'), XDG_CONFIG_HOME: xdg }
  const fpr = g.keys[0]!.fingerprint
  before(async () => {
    await makeMaildir(mail, 8)
    assert.equal((await runSeb(['init', repo, '--recipient', fpr], env)).code, 0)
    const b = await runSeb(['backup', mail, repo], env)
    assert.equal(b.code, 0, b.stderr)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  describe('swapped backup arguments (exit 2)', () => {
    it('seb backup REPOSITORY MAILDIR: both reasons named, neither touched', async () => {
      const mailBefore = await listing(mail)
      const repoBefore = await listing(repo)
      const line = assertOneLine(
        await runSeb(['backup', repo, mail], env),
        2,
        /^seb: the arguments look swapped: .*backups\/mail is a seb repository and .*Mail looks like a mail folder \(\S+\/cur, new and tmp\); the order is 'seb backup SRC DEST'/,
      )
      assert.doesNotMatch(line, /seb init/)
      assert.deepEqual(await listing(mail), mailBefore)
      assert.deepEqual(await listing(repo), repoBefore)
    })

    it('the short form swapped: no repository is created inside the mail folder', async () => {
      const mailBefore = await listing(mail)
      assertOneLine(
        await runSeb([repo, mail, '--recipient', fpr], env),
        2,
        /^seb: the arguments look swapped: .* is a seb repository/,
      )
      assert.deepEqual(await listing(mail), mailBefore)
    })

    it('a destination that is a Maildir (the source a plain folder) is refused too', async () => {
      const plain = path.join(work.dir, 'plain')
      await fs.mkdir(plain, { recursive: true })
      await fs.writeFile(path.join(plain, 'note.txt'), 'x')
      const mailBefore = await listing(mail)
      assertOneLine(
        await runSeb(['backup', plain, mail], env),
        2,
        /^seb: the arguments look swapped: .*Mail looks like a mail folder \(\S+\/cur, new and tmp\)/,
      )
      assert.deepEqual(await listing(mail), mailBefore)
    })
  })

  describe("no repository where a read command looks: what is missing, not 'seb init' (exit 10)", () => {
    it('restore from a mistyped path names the part that does not exist; the target is not made', async () => {
      const target = path.join(work.dir, 'r-typo')
      const line = assertOneLine(
        await runSeb(['restore', path.join(work.dir, 'backups', 'mial'), target], env),
        10,
        /backups\/mial: no seb repository here: no such folder \(.*backups exists, mial in it does not\); check the path/,
      )
      assert.doesNotMatch(line, /seb init/)
      assert.equal(existsSync(target), false)
    })

    it('snapshots of a mistyped path, and of a folder that is no repository', async () => {
      assert.doesNotMatch(
        assertOneLine(
          await runSeb(['snapshots', path.join(work.dir, 'nowhere', 'mail')], env),
          10,
          /no seb repository here: no such folder/,
        ),
        /seb init/,
      )
      assert.doesNotMatch(
        assertOneLine(
          await runSeb(['snapshots', mail], env),
          10,
          /Mail: no seb repository here: the folder exists, but it has no 'config' file; check the path/,
        ),
        /seb init/,
      )
    })

    it('ls, find, stats and verify say the same', async () => {
      const typo = path.join(work.dir, 'backups', 'mial')
      for (const argv of [
        ['ls', typo],
        ['find', typo, '*x*'],
        ['stats', typo],
        ['verify', typo],
      ])
        assertOneLine(await runSeb(argv, env), 10, /no seb repository here: no such folder/)
    })

    it('backup --all: a profile whose destination parent is missing says so, creates nothing', async () => {
      const file = path.join(work.dir, 'usb.yaml')
      const gone = path.join(work.dir, 'usb-disk', 'seb', 'mail')
      await fs.writeFile(
        file,
        `profiles:\n  usb:\n    source: ${mail}\n    destination: ${gone}\n    recipients: [${fpr}]\n`,
      )
      const r = await runSeb(['backup', '--all'], { ...env, SEB_CONFIG: file })
      assert.equal(r.code, 10, r.stderr)
      const lines = r.stderr.trim().split('\n')
      assert.equal(lines.length, 1, r.stderr)
      assert.match(
        lines[0]!,
        /^seb: usb: .*usb-disk\/seb\/mail: no seb repository here: no such folder \(.* exists, usb-disk in it does not\); check the path, or mount the disk$/,
      )
      assert.equal(existsSync(path.join(work.dir, 'usb-disk')), false)
    })

    it('a plain backup to a folder that does not exist yet still advises seb init', async () => {
      const fresh = path.join(work.dir, 'backups', 'new-repo')
      assertOneLine(
        await runSeb(['backup', mail, fresh], env),
        10,
        /new-repo: no seb repository here \(run 'seb init .*new-repo --recipient KEY' first\)/,
      )
    })
  })

  describe('seb init on a folder that is not empty (exit 2)', () => {
    it('a folder of mail: refused, nothing written', async () => {
      const before = await listing(mail)
      assertOneLine(
        await runSeb(['init', mail, '--recipient', fpr], env),
        2,
        /Mail: the folder is not empty \(Archive\.2019, INBOX, Sent, …\) and is not a seb repository; give a new or empty folder/,
      )
      assert.deepEqual(await listing(mail), before)
    })

    it("a folder whose 'config' is someone else's: refused, that file untouched", async () => {
      const d = path.join(work.dir, 'other-app')
      await fs.mkdir(d)
      await fs.writeFile(path.join(d, 'config'), 'not json\n')
      assertOneLine(
        await runSeb(['init', d, '--recipient', fpr], env),
        2,
        /other-app: the folder is not empty \(config\)/,
      )
      assert.equal(await fs.readFile(path.join(d, 'config'), 'utf8'), 'not json\n')
    })

    it('a fresh disk (only lost+found) and an empty folder are accepted', async () => {
      const disk = path.join(work.dir, 'fresh-disk')
      await fs.mkdir(path.join(disk, 'lost+found'), { recursive: true })
      const r = await runSeb(['init', disk, '--recipient', fpr], env)
      assert.equal(r.code, 0, r.stderr)
      await fs.access(path.join(disk, 'config'))
      const empty = path.join(work.dir, 'empty')
      await fs.mkdir(empty)
      assert.equal((await runSeb(['init', empty, '--recipient', fpr], env)).code, 0)
    })
  })

  describe('a restore target that cannot be a folder (exit 2, nothing read or written)', () => {
    it('an existing file', async () => {
      const f = path.join(work.dir, 'a-file')
      await fs.writeFile(f, 'keep me\n')
      assertOneLine(
        await runSeb(['restore', repo, f], env),
        2,
        /a-file: exists and is a file; restore into a new or empty folder$/,
      )
      assert.equal(await fs.readFile(f, 'utf8'), 'keep me\n')
    })

    it('a path under a file', async () => {
      const f = path.join(work.dir, 'b-file')
      await fs.writeFile(f, 'keep me\n')
      assertOneLine(
        await runSeb(['restore', repo, path.join(f, 'r')], env),
        2,
        /b-file\/r: .*b-file is a file, not a folder; restore into a new or empty folder$/,
      )
      assert.equal(await fs.readFile(f, 'utf8'), 'keep me\n')
    })

    it('/proc/x: one line at once (it used to spin at full CPU and survive SIGTERM)', {
      skip: existsSync('/proc/self') ? false : 'no /proc here',
    }, async () => {
      const t0 = Date.now()
      assertOneLine(
        await runSeb(['restore', repo, '/proc/x'], env),
        2,
        /^seb: \/proc\/x: cannot restore there: nothing can be created in \/proc \(its filesystem does not hold files\); choose a folder on a writable disk$/,
      )
      assert.ok(Date.now() - t0 < 15_000)
    })

    it('the probe leaves nothing behind in the folder it tried', async () => {
      const parent = path.join(work.dir, 'restores')
      await fs.mkdir(parent)
      const r = await runSeb(['restore', repo, path.join(parent, 'r1')], env)
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(await fs.readdir(parent), ['r1'])
    })
  })
})
