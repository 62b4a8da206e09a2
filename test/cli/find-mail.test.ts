// Issue 19 through the CLI, with real gpg: a message deleted two backups ago is found by two words of
// its (RFC 2047 encoded) subject and by its sender, and restored by its Message-ID byte- and
// mtime-identical, into a folder or into a live Maildir that Python's mailbox module lists; a message
// that differs from a stored one only in mbsync's X-TUID line uploads no content and restores exact;
// headers.jsonl is rebuilt from the commits when lost; bad input is one line and a documented code.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { generateMails, insertHeaderLine, tuidValue } from '../helpers/mail-messages.js'
import { manualRestore } from '../helpers/manual-restore.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

const CRLF = (lines: string[]) => Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1')

// The landlord's mail: a Q-encoded ISO-8859-1 subject, a B-encoded UTF-8 sender, a folded To, CRLF.
const LANDLORD = Buffer.concat([
  CRLF([
    'Return-Path: <landlord@immo.example.fr>',
    'Received: from mx.immo.example.fr (mx.immo.example.fr [192.0.2.7])',
    '\tby imap.example.org; Tue, 06 Oct 2026 09:12:00 +0200',
    `From: =?UTF-8?B?${Buffer.from('Gérard Propriétaire').toString('base64')}?= <landlord@immo.example.fr>`,
    'To: Sam Tenant <sam@example.org>,',
    ' Alex Tenant <alex@example.org>',
    'Subject: =?ISO-8859-1?Q?Loyer_d=27octobre_et_d=E9p=F4t_de?=',
    ' =?ISO-8859-1?Q?_garantie?=',
    'Date: Tue, 06 Oct 2026 09:11:58 +0200',
    'Message-ID: <rent-2026-10.4711@immo.example.fr>',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=iso-8859-1',
    'Content-Transfer-Encoding: 8bit',
    '',
  ]),
  Buffer.from("Bonjour,\r\nle loyer d'octobre est de 850 \xe9.\r\n", 'latin1'),
])
const LANDLORD_ID = 'rent-2026-10.4711@immo.example.fr'
const LANDLORD_NAME = 'INBOX/cur/1791270718.M1P9Q1.laptop,U=77:2,FS'

