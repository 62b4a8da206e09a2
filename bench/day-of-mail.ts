// Why: the incremental benchmark needs "one day of mail" as sync tools really produce it (maildir.md):
// new messages written tmp/ → new/, most read (new/ → cur/ with :2,S), flag renames that keep bytes and
// mtime, folder moves written the IMAP-sync way (a new file under a new name: mbsync changes the X-TUID
// line, offlineimap keeps the bytes but sets a new mtime), deletions and an emptied Trash. Seeded, so
// every run of the benchmark applies the same days to the same tree.

import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rename, unlink, utimes, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  accountsFor,
  DAY,
  MAILBOX_END,
  mbsyncName,
  offlineimapName,
  type SyncStyle,
} from './maildir/layout.js'
import { buildMessage, tuidLine } from './maildir/message.js'
import { mix32, mulberry32 } from './maildir/prng.js'
import { isMessagePath, type TreeEntry, walkTree } from './maildir/read.js'
import { mbsyncState } from './maildir/write.js'

const MiB = 1024 * 1024

/** How the day's renames, moves and deletions choose their messages. */
export type SelectionMode = 'recent' | 'uniform'

/** Options of mutateDay; counts are multiplied by `scale` (with small minimums). */
export interface DayOptions {
  /** Seed shared by the whole simulation (default 1). */
  seed?: number
  /** 0-based day number: day d runs from MAILBOX_END + d days to MAILBOX_END + d + 1 days. */
  day?: number
  /** `recent`: touched messages mostly from the last months; `uniform`: uniformly over all years. */
  mode?: SelectionMode
  /** Multiplies every count and the new bytes (default 1). */
  scale?: number
  /** Bytes of new messages (default 5 MiB). */
  newBytes?: number
  /** Share of the day's new mail read that day (default 0.8). */
  readFraction?: number
  /** Flag renames of older messages (default 300). */
  flagRenames?: number
  /** Folder moves (default 30). */
  moves?: number
  /** Deletions (default 50; 40% of them go through Trash, the rest are expunged). */
  deletions?: number
  /** Empty every Trash folder first (default true). */
  emptyTrash?: boolean
  /** Number of accounts the tree was generated with (default 3), for account domains. */
  accounts?: number
}

/** A rename or move: relative paths before and after. */
export interface Move {
  from: string
  to: string
}

/** A folder move as an IMAP sync tool writes it. */
export interface FolderMove extends Move {
  style: SyncStyle
  /** offlineimap: true (new mtime); mbsync: false (another X-TUID line, same size and mtime). */
  identicalBytes: boolean
}

/** What mutateDay did; every path is relative to the root, with '/' separators. */
export interface DayRecord {
  day: number
  mode: SelectionMode
  /** The day's end, unix seconds. */
  now: number
  /** Final paths of the day's new messages: the content the floor is computed from. */
  newMessageFiles: string[]
  newBytes: number
  /** New messages read today and older unread ones: new/ → cur/ with S added. */
  read: Move[]
  /** Flag changes renamed in place (same directory, same bytes, same mtime). */
  flagRenames: Move[]
  /** Folder moves (new file under a new name, old one removed). */
  moves: FolderMove[]
  /** Deletions by moving to Trash (also folder moves, written the same way). */
  trashed: FolderMove[]
  /** Messages expunged directly. */
  deleted: string[]
  /** Messages removed by emptying Trash. */
  trashEmptied: string[]
  /** mbsync state files rewritten. */
  stateFiles: string[]
}

interface Msg {
  path: string
  folder: string
  account: string
  sub: 'cur' | 'new'
  base: string
  flags: string
  mtime: number
  size: number
}

function parseMsg(e: TreeEntry): Msg {
  const parts = e.path.split('/')
  const name = parts[parts.length - 1]!
  const sub = parts[parts.length - 2] as 'cur' | 'new'
  const folderPath = parts.slice(0, -2).join('/')
  const i = name.lastIndexOf(':2,')
  return {
    path: e.path,
    folder: folderPath,
    account: parts[0]!,
    sub,
    base: i >= 0 ? name.slice(0, i) : name,
    flags: i >= 0 ? name.slice(i + 3) : '',
    mtime: Math.floor(e.mtimeMs / 1000),
    size: e.size,
  }
}

/** sortFlags puts Maildir flag letters in ASCII order, as the spec requires. */
function sortFlags(f: string): string {
  return [...new Set(f)].sort().join('')
}

/** lastFolderPart is the IMAP folder name inside the account (what offlineimap hashes into FMD5). */
function imapFolder(folderPath: string): string {
  return folderPath.slice(folderPath.indexOf('/') + 1)
}

