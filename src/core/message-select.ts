// Why: `seb find --subject/--from/--to/--message-id/--since/--until` and `seb restore --message-id`
// choose messages by what a person remembers of them, not by file name. One rule for both: a message is
// a Maildir file (mail-facts.ts) with search headers (a twin has its base's); what matches is grouped
// into one result per message and folder — its versions under every name it had there (flags change a
// Maildir name), with the first and last snapshot holding it. Pure.
import type { WireHeaders } from './commit-codec.js'
import { compileWordQuery } from './header-search.js'
import { isMessagePath } from './mail-facts.js'
import { normalizeMessageId } from './mail-headers.js'
import type { SnapshotInfo, Version } from './model.js'
import type { RepoState } from './repo-state.js'

/** MailQuery is what a message must match: every given field (AND), the globs on its path. */
export interface MailQuery {
  readonly subject?: string
  readonly from?: string
  readonly to?: string
  /** Message-IDs, any of which matches (as normalizeMessageId gives them) */
  readonly messageIds?: readonly string[]
  /** epoch ms, inclusive */
  readonly since?: number
  readonly until?: number
  /** a test of the path (the name glob), when one was given */
  readonly path?: (path: string) => boolean
}

/** FoundMessage is one message in one folder and the snapshots that hold it. */
export interface FoundMessage {
  readonly headers: WireHeaders
  /** its Maildir folder (the path before `/cur/` or `/new/`; '' at the top) */
  readonly folder: string
  /** its newest path */
  readonly path: string
  readonly size: number
  readonly first: SnapshotInfo
  readonly last: SnapshotInfo
  /** its versions (every name it had in that folder) */
  readonly versions: Version[]
}

/** folderOf is a message path's Maildir folder. */
export function folderOf(path: string): string {
  const cut = path.lastIndexOf('/')
  const sub = path.lastIndexOf('/', cut - 1)
  return sub < 0 ? '' : path.slice(0, sub)
}

/** headersOf gives a content's search headers (a twin's are its base's). */
export function headersOf(
  state: RepoState,
  headers: ReadonlyMap<string, WireHeaders>,
  hash: string,
): WireHeaders | undefined {
  return headers.get(hash) ?? headers.get(state.twins.get(hash)?.base ?? '')
}

/** compileMailQuery turns a query into a test of a message's search headers and path. */
export function compileMailQuery(q: MailQuery): (h: WireHeaders, path: string) => boolean {
  const subject = q.subject !== undefined ? compileWordQuery(q.subject) : null
  const from = q.from !== undefined ? compileWordQuery(q.from) : null
  const to = q.to !== undefined ? compileWordQuery(q.to) : null
  const ids = q.messageIds?.length ? new Set(q.messageIds.map(normalizeMessageId)) : null
  return ([, s, f, t, date, id], path) =>
    (!subject || subject(s)) &&
    (!from || from(f)) &&
    (!to || to(t)) &&
    (!ids || ids.has(id)) &&
    (q.since === undefined || (date !== null && date >= q.since)) &&
    (q.until === undefined || (date !== null && date <= q.until)) &&
    (!q.path || q.path(path))
}

/**
 * selectMessages returns the messages of retained snapshots that match, newest message date first. A
 * version no retained snapshot holds is left out.
 */
export function selectMessages(
  state: RepoState,
  headers: ReadonlyMap<string, WireHeaders>,
  q: MailQuery,
): FoundMessage[] {
  const match = compileMailQuery(q)
  const snaps = [...state.snapshots].sort((a, b) => a.seq - b.seq)
  const groups = new Map<string, { headers: WireHeaders; versions: Version[] }>()
  const consider = (v: Version) => {
    if (v.kind !== 'f' || !isMessagePath(v.path)) return
    const h = headersOf(state, headers, v.ref)
    if (!h || !match(h, v.path)) return
    const base = state.twins.get(v.ref)?.base ?? v.ref
    const key = `${folderOf(v.path)}\0${base}`
    const g = groups.get(key) ?? { headers: h, versions: [] }
    groups.set(key, g)
    g.versions.push(v)
  }
  for (const v of state.live.values()) consider(v)
  for (const v of state.history) consider(v)
  const out: FoundMessage[] = []
  for (const g of groups.values()) {
    const holding = snaps.filter((s) => g.versions.some((v) => holds(v, s.seq)))
    if (!holding.length) continue
    const newest = g.versions.reduce((a, b) => (b.from > a.from ? b : a))
    out.push({
      headers: g.headers,
      folder: folderOf(newest.path),
      path: newest.path,
      size: newest.size,
      first: holding[0]!,
      last: holding[holding.length - 1]!,
      versions: g.versions,
    })
  }
  return out.sort((a, b) => (b.headers[4] ?? 0) - (a.headers[4] ?? 0) || (a.path < b.path ? -1 : 1))
}

/** holds says whether snapshot `seq` holds version `v`. */
export function holds(v: Version, seq: number): boolean {
  return v.from <= seq && (v.to === 0 || seq < v.to)
}

/**
 * versionsForIds picks, for each Message-ID, the versions to restore: those the snapshot `seq` holds,
 * or (seq null) those the newest snapshot holding one of its messages holds. `missing` lists the ids
 * found in no such snapshot; `seq` is the newest snapshot used.
 */
export function versionsForIds(
  found: readonly FoundMessage[],
  ids: readonly string[],
  seq: number | null,
): { versions: Version[]; missing: string[]; seq: number } {
  const versions = new Set<Version>()
  const missing: string[] = []
  let used = 0
  for (const raw of ids) {
    const id = normalizeMessageId(raw)
    const mine = found.filter((m) => m.headers[5] === id)
    const at = seq ?? Math.max(0, ...mine.map((m) => m.last.seq))
    const picked = mine.flatMap((m) => m.versions).filter((v) => holds(v, at))
    if (!picked.length) missing.push(raw)
    else used = Math.max(used, at)
    for (const v of picked) versions.add(v)
  }
  return { versions: [...versions], missing, seq: used }
}