describe('seb find and restore by headers (issue 19)', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'Mail')
  const dest = path.join(work.dir, 'dest')
  const cache = path.join(work.dir, 'cache')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: cache,
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
    SEB_PROGRESS_INTERVAL: '0',
  }
  const at = (rel: string) => path.join(src, rel)
  const mtime = new Date('2026-10-06T07:12:00.123Z')
  const seb = async (...args: string[]) => runSeb(args, env)
  const backupJson = async () => {
    const r = await seb('backup', src, dest, '--json')
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>
  }
  const snapshots: string[] = []

  before(async () => {
    for (const f of ['INBOX', 'Archive'])
      for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(at(`${f}/${sub}`), { recursive: true })
    // Mail shaped like real mail, as mbsync stores it (an X-TUID line in each).
    const mails = generateMails(19, 40)
    for (const [i, m] of mails.entries()) {
      const p = at(`INBOX/cur/17000${String(i).padStart(5, '0')}.M${i}P7Q1.laptop,U=${i + 1}:2,S`)
      await fs.writeFile(p, insertHeaderLine(m.bytes, `X-TUID: ${tuidValue(i)}`))
    }
    // Raw 8-bit UTF-8 in a header, no Subject, and two messages sharing one Message-ID.
    await fs.writeFile(
      at('INBOX/cur/1700100001.M1P7Q2.laptop,U=101:2,S'),
      'From: Zoë Brontë <zoe@example.net>\nTo: sam@example.org\nDate: Mon, 5 Oct 2026 10:00:00 +0000\nMessage-ID: <dup@example.net>\n\nno subject here\n',
    )
    await fs.writeFile(
      at('INBOX/cur/1700100002.M1P7Q3.laptop,U=102:2,'),
      'From: bob@example.com\nTo: sam@example.org\nSubject: Dup one\nMessage-ID: <dup@example.net>\n\nfirst\n',
    )
    await fs.writeFile(at(LANDLORD_NAME), LANDLORD)
    await fs.utimes(at(LANDLORD_NAME), mtime, mtime)
    assert.equal((await seb('init', dest, '--recipient', g.keys[0]!.fingerprint)).code, 0)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('three backups: the landlord mail is deleted after the first', async () => {
    snapshots.push(String((await backupJson()).snapshot))
    await fs.rm(at(LANDLORD_NAME))
    snapshots.push(String((await backupJson()).snapshot))
    await fs.writeFile(at('INBOX/new/1700200000.M5P7Q1.laptop'), 'From: a@example.org\nSubject: later\n\nx\n')
    snapshots.push(String((await backupJson()).snapshot))
  })

  it('finds it by two words of its decoded subject, and by its sender', async () => {
    for (const q of [
      ['--subject', 'octobre garantie'],
      ['--subject', 'DÉPÔT loyer'],
      ['--from', 'landlord@immo.example.fr'],
      ['--from', 'Gérard'],
      ['--to', 'alex@example.org', '--since', '2026-10-06', '--until', '2026-10-06'],
    ]) {
      const r = await seb('find', dest, ...q, '--json')
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      const found = lines.filter((l) => l.type === 'message')
      assert.equal(found.length, 1, `${q.join(' ')}: ${r.stdout}`)
      const m = found[0] as Record<string, string> & {
        firstSnapshot: { id: string }
        lastSnapshot: { id: string }
      }
      assert.equal(m.subject, "Loyer d'octobre et dépôt de garantie")
      assert.equal(m.from, 'Gérard Propriétaire <landlord@immo.example.fr>')
      assert.equal(m.messageId, LANDLORD_ID)
      assert.equal(m.path, LANDLORD_NAME)
      assert.equal(m.folder, 'INBOX')
      assert.equal(m.date, '2026-10-06T07:11:58.000Z')
      assert.equal(m.firstSnapshot.id, snapshots[0])
      assert.equal(m.lastSnapshot.id, snapshots[0])
    }
    // A word that is only part of one does not match; the text line names the message.
    const part = await seb('find', dest, '--subject', 'octob', '--json')
    assert.equal(part.stdout.split('\n').filter((l) => l.includes('"message"')).length, 0)
    const text = await seb('find', dest, '--subject', 'octobre')
    assert.equal(text.code, 0)
    assert.match(text.stdout, /2026-10-06 07:11 {2}\| {2}Gérard Propriétaire.*\| {2}INBOX {2}\|.*snapshots /)
  })

  it('a missing subject, raw 8-bit headers and a duplicated Message-ID are found', async () => {
    const zoe = await seb('find', dest, '--from', 'Zoë', '--json')
    assert.match(zoe.stdout, /"subject":"","messageId":"dup@example.net"/)
    const dup = await seb('find', dest, '--message-id', '<dup@example.net>', '--json')
    assert.equal(dup.stdout.split('\n').filter((l) => l.includes('"type":"message"')).length, 2)
  })

  it('restores it by its Message-ID from the newest snapshot holding it, byte- and mtime-identical', async () => {
    const target = path.join(work.dir, 'r1')
    const r = await seb('restore', dest, target, '--message-id', `<${LANDLORD_ID}>`, '--json')
    assert.equal(r.code, 0, r.stderr)
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>
    assert.equal(summary.snapshot, snapshots[0])
    assert.equal(summary.filesRestored, 1)
    const out = path.join(target, LANDLORD_NAME)
    assert.ok((await fs.readFile(out)).equals(LANDLORD))
    assert.equal((await fs.stat(out)).mtime.getTime(), mtime.getTime())
    assert.deepEqual(await fs.readdir(target), ['INBOX'])
  })

  it('--into-maildir delivers it into cur/ with its flags, where Python lists it', async () => {
    const box = path.join(work.dir, 'live', 'INBOX')
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(box, sub), { recursive: true })
    const r = await seb('restore', dest, '--message-id', LANDLORD_ID, '--into-maildir', box)
    assert.equal(r.code, 0, r.stderr)
    const names = await fs.readdir(path.join(box, 'cur'))
    assert.equal(names.length, 1)
    assert.match(names[0]!, /:2,FS$/)
    assert.deepEqual(await fs.readdir(path.join(box, 'tmp')), [])
    const py = execFileSync('python3', [
      '-c',
      'import mailbox,sys,hashlib\nmd=mailbox.Maildir(sys.argv[1],factory=None,create=False)\nfor k in md.keys():\n  m=md[k]\n  print(m.get_flags(), hashlib.sha256(md.get_bytes(k)).hexdigest(), m["Message-ID"])',
      box,
    ]).toString()
    const sha = (await import('node:crypto')).createHash('sha256').update(LANDLORD).digest('hex')
    assert.equal(py.trim(), `FS ${sha} <${LANDLORD_ID}>`)
  })

  it('bad input: a malformed date exits 2, an unknown Message-ID exits 1, each with one line', async () => {
    const bad = await seb('find', dest, '--since', '2026-13-45')
    assert.equal(bad.code, 2)
    assert.equal(bad.stderr.trim().split('\n').length, 1)
    assert.match(bad.stderr, /--since 2026-13-45: not a date/)
    for (const args of [
      ['find', dest, '--message-id', 'nobody@nowhere.example'],
      ['restore', dest, path.join(work.dir, 'r2'), '--message-id', 'nobody@nowhere.example'],
    ]) {
      const r = await seb(...args)
      assert.equal(r.code, 1, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1)
      assert.match(r.stderr, /no message with Message-ID <nobody@nowhere.example>/)
    }
    const noId = await seb('restore', dest, '--into-maildir', work.dir)
    assert.equal(noId.code, 2)
  })

  it('a moved message that differs only in X-TUID uploads no content and restores exact', async () => {
    const from = 'INBOX/cur/1700000003.M3P7Q1.laptop,U=4:2,S'
    const bytes = await fs.readFile(at(from))
    const moved = Buffer.from(
      bytes.toString('latin1').replace(/X-TUID: .*/, `X-TUID: ${tuidValue(999)}`),
      'latin1',
    )
    assert.ok(!moved.equals(bytes))
    await fs.rm(at(from))
    await fs.writeFile(at('Archive/cur/1800000000.M1P8Q1.laptop,U=1:2,S'), moved)
    const s = await backupJson()
    assert.equal(s.packsWritten, 0)
    assert.equal(s.bytesUploaded, s.indexBytes)
    const target = path.join(work.dir, 'r3')
    const r = await seb('restore', dest, target)
    assert.equal(r.code, 0, r.stderr)
    await assertSameTree(src, target)
    // Without seb (docs/design.md): under its new name, with its stored twin's X-TUID line.
    const manual = path.join(work.dir, 'manual')
    await fs.mkdir(manual)
    manualRestore(dest, manual, g.home)
    const back = await fs.readFile(path.join(manual, 'Archive/cur/1800000000.M1P8Q1.laptop,U=1:2,S'))
    assert.ok(back.equals(bytes), 'the manual restore gives the base bytes under the twin name')
    // Found where it is now, by its sender.
    const mail = await fs.readFile(at('Archive/cur/1800000000.M1P8Q1.laptop,U=1:2,S'), 'latin1')
    const id = /Message-ID: *<([^>]+)>/i.exec(mail)?.[1]
    if (id) {
      const f = await seb('find', dest, '--message-id', id, '--json')
      assert.match(f.stdout, /"folder":"Archive"/)
    }
  })

  it('headers.jsonl, lost, is rebuilt from the commits (with the secret key)', async () => {
    const dirs = await fs.readdir(cache)
    for (const d of dirs) await fs.rm(path.join(cache, d, 'headers.jsonl'), { force: true })
    const r = await seb('find', dest, '--subject', 'octobre garantie', '--json')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /"type":"message"/)
    const again = await fs.readFile(
      path.join(cache, dirs.find((d) => !d.startsWith('.'))!, 'headers.jsonl'),
      'utf8',
    )
    assert.match(again, /rent-2026-10/)
  })
})