/** pick chooses up to k distinct candidates: uniformly, or mostly among the most recent (by mtime). */
function pick(r: () => number, cands: Msg[], k: number, mode: SelectionMode, taken: Set<string>): Msg[] {
  const avail = cands.filter((m) => !taken.has(m.path))
  if (mode === 'recent') avail.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? -1 : 1))
  const out: Msg[] = []
  const tau = Math.max(20, avail.length * 0.02)
  let guard = 0
  while (out.length < Math.min(k, avail.length) && guard++ < k * 200) {
    let i: number
    if (mode === 'uniform' || r() < 0.15) i = Math.floor(r() * avail.length)
    else i = Math.floor(-Math.log(1 - r()) * tau)
    const m = avail[i]
    if (!m || taken.has(m.path)) continue
    taken.add(m.path)
    out.push(m)
  }
  return out
}

/**
 * mutateDay applies one seeded day of mail to the Maildir under root (see DayRecord for what it does)
 * and reports every change, so tests can check the tree and the benchmark can compute the day's floor.
 */
export async function mutateDay(root: string, opts: DayOptions = {}): Promise<DayRecord> {
  const seed = opts.seed ?? 1
  const day = opts.day ?? 0
  const mode = opts.mode ?? 'recent'
  const scale = opts.scale ?? 1
  const count = (v: number | undefined, def: number, min: number) =>
    Math.max(min, Math.round((v ?? def) * scale))
  const newBytes = Math.max(64 * 1024, Math.round((opts.newBytes ?? 5 * MiB) * scale))
  const nFlag = count(opts.flagRenames, 300, 3)
  const nMoves = count(opts.moves, 30, 2)
  const nDel = count(opts.deletions, 50, 3)
  const r = mulberry32(mix32(mix32(seed, 0xda7), day * 2 + (mode === 'recent' ? 0 : 1)))
  const start = MAILBOX_END + day * DAY
  const now = start + DAY
  const accounts = accountsFor(opts.accounts ?? 3)
  const domainOf = new Map(accounts.map((a) => [a.name, a.domain]))

  const entries = await walkTree(root)
  const folderStyle = new Map<string, SyncStyle>()
  const folders = new Set<string>()
  for (const e of entries) {
    if (e.path.endsWith('/.mbsyncstate')) folderStyle.set(dirname(e.path), 'mbsync')
    if (isMessagePath(e.path)) folders.add(e.path.split('/').slice(0, -2).join('/'))
  }
  // Folders may hold no file (an emptied Trash): take them from the directory layout.
  for (const a of await readdir(root, { withFileTypes: true })) {
    if (!a.isDirectory()) continue
    for (const f of await readdir(join(root, a.name), { withFileTypes: true }))
      if (f.isDirectory() && existsSync(join(root, a.name, f.name, 'cur'))) folders.add(`${a.name}/${f.name}`)
  }
  const styleOf = (folder: string): SyncStyle => folderStyle.get(folder) ?? 'offlineimap'
  let msgs = entries.filter((e) => isMessagePath(e.path)).map(parseMsg)
  const maxUid = new Map<string, number>()
  for (const m of msgs) {
    const u = /,U=(\d+)/.exec(m.base)
    if (u) maxUid.set(m.folder, Math.max(maxUid.get(m.folder) ?? 0, Number(u[1])))
  }
  const nextUid = (folder: string) => {
    const u = (maxUid.get(folder) ?? 0) + 1 + (r() < 0.1 ? 1 : 0)
    maxUid.set(folder, u)
    return u
  }
  const touchedFolders = new Set<string>()
  const taken = new Set<string>()
  let seq = 0
  const pid = 2000 + Math.floor(r() * 60000)
  const newName = (folder: string, time: number, flags: string) => {
    seq++
    const uid = nextUid(folder)
    return styleOf(folder) === 'mbsync'
      ? mbsyncName(time, pid, seq, uid, flags)
      : offlineimapName(time, seq, pid, uid, imapFolder(folder), flags)
  }
  /** deliver writes a file the Maildir way: tmp/ first, then rename into place. */
  const deliver = async (rel: string, data: Buffer, mtime: number) => {
    const parts = rel.split('/')
    const tmp = join(root, ...parts.slice(0, -2), 'tmp', `${now}.${pid}_${seq}.laptop`)
    await mkdir(dirname(tmp), { recursive: true })
    await mkdir(dirname(join(root, rel)), { recursive: true })
    await writeFile(tmp, data)
    await utimes(tmp, mtime, mtime)
    await rename(tmp, join(root, rel))
  }
  const record: DayRecord = {
    day,
    mode,
    now,
    newMessageFiles: [],
    newBytes: 0,
    read: [],
    flagRenames: [],
    moves: [],
    trashed: [],
    deleted: [],
    trashEmptied: [],
    stateFiles: [],
  }

  // 1. Yesterday's Trash is emptied.
  if (opts.emptyTrash ?? true) {
    for (const m of msgs) {
      if (/\/Trash$/.test(m.folder)) {
        await unlink(join(root, m.path))
        record.trashEmptied.push(m.path)
        touchedFolders.add(m.folder)
      }
    }
    const gone = new Set(record.trashEmptied)
    msgs = msgs.filter((m) => !gone.has(m.path))
  }

  // 2. New mail arrives in new/ (Sent mail is written to cur/ with S).
  const fresh: Msg[] = []
  let i = 0
  while (record.newBytes < newBytes) {
    const a = accounts[Math.min(accounts.length - 1, Math.floor(r() * accounts.length))]!
    const own = [...folders].filter(
      (f) => f.startsWith(`${a.name}/`) && !/\/(Trash|Drafts|Archive\.\d+)$/.test(f),
    )
    const inbox = own.find((f) => f.endsWith('/INBOX')) ?? own[0]!
    const x = r()
    const listFolders = own.filter((f) => /\/lists\./.test(f))
    const folder =
      x < 0.5
        ? inbox
        : x < 0.8 && listFolders.length
          ? listFolders[Math.floor(r() * listFolders.length)]!
          : own[Math.floor(r() * own.length)]!
    const sent = folder.endsWith('/Sent')
    const left = newBytes - record.newBytes
    let size = Math.round(
      Math.exp(Math.log(6600) + 0.85 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())),
    )
    size = Math.max(400, Math.min(size, 200_000))
    let attachment = 0
    if (r() < 0.045) {
      attachment = Math.min(Math.round(120_000 * Math.exp(1.0 * (r() - 0.5))), 2 * MiB)
      size += attachment
    }
    size = Math.max(300, Math.min(size, left + 2000))
    if (attachment > size - 600) attachment = 0
    const oldDate = r() < 0.08
    const date = oldDate ? now - Math.floor(r() * 5 * 365 * DAY) : start + Math.floor(r() * (DAY - 600))
    const arrival = oldDate ? start + Math.floor(r() * (DAY - 600)) : date + 30 + Math.floor(r() * 300)
    const style = styleOf(folder)
    const data = buildMessage({
      size,
      attachment,
      date,
      domain: domainOf.get(a.name) ?? 'example.org',
      tuid: style === 'mbsync',
      seed: mix32(mix32(seed, 0x6e6577 + day), i++),
      list: folder.includes('/lists.') ? folder.slice(folder.indexOf('/lists.') + 7) : undefined,
    })
    // offlineimap's utime_from_header: mtime = Date header, so a new file can carry an old mtime.
    const mtime = style === 'offlineimap' ? date : arrival
    const flags = sent ? 'S' : ''
    const rel = `${folder}/${sent ? 'cur' : 'new'}/${newName(folder, arrival, flags)}`
    await deliver(rel, data, mtime)
    touchedFolders.add(folder)
    record.newBytes += data.length
    const m = parseMsg({ path: rel, size: data.length, mtimeMs: mtime * 1000, ino: 0 })
    fresh.push(m)
    taken.add(rel)
  }

  // 3. Most of it is read that day; some older unread mail too.
  const finalPath = new Map(fresh.map((m) => [m.path, m.path]))
  const readSet = fresh.filter((m) => m.sub === 'new' && r() < (opts.readFraction ?? 0.8))
  const oldUnread = msgs.filter((m) => m.sub === 'new' && !taken.has(m.path) && r() < 0.3)
  for (const m of [...readSet, ...oldUnread]) {
    const to = `${m.folder}/cur/${m.base}:2,${sortFlags(`${m.flags}S`)}`
    await rename(join(root, m.path), join(root, to))
    record.read.push({ from: m.path, to })
    touchedFolders.add(m.folder)
    taken.add(m.path)
    taken.add(to)
    if (finalPath.has(m.path)) finalPath.set(m.path, to)
  }
  record.newMessageFiles = fresh.map((m) => finalPath.get(m.path)!)

  // 4. Flag changes on older mail: renames in place.
  const flaggable = msgs.filter((m) => m.sub === 'cur' && !/\/(Trash|Drafts)$/.test(m.folder))
  for (const m of pick(r, flaggable, nFlag, mode, taken)) {
    let flags = m.flags
    const x = r()
    if (x < 0.55 && !flags.includes('R')) flags += 'R'
    else if (x < 0.8) flags = flags.includes('F') ? flags.replace('F', '') : `${flags}F`
    else if (!flags.includes('P')) flags += 'P'
    else flags = flags.replace('P', '')
    flags = sortFlags(flags.includes('S') ? flags : `${flags}S`)
    if (flags === m.flags) flags = flags.includes('F') ? flags.replace('F', '') : sortFlags(`${flags}F`)
    const to = `${m.folder}/cur/${m.base}:2,${flags}`
    await rename(join(root, m.path), join(root, to))
    record.flagRenames.push({ from: m.path, to })
    touchedFolders.add(m.folder)
    taken.add(to)
  }

  /** moveImap re-creates a message in another folder the way the destination's sync tool does. */
  const moveImap = async (m: Msg, dest: string, flags: string): Promise<FolderMove> => {
    const style = styleOf(dest)
    let data = await readFile(join(root, m.path))
    let mtime = m.mtime
    if (style === 'mbsync') {
      // A fresh download: same message, another X-TUID line (added if the old tool had none).
      const text = data.toString('latin1')
      const line = tuidLine(mix32(mix32(seed, day + 0x70), seq + 1))
      const hit = /^X-TUID: .{12}\n/m.exec(text.slice(0, text.indexOf('\n\n') + 1))
      const sep = text.indexOf('\n\n')
      data = Buffer.from(
        hit
          ? text.slice(0, hit.index) + line + text.slice(hit.index + hit[0].length)
          : text.slice(0, sep + 1) + line + text.slice(sep + 1),
        'latin1',
      )
    } else {
      mtime = start + Math.floor(r() * DAY)
    }
    const to = `${dest}/cur/${newName(dest, start + Math.floor(r() * DAY), sortFlags(flags))}`
    await deliver(to, data, mtime)
    await unlink(join(root, m.path))
    touchedFolders.add(m.folder)
    touchedFolders.add(dest)
    taken.add(to)
    return { from: m.path, to, style, identicalBytes: style === 'offlineimap' }
  }

  // 5. Folder moves (archiving, sorting), as IMAP sync brings them back.
  const movable = msgs.filter((m) => !/\/(Trash|Drafts|Sent)$/.test(m.folder))
  for (const m of pick(r, movable, nMoves, mode, taken)) {
    const year = new Date(m.mtime * 1000).getUTCFullYear()
    const archive = `${m.account}/Archive.${year}`
    let dest: string
    const fromArchive = /\/Archive\.\d+$/.test(m.folder)
    if (folders.has(archive) && !fromArchive) dest = archive
    else {
      const others = [...folders].filter(
        (f) =>
          f.startsWith(`${m.account}/`) &&
          f !== m.folder &&
          !/\/(Trash|Drafts|Sent|Junk)$/.test(f) &&
          !(fromArchive && /\/Archive\.\d+$/.test(f)),
      )
      if (!others.length) continue
      dest = others[Math.floor(r() * others.length)]!
    }
    record.moves.push(await moveImap(m, dest, m.flags.includes('S') ? m.flags : `${m.flags}S`))
  }

  // 6. Deletions: some through Trash (a move), the rest expunged.
  const deletable = msgs.filter((m) => !/\/(Trash|Drafts)$/.test(m.folder))
  for (const m of pick(r, deletable, nDel, mode, taken)) {
    const trash = `${m.account}/Trash`
    if (r() < 0.4 && folders.has(trash)) record.trashed.push(await moveImap(m, trash, `${m.flags}ST`))
    else {
      await unlink(join(root, m.path))
      record.deleted.push(m.path)
      touchedFolders.add(m.folder)
    }
  }

  // 7. mbsync rewrites the state files of the folders it synced.
  for (const f of [...touchedFolders].sort()) {
    if (styleOf(f) !== 'mbsync') continue
    const stateRel = `${f}/.mbsyncstate`
    const old = existsSync(join(root, stateRel)) ? await readFile(join(root, stateRel), 'latin1') : ''
    const validity = Number(/FarUidValidity (\d+)/.exec(old)?.[1] ?? 1)
    const names = [...(await readdir(join(root, f, 'cur'))), ...(await readdir(join(root, f, 'new')))]
    await writeFile(join(root, stateRel), mbsyncState(names, validity))
    await utimes(join(root, stateRel), now, now)
    record.stateFiles.push(stateRel)
  }
  return record
}
