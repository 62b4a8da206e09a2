// Why: the benchmark's numbers are only comparable across runs if the synthetic Maildir is the same for a
// seed and shaped like the published mailbox; these tests check both at a small scale (outcomes, no timings).

import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  buildMessage,
  type GenerateResult,
  generateMaildir,
  isMessagePath,
  mailboxStats,
  planMailbox,
  walkTree,
} from '../../bench/maildir-gen.js'

async function digest(root: string): Promise<string> {
  const h = createHash('sha256')
  for (const e of await walkTree(root)) {
    h.update(`${e.path}\0${e.size}\0${Math.floor(e.mtimeMs / 1000)}\0`)
    h.update(await readFile(join(root, e.path)))
  }
  return h.digest('hex')
}

describe('maildir-gen', () => {
  let dir: string
  let a: GenerateResult
  let b: GenerateResult
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seb-gen-test-'))
    a = await generateMaildir(join(dir, 'a'), { scale: 0.01, seed: 7 })
    b = await generateMaildir(join(dir, 'b'), { scale: 0.01, seed: 7 })
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('is deterministic for a seed: same names, bytes and mtimes', async () => {
    assert.equal(await digest(join(dir, 'a')), await digest(join(dir, 'b')))
    assert.deepEqual(a.samples, b.samples)
  })

  it('differs for another seed', () => {
    const p7 = planMailbox({ scale: 0.01, seed: 7 }).map((m) => m.name)
    const p8 = planMailbox({ scale: 0.01, seed: 8 }).map((m) => m.name)
    assert.notDeepEqual(p7, p8)
  })

  it('matches the published shape at small scale: count, min, mean, max bound', async () => {
    const s = await mailboxStats(join(dir, 'a'))
    assert.equal(s.files, Math.round(87_107 * 0.01))
    assert.equal(s.min, 218)
    assert.ok(Math.abs(s.mean - 14_080) / 14_080 < 0.01, `mean ${s.mean}`)
    assert.ok(s.max <= Math.round(16.06 * 1024 * 1024), `max ${s.max}`)
    assert.ok(s.max > 50_000, `a few large attachments expected, max ${s.max}`)
    assert.deepEqual(s, a.stats)
  })

  it('pins min and max at full scale (plan only, nothing written)', () => {
    const plan = planMailbox()
    assert.equal(plan.length, 87_107)
    const sizes = plan.map((m) => m.size)
    assert.equal(Math.min(...sizes), 218)
    assert.equal(Math.max(...sizes), Math.round(16.06 * 1024 * 1024))
    const total = sizes.reduce((x, y) => x + y, 0)
    assert.equal(total, Math.round(87_107 * 14_080))
  })

  it('lays out accounts and folders with cur/new/tmp and both naming schemes', async () => {
    const entries = await walkTree(join(dir, 'a'))
    const msgs = entries.filter((e) => isMessagePath(e.path))
    const accounts = new Set(msgs.map((e) => e.path.split('/')[0]))
    assert.deepEqual([...accounts].sort(), ['lists', 'personal', 'work'])
    assert.ok(a.folders.length >= 24, `folders: ${a.folders.length}`)
    assert.ok(a.folders.includes('personal/INBOX') && a.folders.includes('work/Trash'))
    const offlineimap = /^\d+_\d+\.\d+\.laptop,U=\d+,FMD5=[0-9a-f]{32}:2,[A-Z]*$/
    const mbsync = /^\d+\.\d+_\d+\.laptop,U=\d+:2,[A-Z]*$/
    const names = msgs.map((e) => e.path.slice(e.path.lastIndexOf('/') + 1))
    assert.ok(
      names.every((n) => offlineimap.test(n) || mbsync.test(n)),
      'every name follows one scheme',
    )
    assert.ok(names.some((n) => offlineimap.test(n)) && names.some((n) => mbsync.test(n)))
    assert.ok(names.some((n) => n.endsWith(':2,RS')) && names.some((n) => n.endsWith(':2,S')))
    assert.ok(
      msgs.some((e) => e.path.includes('/new/')),
      'some unread mail in new/',
    )
    assert.ok(entries.some((e) => e.path.endsWith('work/INBOX/.mbsyncstate')))
  })

  it('writes realistic mail with mtime = Date header, and X-TUID in mbsync folders', async () => {
    const msgs = (await walkTree(join(dir, 'a'))).filter((e) => isMessagePath(e.path) && e.size > 2000)
    const work = msgs.find((e) => e.path.startsWith('work/'))!
    const text = (await readFile(join(dir, 'a', work.path))).toString('latin1')
    for (const h of ['From: ', 'To: ', 'Subject: ', 'Date: ', 'Message-ID: '])
      assert.match(text, new RegExp(`^${h}`, 'm'))
    assert.match(text, /^X-TUID: .{12}$/m)
    const date = Date.parse(/^Date: (.*)$/m.exec(text)![1]!)
    assert.equal(Math.floor(work.mtimeMs / 1000), date / 1000)
    const personal = msgs.find((e) => e.path.startsWith('personal/'))!
    assert.doesNotMatch((await readFile(join(dir, 'a', personal.path))).toString('latin1'), /^X-TUID:/m)
  })

  it('gives known plaintext samples that occur in the tree', async () => {
    assert.ok(a.samples.subjects.length >= 3)
    const all = (await walkTree(join(dir, 'a'))).filter((e) => isMessagePath(e.path))
    const name = a.samples.fileNames[0]!
    const file = all.find((e) => e.path.endsWith(`/${name}`))!
    const text = (await readFile(join(dir, 'a', file.path))).toString('latin1')
    assert.ok(text.includes(`Subject: ${a.samples.subjects[0]}`))
    assert.ok(text.includes(a.samples.bodyLines[0]!))
  })

  it('buildMessage: exact size, attachment as base64 MIME part', () => {
    for (const size of [218, 300, 1000, 5000, 250_000]) {
      const m = buildMessage({
        size,
        attachment: size > 100_000 ? size - 5000 : 0,
        date: 1.6e9,
        domain: 'example.org',
        tuid: true,
        seed: size,
      })
      assert.equal(m.length, size)
    }
    const big = buildMessage({
      size: 250_000,
      attachment: 245_000,
      date: 1.6e9,
      domain: 'example.org',
      tuid: false,
      seed: 3,
    })
    const text = big.toString('latin1')
    assert.match(text, /Content-Transfer-Encoding: base64/)
    assert.match(text, /^[A-Za-z0-9+/]{76}$/m)
  })
})
