// Why: the benchmark and the leak/incremental tests need a Maildir that looks like the seed author's
// published mailbox (87,107 files, 218 B .. 16 MB, mean 13.75 kB, ~1.17 GB, 3 accounts, 7 years) and that
// compresses like real mail (~2x with zstd -3), built reproducibly from a seed so that every run of the
// benchmark measures the same bytes. Nothing here uses Math.random.

import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

// ---------------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32 returns a seeded PRNG giving floats in [0, 1): small, fast, and stable across platforms. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** mix32 hashes two 32-bit integers into one (murmur3 finaliser); used to derive per-message seeds. */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ (b | 0)) | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * keystream returns n deterministic pseudo-random bytes for (seed, stream): AES-128-CTR over zeros, keyed by
 * a hash of the pair. It is the bulk byte source (attachments, word choices); fast (GB/s) and reproducible.
 */
export function keystream(seed: number, stream: number, n: number): Buffer {
  const key = createHash('sha256')
    .update(`seb-bench:${seed >>> 0}:${stream >>> 0}`)
    .digest()
    .subarray(0, 16)
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return c.update(Buffer.alloc(n))
}

// ---------------------------------------------------------------------------------------------------
// The mailbox's shape

/** The sync tool whose naming scheme a folder's files follow. */
export type SyncStyle = 'mbsync' | 'offlineimap'

/** An account template: its folders and the tool that syncs it now (and, optionally, before a switch). */
export interface AccountTemplate {
  name: string
  domain: string
  style: SyncStyle
  /** Mail synced before this time (unix seconds) carries this older tool's names; undefined = never switched. */
  previousStyle?: { style: SyncStyle; until: number }
  /** Ordinary folders with relative weights (archive folders are added per year). */
  folders: { name: string; weight: number; recentWeight?: number; list?: string }[]
  archives: boolean
  weight: number
}

const DAY = 86400
/** The generated mailbox's last instant: fixed, so that a seed always yields the same tree. */
export const MAILBOX_END = Date.UTC(2024, 5, 1, 8, 0, 0) / 1000
/** Seven years of mail. */
export const MAILBOX_YEARS = 7
const MAILBOX_START = MAILBOX_END - Math.round(MAILBOX_YEARS * 365.25 * DAY)

const LISTS = [
  'debian-devel',
  'linux-kernel',
  'notmuch',
  'offlineimap-project',
  'isync-devel',
  'pgsql-general',
  'rust-users',
  'python-dev',
  'zstd-users',
]

/** The three account templates; `accounts: n` cycles through them. */
export const ACCOUNT_TEMPLATES: AccountTemplate[] = [
  {
    name: 'personal',
    domain: 'example.org',
    style: 'offlineimap',
    archives: true,
    weight: 0.42,
    folders: [
      { name: 'INBOX', weight: 10, recentWeight: 40 },
      { name: 'Sent', weight: 12 },
      { name: 'Drafts', weight: 0.3 },
      { name: 'Trash', weight: 0.5 },
      { name: 'Junk', weight: 0.8 },
      { name: 'Family', weight: 6 },
      { name: 'Receipts', weight: 5 },
      { name: 'Travel', weight: 3 },
    ],
  },
  {
    name: 'work',
    domain: 'corp.example.com',
    style: 'mbsync',
    archives: true,
    weight: 0.36,
    folders: [
      { name: 'INBOX', weight: 10, recentWeight: 40 },
      { name: 'Sent', weight: 14 },
      { name: 'Drafts', weight: 0.3 },
      { name: 'Trash', weight: 0.5 },
      { name: 'Junk', weight: 0.6 },
      { name: 'Projects.alpha', weight: 6 },
      { name: 'Projects.beta', weight: 5 },
      { name: 'Projects.gamma', weight: 3 },
    ],
  },
  {
    name: 'lists',
    domain: 'lists.example.net',
    style: 'mbsync',
    previousStyle: { style: 'offlineimap', until: Date.UTC(2021, 2, 1) / 1000 },
    archives: false,
    weight: 0.22,
    folders: [
      { name: 'INBOX', weight: 3, recentWeight: 8 },
      { name: 'Sent', weight: 2 },
      { name: 'Trash', weight: 0.3 },
      { name: 'Junk', weight: 0.8 },
      ...LISTS.map((l, i) => ({ name: `lists.${l}`, weight: 9 - (i % 5), list: l })),
    ],
  },
]

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

