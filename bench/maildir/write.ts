// Why: writing the planned mailbox to disk: every folder with cur/ new/ tmp/, every message built from its
// seed with its mtime set to its Date header, and mbsync's .uidvalidity and .mbsyncstate files.

import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { accountsFor, foldersOf, MAILBOX_END } from './layout.js'
import { buildMessage } from './message.js'
import { type GenerateOptions, planMailbox, resolveOptions } from './plan.js'
import { pool } from './pool.js'
import { mix32 } from './prng.js'
import { type MailboxStats, mailboxStats, type PlaintextSamples, samplePlaintext } from './read.js'

/** What generateMaildir wrote. */
export interface GenerateResult {
  root: string
  stats: MailboxStats
  folders: string[]
  samples: PlaintextSamples
  durationMs: number
}

/** mbsyncState renders a `.mbsyncstate` file listing the folder's uids and flags, as mbsync keeps it. */
export function mbsyncState(names: string[], uidValidity: number): string {
  const lines = [`FarUidValidity ${uidValidity}`, `NearUidValidity ${uidValidity}`, 'MaxPulledUid 0', '']
  let maxUid = 0
  const entries: [number, string][] = []
  for (const n of names) {
    const m = /,U=(\d+)/.exec(n)
    if (!m) continue
    const uid = Number(m[1])
    maxUid = Math.max(maxUid, uid)
    entries.push([uid, n.slice(n.lastIndexOf(':2,') + 3)])
  }
  lines[2] = `MaxPulledUid ${maxUid}`
  entries.sort((a, b) => a[0] - b[0])
  return `${lines.join('\n')}${entries.map(([u, f]) => `${u} ${u} ${f}`).join('\n')}\n`
}

/**
 * generateMaildir writes a synthetic Maildir under root (root/<account>/<folder>/{cur,new,tmp}), each
 * message's mtime set to its Date, and returns its statistics and known plaintext samples.
 */
export async function generateMaildir(root: string, opts: GenerateOptions = {}): Promise<GenerateResult> {
  const t0 = performance.now()
  const o = resolveOptions(opts)
  const plan = planMailbox(opts)
  const accounts = accountsFor(o.accounts)
  const folders: string[] = []
  for (const a of accounts) for (const f of foldersOf(a)) folders.push(`${a.name}/${f}`)
  for (const f of folders)
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, f, sub), { recursive: true })
  const domainOf = new Map(accounts.map((a) => [a.name, a.domain]))
  await pool(plan, o.concurrency, async (m) => {
    const buf = buildMessage({
      size: m.size,
      attachment: m.attachment,
      date: m.date,
      domain: domainOf.get(m.account)!,
      tuid: m.tuid,
      seed: mix32(o.seed, m.index + 1),
      list: m.list,
    })
    const path = join(root, m.account, m.folder, m.sub, m.name)
    await writeFile(path, buf)
    await utimes(path, m.date, m.date)
  })
  if (o.stateFiles) {
    const byFolder = new Map<string, string[]>()
    for (const m of plan) {
      const k = `${m.account}/${m.folder}`
      const l = byFolder.get(k) ?? []
      byFolder.set(k, l)
      l.push(m.name)
    }
    for (const a of accounts) {
      if (a.style !== 'mbsync') continue
      for (const f of foldersOf(a)) {
        const dir = join(root, a.name, f)
        const validity = 1_500_000_000 + (mix32(o.seed, folders.indexOf(`${a.name}/${f}`)) % 100_000_000)
        await writeFile(join(dir, '.uidvalidity'), `${validity}\n`)
        await writeFile(
          join(dir, '.mbsyncstate'),
          mbsyncState(byFolder.get(`${a.name}/${f}`) ?? [], validity),
        )
        await utimes(join(dir, '.uidvalidity'), MAILBOX_END, MAILBOX_END)
        await utimes(join(dir, '.mbsyncstate'), MAILBOX_END, MAILBOX_END)
      }
    }
  }
  const stats = await mailboxStats(root)
  const samples = await samplePlaintext(root)
  return { root, stats, folders, samples, durationMs: performance.now() - t0 }
}
