// Why: seb's twin storage rests on one observed fact about mbsync: a message moved on the server, or
// downloaded again, reaches the Maildir as a new file whose bytes differ from the old copy only in its
// X-TUID line. This checks that fact against the real programs (Dovecot, mbsync), through the harness
// the backup tests build on, and checks that header-noise's patches rebuild the real files exactly.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { isMessagePath, walkTree } from '../../bench/maildir-gen.js'
import { applyPatch, findNoise, makePatch, normalizedParts } from '../../src/core/header-noise.js'
import { readSearchHeaders } from '../../src/core/mail-headers.js'
import { type Dovecot, startDovecot } from '../helpers/dovecot.js'
import type { ImapActor } from '../helpers/imap-actor.js'
import { generateMails } from '../helpers/mail-messages.js'
import { mbsyncFor } from '../helpers/mbsync.js'

interface LocalMail {
  path: string
  bytes: Buffer
  mtimeMs: number
  raw: string
  normalized: string
}

async function readMaildir(root: string): Promise<LocalMail[]> {
  const out: LocalMail[] = []
  for (const e of await walkTree(root)) {
    if (!isMessagePath(e.path)) continue
    const bytes = readFileSync(path.join(root, e.path))
    const h = createHash('sha256')
    for (const part of normalizedParts(bytes, findNoise(bytes))) h.update(part)
    out.push({
      path: e.path,
      bytes,
      mtimeMs: e.mtimeMs,
      raw: createHash('sha256').update(bytes).digest('hex'),
      normalized: h.digest('hex'),
    })
  }
  return out
}

const inFolder = (mails: LocalMail[], folder: string) => mails.filter((m) => m.path.startsWith(`${folder}/`))

