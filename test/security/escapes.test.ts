// Issue 17, family 10: terminal escapes. Lock objects are plaintext (a backup with the public key only
// must read them), so the attacker writes their host name and command; it also names objects and fills
// in manifest fields. Whatever seb prints of them is escaped: no ESC, BEL, CR, backspace or C1 control
// reaches the terminal, and the host name is still shown (escaped) so that the owner can tell who holds
// the lock. (A snapshot's host comes from the authenticated commit: seb has no --host option to give a
// real backup such a name, so that case is not tested here.)
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import type { SebRun } from '../helpers/cli.js'
import { tempDir } from '../helpers/tree.js'
import { Attacker, Destination, tamperManifest } from './attacker.js'
import { assertExit, assertKept, assertUnchanged, Exit, type Listing, listing } from './checks.js'
import { addMail, args, Machine, makeOwner, makeRepo, type Repo, World } from './victim.js'

const owner = makeOwner()
const attacker = Attacker.create([owner.publicKey])
const work = tempDir('seb-sec-escapes-')
const m = new Machine(work.dir, owner)
after(() => {
  attacker.cleanup()
  owner.cleanup()
  work.cleanup()
})

/** EVIL holds a screen clear, a title change, a carriage return, a backspace and a C1 CSI. */
const EVIL = 'evilhost\x1b[2J\x1b]0;owned\x07\rfake\bx\u009b31m'

/** assertEscaped: no control character but newline (and tab) in anything seb printed. */
function assertEscaped(r: SebRun, what: string): void {
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    const bad = [...text].filter((ch) => {
      const c = ch.codePointAt(0)!
      return (c < 0x20 && c !== 0x0a && c !== 0x09) || (c >= 0x7f && c <= 0x9f)
    })
    assert.deepEqual(
      bad.map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`),
      [],
      `${what}: raw control characters on ${stream}: ${JSON.stringify(text)}`,
    )
  }
}

describe('terminal escapes from the destination', () => {
  let repo: Repo
  let world: World
  let original: Listing

  before(async () => {
    repo = await makeRepo(m, {
      dest: path.join(work.dir, 'dest'),
      src: path.join(work.dir, 'src'),
      backups: 1,
    })
    world = new World([repo.dest, m.data, m.cache])
    await world.save()
    original = listing(repo.dest)
  })
  beforeEach(() => world.reset())

  it('a live lock whose host and command hold escape sequences: backup and snapshots exit 11 and show the host escaped; unlock --force prints it escaped', async () => {
    const now = new Date().toISOString()
    const name = 'e'.repeat(32)
    await fs.mkdir(path.join(repo.dest, 'locks'), { recursive: true })
    await fs.writeFile(
      path.join(repo.dest, 'locks', name),
      JSON.stringify({
        host: EVIL,
        machine: 'f'.repeat(32),
        pidns: 'pid:[4026531836]\x1b[2J',
        pid: 4242,
        command: 'backup\x1b[5m',
        kind: 'exclusive',
        exclusive: true,
        created: now,
        heartbeat: now,
      }),
    )
    await addMail(repo, 'escapes')
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    assertExit(b, Exit.Locked, 'backup')
    assertEscaped(b, 'backup')
    assert.match(b.stderr, /evilhost/, 'the lock holder is named')
    const s = await m.run(args(repo, 'snapshots', repo.dest))
    assertExit(s, Exit.Locked, 'snapshots')
    assertEscaped(s, 'snapshots')
    const u = await m.run(args(repo, 'unlock', repo.dest, '--force'))
    assertExit(u, Exit.Ok, 'unlock --force')
    assertEscaped(u, 'unlock --force')
    assert.match(u.stdout + u.stderr, new RegExp(name))
    assertKept(original, listing(repo.dest), 'unlock')
  })

  it('a manifest whose recipient and created fields hold escape sequences: refused with 14, printed escaped', async () => {
    tamperManifest(
      new Destination(repo.dest),
      attacker,
      (x) => ({
        ...x,
        created: `2026\x1b[2J`,
        encryption: { type: 'recipients', recipients: [`${attacker.fingerprint}\x1b]0;owned\x07`] },
      }),
      'keep',
    )
    const attacked = listing(repo.dest)
    for (const cmd of ['snapshots', 'backup'] as const) {
      const r = await m.run(
        args(repo, ...(cmd === 'backup' ? ['backup', repo.src, repo.dest] : ['snapshots', repo.dest])),
        { key: cmd === 'backup' ? 'public' : 'owner' },
      )
      assertExit(r, Exit.Untrusted, cmd)
      assertEscaped(r, cmd)
    }
    assertUnchanged(attacked, listing(repo.dest), 'the refused commands')
  })

  it('objects whose names hold escape sequences (in commits/, sigs/, locks/, packs/): not objects; nothing printed raw, nothing deleted', async () => {
    for (const rel of [
      'commits/0000000009-\x1b[2J\x07',
      'sigs/0000000009-\x1b]0;owned\x07',
      'locks/\x1b[2J',
      'packs/aa/\x1b[2Jaa',
    ]) {
      await fs.mkdir(path.dirname(path.join(repo.dest, rel)), { recursive: true })
      await fs.writeFile(path.join(repo.dest, rel), 'junk')
    }
    for (const [what, a, key] of [
      ['snapshots', ['snapshots', repo.dest], 'owner'],
      ['verify', ['verify', repo.dest], 'owner'],
      ['backup', ['backup', repo.src, repo.dest], 'public'],
    ] as const) {
      const r = await m.run(args(repo, ...a), { key })
      assertExit(r, Exit.Ok, what, what === 'verify' ? 'report' : 'line')
      assertEscaped(r, what)
    }
    assertKept(original, listing(repo.dest), 'the commands')
  })
})
