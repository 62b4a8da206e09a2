// Issue 17, family 8: crafted packs for the manual restore. docs/design.md's "Restore without seb" is a
// shell procedure run with the system gpg, zstd and tar only; the destination is hostile, and the
// attacker can encrypt to the owner's public key. This test extracts the procedure's shell block from
// the document at test time (so it follows the doc, whatever the doc says today), points it at a copy
// of the owner's real destination with the attacker's packs and commits added, runs it verbatim in a
// fresh folder with the owner's key, and checks that nothing outside the restore folder was written,
// replaced, linked or re-timed — and that the owner's mail still comes back.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SECRET_BODY, SECRET_NAME } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { Attacker, commitTar, type Member, tar, zstd } from './attacker.js'
import { Machine, makeOwner, makeRepo, type Repo } from './victim.js'

const DESIGN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../docs/design.md')

/** manualProcedure is the first fenced block after the "Restore without seb" heading of docs/design.md. */
export function manualProcedure(doc = readFileSync(DESIGN, 'utf8')): string {
  const at = doc.search(/^## Restore without seb\s*$/m)
  assert.ok(at >= 0, 'docs/design.md has no "## Restore without seb" section')
  const m = /^```[a-z]*\n([\s\S]*?)^```\s*$/m.exec(doc.slice(at))
  assert.ok(m, 'no shell block under "Restore without seb"')
  assert.match(m[1]!, /\/backup\b/, 'the procedure names the destination /backup')
  return m[1]!
}

const owner = makeOwner()
const attacker = Attacker.create([owner.publicKey])
const work = tempDir('seb-sec-manual-')
const m = new Machine(work.dir, owner)
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

/** Snapshot of the folder outside the target: every entry with its kind, bytes, mtime, inode and links. */
async function outsideState(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (rel: string) => {
    for (const n of (await fs.readdir(path.join(dir, rel))).sort()) {
      const r = rel ? `${rel}/${n}` : n
      const st = await fs.lstat(path.join(dir, r))
      const kind = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'
      const data = kind === 'f' ? (await fs.readFile(path.join(dir, r))).toString('hex') : ''
      out.push(`${kind} ${r} ino=${st.ino} nlink=${st.nlink} mtime=${st.mtimeMs} ${data}`)
      if (kind === 'd') await walk(r)
    }
  }
  await walk('')
  return out
}

describe('the manual restore of docs/design.md on crafted packs', () => {
  let repo: Repo
  let n = 0
  const procedure = manualProcedure()

  before(async () => {
    repo = await makeRepo(m, {
      dest: path.join(work.dir, 'dest'),
      src: path.join(work.dir, 'src'),
      backups: 2,
    })
  })

  /**
   * attack copies the owner's destination, adds the attacker's packs (named so that the shell's glob
   * takes them in the order given: first before every real pack, last after) and commits (after every
   * real commit), runs the procedure, and checks the folder beside the target.
   */
  const attack = async (o: { packs?: Member[][]; commits?: Buffer[]; hidesInbox?: boolean }) => {
    const root = path.join(work.dir, `case-${++n}`)
    const dest = path.join(root, 'backup')
    const parent = path.join(root, 'here')
    const outside = path.join(root, 'outside')
    await fs.cp(repo.dest, dest, { recursive: true })
    await fs.mkdir(parent, { recursive: true })
    await fs.mkdir(path.join(outside, 'INBOX'), { recursive: true })
    await fs.writeFile(path.join(outside, 'keep'), 'do not touch\n')
    await fs.writeFile(path.join(outside, 'INBOX/keep'), 'do not touch either\n')
    await fs.utimes(path.join(outside, 'keep'), 1_600_000_000, 1_600_000_000)
    const before = await outsideState(outside)
    const enc = (b: Buffer) => attacker.encryptTo([owner.fingerprint], b)
    for (const [i, members] of (o.packs ?? []).entries()) {
      const first = i === 0 ? '00' : 'ff'
      const name = `${first}${randomBytes(31).toString('hex')}`
      await fs.mkdir(path.join(dest, 'packs', first), { recursive: true })
      await fs.writeFile(path.join(dest, 'packs', first, name), enc(zstd(tar(members, { end: true }))))
    }
    for (const [i, t] of (o.commits ?? []).entries()) {
      await fs.mkdir(path.join(dest, 'commits'), { recursive: true })
      await fs.writeFile(
        path.join(dest, 'commits', `${String(9_999_999_990 + i)}-${randomBytes(8).toString('hex')}`),
        enc(zstd(t)),
      )
    }
    const script = procedure.replaceAll('/backup', dest)
    const r = spawnSync('bash', ['-c', script], {
      cwd: parent,
      env: { ...process.env, GNUPGHOME: owner.home },
      encoding: 'utf8',
      timeout: 120_000,
    })
    const restored = path.join(parent, 'restored')
    assert.deepEqual(await outsideState(outside), before, `written outside the target:\n${r.stderr}`)
    // Nothing else beside the target either (the procedure's own folder is the only new entry).
    assert.deepEqual((await fs.readdir(root)).sort(), ['backup', 'here', 'outside'])
    assert.deepEqual(await fs.readdir(parent), ['restored'])
    // The owner's mail comes back all the same (unless the attacker's own INBOX link takes its place:
    // the attacker can always destroy, never write outside).
    if (o.hidesInbox) return { restored, outside, r }
    const secret = await fs.readFile(path.join(restored, 'INBOX/cur', SECRET_NAME), 'utf8').catch(() => '')
    assert.ok(secret.includes(SECRET_BODY), `the owner's mail was not restored:\n${r.stderr}`)
    return { restored, outside, r }
  }

  it("the procedure, on the owner's destination as it is, restores the owner's mail", async () => {
    await attack({})
  })

  it('a symlink INBOX -> a folder outside in one pack, INBOX/evil in another (and Junk -> ../../outside, Junk/evil): nothing is written outside', async () => {
    const abs = path.join(work.dir, `case-${n + 1}`, 'outside')
    await attack({
      packs: [
        [
          { name: 'INBOX', type: 'symlink', link: abs },
          { name: 'Junk', type: 'symlink', link: '../../outside' },
        ],
        [
          { name: 'INBOX/evil', data: Buffer.from('pwned\n') },
          { name: 'INBOX/keep', data: Buffer.from('pwned\n'), mtime: 2_000_000_000 },
          { name: 'Junk/evil', data: Buffer.from('pwned\n') },
        ],
      ],
      hidesInbox: true,
    })
  })

  it('the same with the file first and the symlink last (the other order of pack names)', async () => {
    const abs = path.join(work.dir, `case-${n + 1}`, 'outside')
    await attack({
      packs: [
        [{ name: 'Drafts/evil', data: Buffer.from('pwned\n') }],
        [
          { name: 'Drafts', type: 'symlink', link: abs },
          { name: 'Drafts/evil2', data: Buffer.from('pwned\n') },
        ],
      ],
    })
  })

  it('hard links in a commit to a file outside (absolute, ../ and INBOX/../../ names), then files written over them: nothing outside is linked or changed', async () => {
    const abs = path.join(work.dir, `case-${n + 1}`, 'outside', 'keep')
    const links = [
      { name: 'INBOX/h-abs', target: abs },
      { name: 'INBOX/h-dot', target: '../outside/keep' },
      { name: 'h-deep', target: 'INBOX/../../outside/keep' },
    ]
    const over = tar([
      { name: 'INBOX/h-abs', data: Buffer.from('pwned\n'), mtime: 2_000_000_000 },
      { name: 'h-deep', data: Buffer.from('pwned\n'), mtime: 2_000_000_000 },
    ])
    await attack({ commits: [commitTar(9_999_999_990, Buffer.from('{}\n'), links), over] })
  })

  it('absolute and .. member names in packs: nothing is written outside', async () => {
    const abs = path.join(work.dir, `case-${n + 1}`, 'outside')
    await attack({
      packs: [
        [
          { name: `${abs}/abs-evil`, data: Buffer.from('pwned\n') },
          { name: '../outside/dotdot-evil', data: Buffer.from('pwned\n') },
          { name: 'INBOX/../../outside/deep-evil', data: Buffer.from('pwned\n') },
          { name: './../outside/dot-evil', data: Buffer.from('pwned\n') },
          { name: 'x', pax: { path: '../outside/pax-evil' }, data: Buffer.from('pwned\n') },
        ],
      ],
    })
  })

  it('mtime records naming paths through a symlink, with .., or absolute: nothing outside is replaced or re-timed', async () => {
    const abs = path.join(work.dir, `case-${n + 1}`, 'outside')
    const records = [
      'Link/keep',
      'Link/INBOX/keep',
      '../outside/keep',
      `${abs}/keep`,
      'INBOX/../../outside/keep',
    ]
    const mtimes = Buffer.from(records.map((p) => `${p}\u00001\u0000`).join(''))
    await attack({
      packs: [[{ name: 'Link', type: 'symlink', link: abs }]],
      commits: [commitTar(9_999_999_990, Buffer.from('{}\n'), [], mtimes)],
    })
  })
})