describe('mbsync against a real Dovecot', () => {
  let server: Dovecot | undefined
  let actor: ImapActor | undefined
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'seb-mbsync-'))

  before(async () => {
    server = await startDovecot()
    actor = await server.connect()
  })
  after(async () => {
    await actor?.close()
    await server?.stop()
    rmSync(tmp, { recursive: true, force: true })
  })

  it('a server-side move and a re-download give files that differ only in their X-TUID lines', async () => {
    const timings: string[] = []
    const time = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
      const t0 = performance.now()
      const v = await f()
      timings.push(`${what} ${(performance.now() - t0).toFixed(0)} ms`)
      return v
    }
    const mails = generateMails(2026, 150)
    const total = mails.reduce((n, m) => n + m.bytes.length, 0)
    await time(`APPEND ${mails.length} messages (${(total / 1e6).toFixed(1)} MB)`, async () => {
      for (const m of mails) await actor!.append('INBOX', m.bytes, m.flags, new Date(m.internalDate))
    })
    const mb = mbsyncFor(server!, path.join(tmp, 'Mail'))

    // First sync: every message once, each with one noise line, its headers readable, mtime = arrival.
    await time('mbsync first sync', () => mb.sync())
    const first = await readMaildir(mb.maildir)
    assert.equal(first.length, mails.length)
    const byMessageId = new Map(
      mails.filter((m) => m.expected.messageId).map((m) => [m.expected.messageId, m]),
    )
    for (const f of first) {
      const noise = findNoise(f.bytes)
      assert.equal(noise?.length, 1, `${f.path}: one noise line`)
      assert.match(f.bytes.subarray(noise![0]!.start, noise![0]!.end).toString(), /^X-TUID: \S{12}\n$/)
      const h = readSearchHeaders(f.bytes)!
      const sent = h.messageId ? byMessageId.get(h.messageId) : undefined
      if (sent) {
        assert.deepEqual(h, sent.expected, `${f.path}: headers as sent`)
        assert.equal(
          f.mtimeMs,
          Math.floor(sent.internalDate / 1000) * 1000,
          `${f.path}: mtime = arrival date`,
        )
      }
    }
    assert.equal(new Set(first.map((f) => f.normalized)).size, first.length)

    // A person archives 100 messages on the server; mbsync brings the move down.
    await actor!.createFolder('Archive')
    const moved = await time('UID MOVE 100 messages', () => actor!.moveMessages('INBOX', 'Archive', 100))
    assert.equal(moved.length, 100)
    await time('mbsync after the move', () => mb.sync())
    const second = await readMaildir(mb.maildir)
    const archived = inFolder(second, 'Archive')
    const kept = inFolder(second, 'INBOX')
    assert.equal(archived.length, 100)
    assert.equal(kept.length, 50)
    const firstByPath = new Map(first.map((f) => [f.path, f]))
    for (const k of kept) assert.equal(firstByPath.get(k.path)?.raw, k.raw, `${k.path} untouched`)
    const firstByNormalized = new Map(first.map((f) => [f.normalized, f]))
    for (const a of archived) {
      const old = firstByNormalized.get(a.normalized)
      assert.ok(old, `${a.path}: same content as an earlier file once X-TUID is set aside`)
      assert.ok(old.path.startsWith('INBOX/'))
      assert.notEqual(a.raw, old.raw, `${a.path}: not byte-identical (a new X-TUID)`)
      assert.equal(a.bytes.length, old.bytes.length, 'same size')
      assert.equal(a.mtimeMs, old.mtimeMs, 'same mtime')
      const rebuilt = applyPatch(old.bytes, findNoise(old.bytes), makePatch(a.bytes, findNoise(a.bytes)))
      assert.deepEqual(rebuilt, a.bytes, `${a.path}: patched from its twin`)
    }

    // A new laptop: everything downloaded again, every file a twin of one seen before.
    await time('mbsync re-download', () => mb.redownload())
    const third = await readMaildir(mb.maildir)
    assert.equal(third.length, mails.length)
    const seenNormalized = new Set([...first, ...second].map((f) => f.normalized))
    const seenRaw = new Set([...first, ...second].map((f) => f.raw))
    for (const f of third) {
      assert.ok(seenNormalized.has(f.normalized), `${f.path}: a twin of an earlier file`)
      assert.ok(!seenRaw.has(f.raw), `${f.path}: with new bytes`)
    }
    console.log(`mbsync harness: ${timings.join('; ')}`)
  })

  it('a flag change is a rename in place, an expunge a deletion', async () => {
    const mb = mbsyncFor(server!, path.join(tmp, 'Laptop2'))
    await actor!.createFolder('Work')
    for (const m of generateMails(7, 5)) await actor!.append('Work', m.bytes, [], new Date(m.internalDate))
    assert.deepEqual(await actor!.list(), ['Archive', 'INBOX', 'Work'])
    await mb.sync()
    const before = inFolder(await readMaildir(mb.maildir), 'Work')
    assert.equal(before.length, 5)
    for (const f of before)
      assert.match(f.path, /^Work\/new\/[^/]+,U=\d+:2,$/, 'unread mail in new/, no flags')
    const uids = await actor!.uids('Work')
    await actor!.setFlags('Work', uids.slice(0, 2), ['\\Seen', '\\Flagged'])
    await actor!.expunge('Work', [uids[4]!])
    await mb.sync()
    const after = inFolder(await readMaildir(mb.maildir), 'Work')
    assert.equal(after.length, 4)
    const baseName = (p: string) => path.basename(p).replace(/:2,.*$/, '')
    const beforeByBase = new Map(before.map((f) => [baseName(f.path), f]))
    let renamed = 0
    for (const f of after) {
      const old = beforeByBase.get(baseName(f.path))
      assert.ok(old, `${f.path}: same base name as before`)
      assert.equal(f.raw, old.raw, 'same bytes')
      assert.equal(f.mtimeMs, old.mtimeMs, 'same mtime')
      if (f.path !== old.path) {
        assert.match(f.path, /^Work\/cur\/.*:2,FS$/)
        renamed++
      }
    }
    assert.equal(renamed, 2)
  })
})
