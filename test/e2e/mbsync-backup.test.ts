// Why: issue 19's promise, against the real programs. mbsync rewrites every message it moves or
// downloads again (a new X-TUID line); seb stores those as twins. With a private Dovecot and mbsync
// started here: a server-side move of 100+ messages uploads less than 64 KiB + 300 B per message, a
// full re-download (local state and Maildir deleted) uploads no content (see the note at that test on
// issue 19's 2 %), and every restore is byte- and mtime-identical to mbsync's Maildir. The measured
// bytes are printed.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { restore } from '../../src/engine/restore.js'
import { LocalStorage } from '../../src/storage/local.js'
import { type Dovecot, startDovecot } from '../helpers/dovecot.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import type { ImapActor } from '../helpers/imap-actor.js'
import { generateMails } from '../helpers/mail-messages.js'
import { isExcludedByDefault } from '../helpers/maildir.js'
import { type Mbsync, mbsyncFor } from '../helpers/mbsync.js'
import { assertSameTree } from '../helpers/tree.js'

const MOVED = 110
const MESSAGES = 300

describe('seb backs up an mbsync Maildir (real Dovecot and mbsync)', () => {
  let server: Dovecot | undefined
  let actor: ImapActor | undefined
  let mb: Mbsync
  const g = makeGnupgHome()
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'seb-mbsync-backup-'))
  const storage = new LocalStorage(path.join(tmp, 'dest'))
  const cacheBase = path.join(tmp, 'cache')
  const measured: string[] = []
  let firstUpload = 0
  let restores = 0

  const run = async (what: string) => {
    const s = await backup({ source: mb.maildir, storage, cacheBase })
    measured.push(`${what}: ${s.bytesUploaded} B uploaded (index ${s.indexBytes} B, ${s.packsWritten} packs)`)
    return s
  }
  const restoredMatches = async () => {
    const target = path.join(tmp, `restored-${++restores}`)
    const r = await restore({ storage, target, cacheBase })
    assert.deepEqual(r.failed, [])
    await assertSameTree(mb.maildir, target, { ignore: isExcludedByDefault })
  }

  before(async () => {
    process.env.GNUPGHOME = g.home
    server = await startDovecot()
    actor = await server.connect()
    for (const m of generateMails(1919, MESSAGES))
      await actor.append('INBOX', m.bytes, m.flags, new Date(m.internalDate))
    mb = mbsyncFor(server, path.join(tmp, 'Mail'))
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
  })
  after(async () => {
    console.log(`mbsync backups: ${measured.join('; ')}`)
    await actor?.close()
    await server?.stop()
    if (!process.env.SEB_KEEP_TMP) {
      rmSync(tmp, { recursive: true, force: true })
      g.cleanup()
    } else console.log(`kept ${tmp} ${g.home}`)
  })

  it('the first backup restores byte- and mtime-identical', async () => {
    await mb.sync()
    const s = await run(`first backup (${MESSAGES} messages)`)
    firstUpload = s.bytesUploaded
    await restoredMatches()
  })

  it(`a server-side move of ${MOVED} messages uploads < 64 KiB + 300 B per message`, async () => {
    await actor!.createFolder('Archive')
    assert.equal((await actor!.moveMessages('INBOX', 'Archive', MOVED)).length, MOVED)
    await mb.sync()
    const s = await run(`move of ${MOVED}`)
    const limit = 64 * 1024 + 300 * MOVED
    measured.push(
      `move: ${(s.bytesUploaded / MOVED).toFixed(0)} B per message moved (limit ${limit} B in all)`,
    )
    assert.ok(s.bytesUploaded < limit, `the move uploaded ${s.bytesUploaded} B, limit ${limit}`)
    await restoredMatches()
  })

  // Issue 19 asks for < 2 % of the first backup. What a re-download costs is index only, some 120 bytes a
  // message (its new name, its hash, its base, its X-TUID, its hard link for a restore without seb):
  // under 1 % of real mail (12.9 kB a message compressed, as the issue measured), but the generated
  // messages here compress to 5–6 kB, where it is 2–2.6 %. So the bound checked is per message, and the
  // share is printed (docs/benchmarks.md).
  it('a full re-download uploads no content: < 160 B per message, index only', async () => {
    await mb.redownload()
    const s = await run('re-download')
    const share = s.bytesUploaded / firstUpload
    measured.push(
      `re-download: ${(s.bytesUploaded / MESSAGES).toFixed(0)} B per message, ${(share * 100).toFixed(2)} % of the first backup (${(firstUpload / MESSAGES).toFixed(0)} B per message)`,
    )
    assert.ok(s.bytesUploaded < 4096 + 160 * MESSAGES, `the re-download uploaded ${s.bytesUploaded} B`)
    assert.ok(share < 0.04, `the re-download uploaded ${(share * 100).toFixed(2)} % of the first backup`)
    await restoredMatches()
  })
})
