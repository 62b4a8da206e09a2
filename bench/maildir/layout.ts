// Why: the synthetic mailbox is laid out like the seed author's: 3 accounts, 44 folders, 7 years of mail,
// synced by mbsync or offlineimap (the lists account switched tools in March 2021), and every message file
// is named the way its folder's tool names it. This module holds that shape: the account templates, the
// folder list and the two naming schemes.

import { createHash } from 'node:crypto'

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

/** Seconds in a day. */
export const DAY = 86400
/** The generated mailbox's last instant: fixed, so that a seed always yields the same tree. */
export const MAILBOX_END = Date.UTC(2024, 5, 1, 8, 0, 0) / 1000
/** Seven years of mail. */
export const MAILBOX_YEARS = 7
/** The generated mailbox's first instant. */
export const MAILBOX_START = MAILBOX_END - Math.round(MAILBOX_YEARS * 365.25 * DAY)

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

/** styleAt is the naming scheme of an account's mail dated `date` (before or after a tool switch). */
export function styleAt(a: AccountTemplate, date: number): SyncStyle {
  return a.previousStyle && date < a.previousStyle.until ? a.previousStyle.style : a.style
}
