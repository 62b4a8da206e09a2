// Why: the generated tree must be the same for a seed, whatever writes it: this module decides every
// message's account, folder, date, flags, size and file name up front, as plain values, without touching
// the filesystem.

import {
  accountsFor,
  DAY,
  MAILBOX_END,
  MAILBOX_START,
  mbsyncName,
  offlineimapName,
  type SyncStyle,
  styleAt,
} from './layout.js'
import { mix32, mulberry32 } from './prng.js'
import { drawSizes, matchMean } from './sizes.js'

/** Options of generateMaildir; every field has a default matching the published mailbox. */
export interface GenerateOptions {
  /** Number of message files at scale 1 (default 87,107). */
  files?: number
  /** Mean message size in bytes (default 13.75 KiB = 14,080 B). */
  meanSize?: number
  /** Smallest message (default 218 B). */
  minSize?: number
  /** Largest message (default 16.06 MiB); pinned only when it is under 3% of the total. */
  maxSize?: number
  /** Multiplies `files` (e.g. 0.01 for tests). */
  scale?: number
  /** PRNG seed (default 1). */
  seed?: number
  /** Number of accounts (default 3), cycling through ACCOUNT_TEMPLATES. */
  accounts?: number
  /** Files written at once (default 32). */
  concurrency?: number
  /** Write mbsync's .uidvalidity and .mbsyncstate files in mbsync folders (default true). */
  stateFiles?: boolean
}

/** One planned message of the initial tree. */
export interface PlannedMessage {
  index: number
  account: string
  folder: string
  sub: 'cur' | 'new'
  name: string
  date: number
  size: number
  attachment: number
  tuid: boolean
  list?: string
}

/** The options of GenerateOptions with every default filled in. */
export interface ResolvedOptions {
  files: number
  meanSize: number
  minSize: number
  maxSize: number
  seed: number
  accounts: number
  concurrency: number
  stateFiles: boolean
}

/** resolveOptions fills in the defaults of GenerateOptions and applies `scale` to the file count. */
export function resolveOptions(opts: GenerateOptions): ResolvedOptions {
  const scale = opts.scale ?? 1
  return {
    files: Math.max(1, Math.round((opts.files ?? 87_107) * scale)),
    meanSize: opts.meanSize ?? 14_080,
    minSize: opts.minSize ?? 218,
    maxSize: opts.maxSize ?? Math.round(16.06 * 1024 * 1024),
    seed: opts.seed ?? 1,
    accounts: opts.accounts ?? 3,
    concurrency: opts.concurrency ?? 32,
    stateFiles: opts.stateFiles ?? true,
  }
}

function pickWeighted<T>(r: () => number, items: T[], weight: (t: T) => number): T {
  let total = 0
  for (const it of items) total += weight(it)
  let x = r() * total
  for (const it of items) {
    x -= weight(it)
    if (x < 0) return it
  }
  return items[items.length - 1]!
}

/** planMailbox decides every message's account, folder, date, size and name; pure and deterministic. */
export function planMailbox(opts: GenerateOptions = {}): PlannedMessage[] {
  const o = resolveOptions(opts)
  const r = mulberry32(mix32(o.seed, 0x5eed))
  const accounts = accountsFor(o.accounts)
  const { body, att } = drawSizes(r, o)
  const { size, attachment } = matchMean(body, att, o)
  const span = MAILBOX_END - MAILBOX_START
  type Draft = Omit<PlannedMessage, 'name' | 'tuid'> & { flags: string; style: SyncStyle }
  const drafts: Draft[] = []
  for (let i = 0; i < o.files; i++) {
    // Mail volume grows over the years: density ∝ 1 + x on [0, 1].
    const x = -1 + Math.sqrt(1 + 3 * r())
    const date = MAILBOX_START + Math.floor(x * span)
    const acct = pickWeighted(r, accounts, (a) => a.weight)
    const age = MAILBOX_END - date
    const year = new Date(date * 1000).getUTCFullYear()
    let folder: string
    let list: string | undefined
    if (acct.archives && age > 180 * DAY && r() < 0.62) folder = `Archive.${year}`
    else {
      const f = pickWeighted(r, acct.folders, (f) =>
        age < 365 * DAY ? (f.recentWeight ?? f.weight) : f.weight,
      )
      folder = f.name
      list = f.list
    }
    const unreadish = folder === 'INBOX' || folder.startsWith('lists.') || folder === 'Junk'
    const unread = unreadish && (age < 14 * DAY ? r() < 0.3 : folder === 'Junk' && r() < 0.4)
    let flags = ''
    if (!unread) {
      if (folder === 'Sent') flags = 'S'
      else if (folder === 'Drafts') flags = 'DS'
      else if (folder === 'Trash') flags = 'ST'
      else {
        const f = r()
        flags = f < 0.78 ? 'S' : f < 0.9 ? 'RS' : f < 0.95 ? 'FS' : f < 0.98 ? 'FRS' : 'PS'
      }
    }
    drafts.push({
      index: i,
      account: acct.name,
      folder,
      sub: unread ? 'new' : 'cur',
      date,
      size: size[i]!,
      attachment: attachment[i]!,
      list,
      flags,
      style: styleAt(acct, date),
    })
  }
  // UIDs ascend with date inside each folder; names follow the folder's tool.
  const byFolder = new Map<string, Draft[]>()
  for (const d of drafts) {
    const k = `${d.account}/${d.folder}`
    const l = byFolder.get(k) ?? []
    byFolder.set(k, l)
    l.push(d)
  }
  const out: PlannedMessage[] = new Array(drafts.length)
  for (const [, list] of [...byFolder.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    list.sort((a, b) => a.date - b.date || a.index - b.index)
    let uid = 0
    for (const d of list) {
      uid += 1 + (r() < 0.1 ? Math.floor(r() * 5) : 0)
      // The tool fetched old mail on its first sync, later mail within the hour after it arrived.
      const acct = accounts.find((a) => a.name === d.account)!
      const firstSync =
        d.style === acct.style && acct.previousStyle ? acct.previousStyle.until : MAILBOX_START + 30 * DAY
      const syncTime = Math.max(d.date + 60 + Math.floor(r() * 3600), firstSync)
      const pid = 1000 + (mix32(syncTime, o.seed) % 60000)
      const n = (uid % 997) + 1
      const name =
        d.style === 'mbsync'
          ? mbsyncName(syncTime, pid, n, uid, d.flags)
          : offlineimapName(syncTime, n, pid, uid, d.folder, d.flags)
      out[d.index] = {
        index: d.index,
        account: d.account,
        folder: d.folder,
        sub: d.sub,
        name,
        date: d.date,
        size: d.size,
        attachment: d.attachment,
        tuid: d.style === 'mbsync',
        list: d.list,
      }
    }
  }
  return out
}