/** What generateMaildir wrote. */
export interface GenerateResult {
  root: string
  stats: MailboxStats
  folders: string[]
  samples: PlaintextSamples
  durationMs: number
}

/** Known plaintext from the tree, for tests that scan a destination for leaks. */
export interface PlaintextSamples {
  subjects: string[]
  bodyLines: string[]
  fileNames: string[]
}

interface ResolvedOptions {
  files: number
  meanSize: number
  minSize: number
  maxSize: number
  seed: number
  accounts: number
  concurrency: number
  stateFiles: boolean
}

function resolve(opts: GenerateOptions): ResolvedOptions {
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

/** accountsFor returns the account templates used for n accounts (names made unique past the third). */
export function accountsFor(n: number): AccountTemplate[] {
  const out: AccountTemplate[] = []
  for (let i = 0; i < n; i++) {
    const t = ACCOUNT_TEMPLATES[i % ACCOUNT_TEMPLATES.length]!
    out.push(i < ACCOUNT_TEMPLATES.length ? t : { ...t, name: `${t.name}${Math.floor(i / 3) + 1}` })
  }
  return out
}

function archiveYears(): number[] {
  const ys: number[] = []
  for (
    let y = new Date(MAILBOX_START * 1000).getUTCFullYear();
    y <= new Date(MAILBOX_END * 1000).getUTCFullYear();
    y++
  )
    ys.push(y)
  return ys
}

/** foldersOf lists an account's folder names (archives included). */
export function foldersOf(a: AccountTemplate): string[] {
  const names = a.folders.map((f) => f.name)
  if (a.archives) for (const y of archiveYears()) names.push(`Archive.${y}`)
  return names
}

function normalSample(r: () => number): number {
  // Box-Muller; r() never returns 1, so 1 - r() is in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** Body sizes (headers + text) and attachment sizes, before matching the mean. */
function drawSizes(r: () => number, o: ResolvedOptions): { body: number[]; att: number[] } {
  const body: number[] = []
  const att: number[] = []
  for (let i = 0; i < o.files; i++) {
    const b = Math.exp(Math.log(6600) + 0.85 * normalSample(r))
    body.push(Math.min(Math.max(b, o.minSize), 400_000))
    att.push(r() < 0.045 ? Math.exp(Math.log(120_000) + 1.25 * normalSample(r)) : 0)
  }
  return { body, att }
}

/**
 * matchMean scales attachments (or, when even none are too many, bodies) so that the sizes, clamped to
 * [min, max], add up to exactly files × mean; index 0 is pinned to min and index 1 to max when max fits.
 */
function matchMean(
  body: number[],
  att: number[],
  o: ResolvedOptions,
): { size: number[]; attachment: number[]; pinned: number[] } {
  const n = body.length
  const target = Math.round(n * o.meanSize)
  const pinned: number[] = []
  const fixed = new Map<number, number>()
  if (n >= 2) {
    fixed.set(0, o.minSize)
    pinned.push(0)
    if (o.maxSize <= 0.03 * target) {
      fixed.set(1, o.maxSize)
      pinned.push(1)
    }
  }
  const cap = Math.min(o.maxSize, Math.max(o.minSize, Math.floor(0.03 * target)), o.maxSize)
  const localMax = fixed.has(1) ? o.maxSize : Math.max(cap, o.minSize)
  let fixedSum = 0
  for (const v of fixed.values()) fixedSum += v
  const clamp = (v: number) => Math.min(Math.max(v, o.minSize), localMax)
  const total = (kb: number, ka: number) => {
    let s = fixedSum
    for (let i = 0; i < n; i++) if (!fixed.has(i)) s += clamp(kb * body[i]! + ka * att[i]!)
    return s
  }
  let kb = 1
  let ka = 1
  const search = (f: (k: number) => number, lo: number, hi: number) => {
    for (let it = 0; it < 80; it++) {
      const mid = (lo + hi) / 2
      if (f(mid) < target) lo = mid
      else hi = mid
    }
    return (lo + hi) / 2
  }
  if (total(1, 0) <= target) ka = search((k) => total(1, k), 0, 1000)
  else {
    ka = 0
    kb = search((k) => total(k, 0), 0, 1)
  }
  const size: number[] = []
  const attachment: number[] = []
  let sum = 0
  for (let i = 0; i < n; i++) {
    const f = fixed.get(i)
    if (f !== undefined) {
      size.push(f)
      attachment.push(i === 1 ? f : 0)
    } else {
      const s = Math.round(clamp(kb * body[i]! + ka * att[i]!))
      size.push(s)
      attachment.push(att[i]! > 0 ? Math.max(0, s - Math.round(kb * body[i]!)) : 0)
    }
    sum += size[i]!
  }
  // Put the rounding residue on the largest unpinned messages, keeping them within bounds.
  let residue = target - sum
  const order = [...size.keys()].filter((i) => !fixed.has(i)).sort((a, b) => size[b]! - size[a]!)
  for (const i of order) {
    if (residue === 0) break
    const next = Math.min(Math.max(size[i]! + residue, o.minSize), localMax)
    residue -= next - size[i]!
    if (attachment[i]! > 0) attachment[i] = Math.max(0, attachment[i]! + next - size[i]!)
    size[i] = next
  }
  return { size, attachment, pinned }
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

/** md5 of a folder name, as offlineimap puts in ,FMD5= */
export function folderMd5(folder: string): string {
  return createHash('md5').update(folder).digest('hex')
}

/** The host name written into generated file names. */
export const HOST = 'laptop'

/** mbsyncName builds an mbsync file name `<time>.<pid>_<n>.<host>,U=<uid>:2,<flags>`. */
export function mbsyncName(time: number, pid: number, n: number, uid: number, flags: string): string {
  return `${time}.${pid}_${n}.${HOST},U=${uid}:2,${flags}`
}

/** offlineimapName builds `<time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<md5(folder)>:2,<FLAGS>`. */
export function offlineimapName(
  time: number,
  seq: number,
  pid: number,
  uid: number,
  folder: string,
  flags: string,
): string {
  return `${time}_${seq}.${pid}.${HOST},U=${uid},FMD5=${folderMd5(folder)}:2,${flags}`
}

function styleAt(a: AccountTemplate, date: number): SyncStyle {
  return a.previousStyle && date < a.previousStyle.until ? a.previousStyle.style : a.style
}

/** planMailbox decides every message's account, folder, date, size and name; pure and deterministic. */
export function planMailbox(opts: GenerateOptions = {}): PlannedMessage[] {
  const o = resolve(opts)
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

// ---------------------------------------------------------------------------------------------------
// Message content

const COMMON =
  'the of and to a in is it you that he was for on are with as I his they be at one have this from or had by not but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them would write like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find any new work part take get place made live where after back little only round man year came show every good me give our under name very through just form much great think say help low line before turn cause same mean differ move right boy old too does tell sentence set three want air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal point mother world near build self earth father'.split(
    ' ',
  )
const SYLLABLES =
  'ka to ri mon sel ve da ar en tri pol gan mi sto re lu ber ne cal fi do ta ster qua bin lo ph ex cor dia val tem nor gra hu si plan zen mar tek ol im ul bra fo ge vi san'.split(
    ' ',
  )

interface Vocab {
  bytes: Uint8Array
  offsets: Uint32Array
  table: Uint16Array
  words: string[]
}

let vocabCache: Vocab | undefined

/** vocab builds the fixed pseudo-language (common English words + syllable words, Zipf-distributed). */
function vocab(): Vocab {
  if (vocabCache) return vocabCache
  const r = mulberry32(0x766f6361)
  const words = [...COMMON]
  const seen = new Set(words)
  while (words.length < 24_000) {
    const k = 1 + Math.floor(r() * 3.2)
    let w = ''
    for (let i = 0; i < k; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)]
    if (r() < 0.15) w += ['s', 'ed', 'ing', 'ly', 'er', 'tion'][Math.floor(r() * 6)]
    if (!seen.has(w)) {
      seen.add(w)
      words.push(w)
    }
  }
  // Shuffle the made-up words among themselves so that rank is not length-ordered.
  for (let i = words.length - 1; i > COMMON.length; i--) {
    const j = COMMON.length + Math.floor(r() * (i - COMMON.length + 1))
    ;[words[i], words[j]] = [words[j]!, words[i]!]
  }
  const enc = words.map((w) => Buffer.from(w, 'latin1'))
  const offsets = new Uint32Array(words.length + 1)
  for (let i = 0; i < enc.length; i++) offsets[i + 1] = offsets[i]! + enc[i]!.length
  const bytes = Buffer.concat(enc)
  // Zipf(s) over ranks, quantised into a 65,536-entry lookup table.
  const s = 0.9
  let norm = 0
  for (let k = 1; k <= words.length; k++) norm += 1 / k ** s
  const table = new Uint16Array(65536)
  let acc = 0
  let k = 0
  for (let slot = 0; slot < 65536; slot++) {
    const p = (slot + 0.5) / 65536
    while (k < words.length - 1 && acc + 1 / (k + 1) ** s / norm < p) {
      acc += 1 / (k + 1) ** s / norm
      k++
    }
    table[slot] = k
  }
  vocabCache = { bytes, offsets, table, words }
  return vocabCache
}

/** words returns `n` seeded words of the pseudo-language joined by spaces (subjects, names, tests). */
export function words(r: () => number, n: number): string {
  const v = vocab()
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(v.words[v.table[Math.floor(r() * 65536)]!]!)
  return out.join(' ')
}

/**
 * fillText writes seeded word text into out[start, end) with ~72-column lines, paragraphs and, when
 * `quote` is set, some "> " quoted paragraphs; the last byte is a newline.
 */
function fillText(out: Buffer, start: number, end: number, rnd: Buffer, quote: boolean): void {
  const v = vocab()
  let p = start
  let col = 0
  let ri = 0
  let quoted = false
  const limit = end - 1
  while (p < limit) {
    if (ri + 4 > rnd.length) ri = 0
    const w = v.table[rnd[ri]! | (rnd[ri + 1]! << 8)]!
    const ctl = rnd[ri + 2]!
    ri += 3
    const ws = v.offsets[w]!
    const wl = v.offsets[w + 1]! - ws
    if (col > 0 && col + wl + 1 > 72) {
      out[p++] = 10
      col = 0
      if (ctl < 40 && p < limit) {
        out[p++] = 10
        quoted = quote && ctl < 16
      }
      continue
    }
    if (col === 0 && quoted && p + 2 < limit) {
      out[p++] = 62
      out[p++] = 32
      col = 2
    } else if (col > 0) {
      out[p++] = ctl > 236 ? 44 : ctl > 226 ? 46 : 32
      if (ctl > 226 && p < limit) out[p++] = 32
      col += ctl > 226 ? 2 : 1
    }
    for (let i = 0; i < wl && p < limit; i++) out[p++] = v.bytes[ws + i]!
    col += wl
  }
  out[end - 1] = 10
}

const FIRST =
  'Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil Trent Victor Walter Yvonne'.split(
    ' ',
  )
const LAST =
  'Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia Fournier Roux Morel Girard Mercier'.split(
    ' ',
  )
const DOMAINS = [
  'example.org',
  'mail.example.com',
  'example.net',
  'corp.example.com',
  'lists.example.net',
  'uni.example.edu',
]
const TYPES = [
  ['application/pdf', 'pdf'],
  ['image/jpeg', 'jpg'],
  ['application/zip', 'zip'],
  ['image/png', 'png'],
  ['application/vnd.oasis.opendocument.text', 'odt'],
] as const

/** What buildMessage needs to know about one message. */
export interface MessageSpec {
  /** Exact size of the file in bytes. */
  size: number
  /** Bytes of the message given to a base64 attachment (0 for a plain text message). */
  attachment: number
  /** The Date: header, unix seconds. */
  date: number
  /** The account's domain (recipient side). */
  domain: string
  /** Add mbsync's `X-TUID:` line. */
  tuid: boolean
  /** Per-message seed. */
  seed: number
  /** Mailing list id for list folders. */
  list?: string
}

function person(r: () => number): { name: string; addr: string } {
  const f = FIRST[Math.floor(r() * FIRST.length)]!
  const l = LAST[Math.floor(r() * LAST.length)]!
  const d = DOMAINS[Math.floor(r() * DOMAINS.length)]!
  return { name: `${f} ${l}`, addr: `${f.toLowerCase()}.${l.toLowerCase()}@${d}` }
}

/** rfc2822 formats unix seconds as an RFC 2822 date in UTC. */
export function rfc2822(t: number): string {
  const d = new Date(t * 1000)
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const p = (n: number) => String(n).padStart(2, '0')
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
}

const TUID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** tuidLine returns mbsync's 21-byte `X-TUID: <12 chars>\n` header line for a seed. */
export function tuidLine(seed: number): string {
  const r = mulberry32(mix32(seed, 0x7475))
  let s = 'X-TUID: '
  for (let i = 0; i < 12; i++) s += TUID_ALPHABET[Math.floor(r() * 64)]
  return `${s}\n`
}

/**
 * buildMessage renders one message of exactly spec.size bytes: RFC 5322 headers, a word-list text body
 * and, when spec.attachment > 0, a MIME base64 attachment of pseudo-random bytes (compresses ~1.3x,
 * like the already-compressed files people attach).
 */
export function buildMessage(spec: MessageSpec): Buffer {
  const r = mulberry32(mix32(spec.seed, 0x6d7367))
  const from = person(r)
  const to = { name: 'Sam Owner', addr: `sam@${spec.domain}` }
  const reply = r() < 0.4
  const subject = `${reply ? 'Re: ' : ''}${spec.list ? `[${spec.list}] ` : ''}${words(r, 3 + Math.floor(r() * 6))} #${spec.seed % 100000}`
  const msgid = `<${spec.date}.${spec.seed.toString(16)}.${Math.floor(r() * 1e9).toString(36)}@${from.addr.split('@')[1]}>`
  const boundary = `=_seb${spec.seed.toString(16)}${Math.floor(r() * 1e9).toString(16)}`
  const withAtt = spec.attachment > 0
  let head =
    `Return-Path: <${from.addr}>\n` +
    `Delivered-To: ${to.addr}\n` +
    `Received: from mx${1 + Math.floor(r() * 4)}.${from.addr.split('@')[1]} (mx.${spec.domain} [192.0.2.${1 + Math.floor(r() * 250)}])\n\tby imap.${spec.domain} with ESMTPS id ${Math.floor(r() * 2 ** 40).toString(36)}\n\tfor <${to.addr}>; ${rfc2822(spec.date)}\n` +
    `From: ${from.name} <${from.addr}>\n` +
    `To: ${to.name} <${to.addr}>\n` +
    `Subject: ${subject}\n` +
    `Date: ${rfc2822(spec.date)}\n` +
    `Message-ID: ${msgid}\n` +
    (reply
      ? `In-Reply-To: <${spec.date - 3600}.${Math.floor(r() * 1e9).toString(36)}@${spec.domain}>\n`
      : '') +
    (spec.list ? `List-Id: <${spec.list}.lists.example.net>\nPrecedence: list\n` : '') +
    'MIME-Version: 1.0\n' +
    (withAtt
      ? `Content-Type: multipart/mixed; boundary="${boundary}"\n`
      : 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n') +
    (spec.tuid ? tuidLine(spec.seed) : '') +
    '\n'
  const sig = `\n-- \n${from.name}\n`
  if (head.length + sig.length + 16 > spec.size) {
    // Tiny messages: the essential headers only.
    head =
      `From: <${from.addr}>\nTo: <${to.addr}>\nSubject: ${subject.slice(0, 40)}\nDate: ${rfc2822(spec.date)}\nMessage-ID: ${msgid}\n` +
      (spec.tuid ? tuidLine(spec.seed) : '') +
      '\n'
  }
  const out = Buffer.alloc(spec.size)
  let p = out.write(head.slice(0, spec.size), 0, 'latin1')
  if (p >= spec.size) return out
  let attHead = ''
  let tail = ''
  if (withAtt) {
    const [type, ext] = TYPES[Math.floor(r() * TYPES.length)]!
    const fname = `${words(r, 2).replace(' ', '-')}.${ext}`
    const textHead = `This is a multi-part message in MIME format.\n\n--${boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n`
    attHead = `--${boundary}\nContent-Type: ${type}; name="${fname}"\nContent-Disposition: attachment; filename="${fname}"\nContent-Transfer-Encoding: base64\n\n`
    tail = `--${boundary}--\n`
    p += out.write(textHead, p, 'latin1')
  }
  const room = spec.size - p
  const b64len = withAtt
    ? Math.max(0, Math.min(spec.attachment, room - attHead.length - tail.length - 80))
    : 0
  const textEnd = withAtt && b64len >= 80 ? spec.size - b64len - attHead.length - tail.length : spec.size
  const textLen = textEnd - p
  const sigFits = textLen > sig.length + 40
  const rnd = keystream(spec.seed, 1, Math.min(3 * Math.ceil(textLen / 2) + 8, 1 << 20))
  fillText(out, p, sigFits ? textEnd - sig.length : textEnd, rnd, reply)
  if (sigFits) out.write(sig, textEnd - sig.length, 'latin1')
  p = textEnd
  if (textEnd < spec.size) {
    p += out.write(attHead, p, 'latin1')
    const raw = keystream(spec.seed, 2, Math.ceil((b64len * 3) / 4) + 3)
    const b64 = Buffer.from(raw.toString('base64'), 'latin1')
    let q = 0
    const end = p + b64len
    while (p < end) {
      const n = Math.min(76, end - p - 1)
      b64.copy(out, p, q, q + n)
      p += n
      q += n
      out[p++] = 10
    }
    out.write(tail, p, 'latin1')
  }
  return out
}

// ---------------------------------------------------------------------------------------------------
// Writing the tree

async function pool<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      await fn(items[i]!)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
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
  const o = resolve(opts)
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

// ---------------------------------------------------------------------------------------------------
// Reading a tree back

/** Statistics of a Maildir tree: message files are the files directly in a cur/ or new/ directory. */
export interface MailboxStats {
  files: number
  bytes: number
  min: number
  max: number
  mean: number
  /** Other regular files (mbsync state, dovecot files, anything in tmp/). */
  otherFiles: number
  otherBytes: number
}

/** One regular file of a tree, relative path with '/' separators. */
export interface TreeEntry {
  path: string
  size: number
  mtimeMs: number
  ino: number
}

/** walkTree lists every regular file under root (sorted by path), with size, mtime and inode. */
export async function walkTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = []
  const visit = async (rel: string) => {
    const ents = await readdir(rel ? join(root, rel) : root, { withFileTypes: true })
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const files: string[] = []
    for (const e of ents) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await visit(p)
      else if (e.isFile()) files.push(p)
    }
    await pool(files, 64, async (p) => {
      const s = await stat(join(root, p))
      out.push({ path: p, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino })
    })
  }
  await visit('')
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return out
}

/** isMessagePath tells whether a relative path is a message file (directly inside cur/ or new/). */
export function isMessagePath(p: string): boolean {
  const parts = p.split('/')
  const dir = parts[parts.length - 2]
  return dir === 'cur' || dir === 'new'
}

/** mailboxStats counts messages (files in cur/ and new/) and other files of the tree under root. */
export async function mailboxStats(root: string): Promise<MailboxStats> {
  const all = await walkTree(root)
  let files = 0
  let bytes = 0
  let min = Number.POSITIVE_INFINITY
  let max = 0
  let otherFiles = 0
  let otherBytes = 0
  for (const e of all) {
    if (isMessagePath(e.path)) {
      files++
      bytes += e.size
      min = Math.min(min, e.size)
      max = Math.max(max, e.size)
    } else {
      otherFiles++
      otherBytes += e.size
    }
  }
  return { files, bytes, min: files ? min : 0, max, mean: files ? bytes / files : 0, otherFiles, otherBytes }
}

/**
 * samplePlaintext reads up to `n` messages of the tree and returns their Subject lines, a long body line
 * of each and their file names: known plaintext that must never appear on a backup destination.
 */
export async function samplePlaintext(root: string, n = 5): Promise<PlaintextSamples> {
  const all = (await walkTree(root)).filter(
    (e) => isMessagePath(e.path) && e.size >= 1500 && e.size < 200_000,
  )
  const samples: PlaintextSamples = { subjects: [], bodyLines: [], fileNames: [] }
  const step = Math.max(1, Math.floor(all.length / n))
  for (let i = 0; i < all.length && samples.fileNames.length < n; i += step) {
    const e = all[i]!
    const text = (await readFile(join(root, e.path))).toString('latin1')
    const sep = text.indexOf('\n\n')
    const subj = /^Subject: (.*)$/m.exec(text.slice(0, sep))
    const body = text
      .slice(sep + 2)
      .split('\n')
      .find((l) => l.length >= 40 && !/^(>|--|This is a multi-part)/.test(l) && !l.includes(':'))
    if (!subj || !body) continue
    samples.subjects.push(subj[1]!)
    samples.bodyLines.push(body)
    samples.fileNames.push(e.path.slice(e.path.lastIndexOf('/') + 1))
  }
  return samples
}
