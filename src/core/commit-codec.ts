// Why: the commit record is the repository's index: one encrypted object per backup run (a delta) or,
// now and then, a consolidated checkpoint. This module is its exact JSON shape (docs/design.md,
// "Commit records") and the strict decoder that refuses anything malformed, so a damaged or hostile
// index is reported, never half-applied.

import { isHexHash } from './hash-column.js'
import type { EntryKind, SnapshotInfo } from './model.js'
import { isSafeRelativePath } from './path-bytes.js'

/** FORMAT_VERSION is the repository format version written in the config and every commit. */
export const FORMAT_VERSION = 2

/** FORMAT_1 is the format seb 0.3 wrote: its JSON commit records are still read, by `seb upgrade`. */
export const FORMAT_1 = 1

/**
 * WireList: records of a commit, in order: an array, or a compact list that makes each record only when
 * it is read (core/wire-lists.ts: a first backup's million entries are not held as a million arrays).
 */
export interface WireList<T> extends Iterable<T> {
  readonly length: number
}
/** WireBlob: [hash, size, tarPath, entry, normalized hash (only for content with sync-tool noise)] */
export type WireBlob = [string, number, string, number] | [string, number, string, number, string]
/** WirePack: [id, size, contentBytes, blobs] */
export type WirePack = [string, number, number, WireList<WireBlob>]
/** WireTwin: [hash, size, base hash, patch] (a twin: docs/design.md) */
export type WireTwin = [string, number, string, string]
/** WireHeaders: [hash, subject, from, to, date ms | null, message id] (search headers) */
export type WireHeaders = [string, string, string, string, number | null, string]
/** WireEntry: [path, kind, ref, size, mtimeMs, mode] */
export type WireEntry = [string, EntryKind, string, number, number, number]
/** WireVersion: [path, kind, ref, size, mtimeMs, mode, from, to] */
export type WireVersion = [string, EntryKind, string, number, number, number, number, number]

/** CommitRecord is the decoded JSON of one commit object. */
export interface CommitRecord {
  seb: number
  kind: 'delta' | 'checkpoint'
  seq: number
  /** when the commit was written (ISO 8601) */
  time: string
  /** the snapshot this commit makes; null for maintenance commits (compaction) that change no file */
  snapshot: SnapshotInfo | null
  /** delta: packs added by this commit; checkpoint: every pack of the repository */
  packs: WirePack[]
  /** delta: packs this commit removes from the index (compaction) */
  dropPacks: string[]
  /** delta: entries added or changed by this commit */
  add: WireList<WireEntry>
  /** delta: paths deleted by this commit */
  del: string[]
  /** delta: snapshot seqs forgotten (past retention) by this commit */
  forget: number[]
  /** checkpoint: every retained version */
  versions: WireVersion[]
  /** checkpoint: every retained snapshot, this one included */
  snapshots: SnapshotInfo[]
  /** twins recorded by this commit (absent: none) */
  twins?: WireTwin[]
  /** search headers of the messages stored by this commit; not part of the in-memory index */
  headers?: HeaderLines
}

/**
 * HeaderLines are search headers as a commit writes them; `texts`, when there, gives each as its JSON
 * text already (a backup's spool), so that a first backup's tens of thousands are not parsed and
 * written again.
 */
export interface HeaderLines extends WireList<WireHeaders> {
  texts?(): Iterable<string>
}

/** headerTexts gives each element of `headers` as its JSON text. */
export function* headerTexts(headers: HeaderLines): Generator<string> {
  if (headers.texts) yield* headers.texts()
  else for (const h of headers) yield JSON.stringify(h)
}

/** emptyCommit returns a commit record with every list empty. */
export function emptyCommit(
  kind: CommitRecord['kind'],
  seq: number,
  snapshot: SnapshotInfo | null,
  time = snapshot?.time ?? new Date().toISOString(),
): CommitRecord {
  return {
    seb: FORMAT_VERSION,
    kind,
    seq,
    time,
    snapshot,
    packs: [],
    dropPacks: [],
    add: [],
    del: [],
    forget: [],
    versions: [],
    snapshots: [],
  }
}

/** encodeCommit serialises a commit record to UTF-8 JSON bytes. */
export function encodeCommit(c: CommitRecord): Buffer {
  return Buffer.from(JSON.stringify(c), 'utf8')
}

/** BadCommit is a commit record (or one of its lines) that is malformed. */
export class BadCommit extends Error {}

/**
 * decodeCommit parses and validates a format-1 commit record (one JSON value; read only by the upgrade
 * to format 2); it throws on anything malformed.
 */
export function decodeCommit(data: Buffer): CommitRecord {
  let raw: unknown
  try {
    raw = JSON.parse(data.toString('utf8'))
  } catch {
    throw new BadCommit('commit record is not JSON')
  }
  const c = raw as CommitRecord
  check(typeof c === 'object' && c !== null, 'not an object')
  check(
    c.seb === FORMAT_1 || c.seb === FORMAT_VERSION,
    `format version ${String(c.seb)} is not supported here`,
  )
  check(c.kind === 'delta' || c.kind === 'checkpoint', 'bad kind')
  check(Number.isSafeInteger(c.seq) && c.seq > 0, 'bad seq')
  check(typeof c.time === 'string', 'bad time')
  if (c.snapshot !== null) checkSnapshot(c.snapshot)
  for (const k of ['packs', 'dropPacks', 'add', 'del', 'forget', 'versions', 'snapshots'] as const) {
    if (c[k] === undefined) (c as unknown as Record<string, unknown[]>)[k] = []
    check(Array.isArray(c[k]), `${k} is not a list`)
  }
  for (const p of c.packs) {
    check(
      Array.isArray(p) && isHexHash(p[0]) && isCount(p[1]) && isCount(p[2]) && Array.isArray(p[3]),
      'bad pack',
    )
    for (const b of p[3])
      check(
        Array.isArray(b) && isHexHash(b[0]) && isCount(b[1]) && typeof b[2] === 'string' && isCount(b[3]),
        'bad blob',
      )
  }
  for (const id of c.dropPacks) check(typeof id === 'string' && isHexHash(id), 'bad dropped pack')
  for (const e of c.add) checkEntry(e)
  for (const p of c.del) check(typeof p === 'string' && isSafeRelativePath(p), 'bad deleted path')
  for (const s of c.forget) check(isCount(s), 'bad forgotten seq')
  for (const v of c.versions) {
    checkEntry(v)
    check(isCount(v[6]) && isCount(v[7]), 'bad version range')
  }
  for (const s of c.snapshots) checkSnapshot(s)
  return c
}

/** checkEntry validates a [path, kind, ref, size, mtimeMs, mode] entry. */
export function checkEntry(e: unknown[]): void {
  check(
    Array.isArray(e) && typeof e[0] === 'string' && isSafeRelativePath(e[0] as string),
    `unsafe path ${JSON.stringify(e?.[0])}`,
  )
  check(e[1] === 'f' || e[1] === 'l' || e[1] === 'd', 'bad kind')
  check(typeof e[2] === 'string', 'bad ref')
  if (e[1] === 'f') check(isHexHash(e[2] as string), 'bad content hash')
  check(isCount(e[3]) && typeof e[4] === 'number' && Number.isFinite(e[4]) && isCount(e[5]), 'bad metadata')
}

/** checkSnapshot validates a snapshot's description. */
export function checkSnapshot(s: SnapshotInfo): void {
  check(
    typeof s === 'object' &&
      s !== null &&
      isCount(s.seq) &&
      typeof s.id === 'string' &&
      typeof s.time === 'string',
    'bad snapshot',
  )
}

/** isCount tells whether a value is a whole number ≥ 0. */
export function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}

/** check throws BadCommit naming `what` unless `ok`. */
export function check(ok: boolean, what: string): asserts ok {
  if (!ok) throw new BadCommit(`malformed commit record: ${what}`)
}
