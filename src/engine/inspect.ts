// Why: read-only views of a repository — snapshots, ls, find, stats — all built on one loader that
// takes a shared lock and replays (or reads from the cache) the index, so they never block each other
// and never change anything.
import { planCompaction } from '../core/compaction.js'
import { pathMatcher } from '../core/glob.js'
import { type FoundMessage, holds, type MailQuery, selectMessages } from '../core/message-select.js'
import type { EntryKind, SnapshotInfo, Version } from '../core/model.js'
import { pickSnapshot } from '../core/snapshot-select.js'
import { canDecrypt } from '../crypto/keyring.js'
import { UsageError } from '../errors.js'
import { listCommitObjects } from '../repo/commit-writer.js'
import { type RepoAccess, type Repository, withRepository } from '../repo/repository.js'
import type { LoadedState } from '../repo/state-loader.js'

/** ReadOptions are what a read-only command needs. */
export interface ReadOptions extends RepoAccess {}

/** withState runs `fn` on the repository's index under a shared lock. */
function withState<T>(o: ReadOptions, fn: (loaded: LoadedState, repo: Repository) => Promise<T>): Promise<T> {
  return withRepository(o, { lock: 'shared', command: 'read' }, async (repo) =>
    fn(await repo.loadState({ lean: true }), repo),
  )
}

/** listSnapshots returns the snapshots, oldest first. */
export async function listSnapshots(o: ReadOptions): Promise<SnapshotInfo[]> {
  return withState(o, async (loaded) => [...loaded.state.snapshots])
}

/** FileEntry is one path of a snapshot as `seb ls` and `seb find` show it. */
export interface FileEntry {
  readonly path: string
  readonly kind: EntryKind
  readonly size: number
  readonly mtimeMs: number
  readonly mode: number
  /** the symlink target ('' for files and folders) */
  readonly target: string
}

/** Listing is the result of `ls`: the snapshot and its matching entries, sorted by path. */
export interface Listing {
  readonly snapshot: SnapshotInfo
  readonly entries: FileEntry[]
}

function toEntry(v: Version): FileEntry {
  return {
    path: v.path,
    kind: v.kind,
    size: v.kind === 'f' ? v.size : 0,
    mtimeMs: v.mtimeMs,
    mode: v.mode,
    target: v.kind === 'l' ? v.ref : '',
  }
}

/** listFiles returns the entries of a snapshot (the latest by default) matching any of `patterns`. */
export async function listFiles(
  o: ReadOptions & { snapshot?: string; patterns?: readonly string[] },
): Promise<Listing> {
  return withState(o, async ({ state }) => {
    const snapshot = pickSnapshot(state, o.snapshot)
    const match = pathMatcher(o.patterns ?? [])
    const entries = state
      .snapshotVersions(snapshot.seq)
      .filter((v) => match(v.path, v.kind === 'd'))
      .map(toEntry)
    return { snapshot, entries }
  })
}

/** FoundFile is one path matching a `find` pattern in one snapshot. */
export interface FoundFile extends FileEntry {
  readonly snapshot: string
  readonly seq: number
  readonly time: string
}

/** findFiles lists, for every retained snapshot (oldest first), the paths matching any pattern. */
export async function findFiles(
  o: ReadOptions & { patterns: readonly string[] },
): Promise<{ matches: FoundFile[]; snapshots: number }> {
  if (!o.patterns.length || o.patterns.some((p) => !p.trim()))
    throw new UsageError('find needs a non-empty PATTERN, e.g. "*pineapple*" or "INBOX/cur/*"')
  return withState(o, async ({ state }) => {
    const match = pathMatcher(o.patterns)
    const versions = [...state.live.values(), ...state.history].filter((v) => match(v.path, v.kind === 'd'))
    const matches: FoundFile[] = []
    for (const s of state.snapshots) {
      for (const v of versions)
        if (v.from <= s.seq && (v.to === 0 || s.seq < v.to))
          matches.push({ ...toEntry(v), snapshot: s.id, seq: s.seq, time: s.time })
    }
    matches.sort((a, b) => a.seq - b.seq || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    return { matches, snapshots: new Set(matches.map((m) => m.seq)).size }
  })
}

/**
 * findMessages lists the messages of retained snapshots whose search headers match (`patterns`: name
 * globs their path must match too). `complete` is false when the cache's headers were stale and could
 * not be rebuilt (no secret key): some messages may then be missing.
 */
export async function findMessages(
  o: ReadOptions & { query: Omit<MailQuery, 'path'>; patterns?: readonly string[] },
): Promise<{ messages: FoundMessage[]; complete: boolean; snapshots: number }> {
  return withState(o, async (loaded, repo) => {
    const { headers, complete } = await repo.searchHeaders(loaded, await canDecrypt(repo.ctx))
    const glob = o.patterns?.length ? pathMatcher(o.patterns) : null
    const messages = selectMessages(loaded.state, headers, {
      ...o.query,
      path: glob ? (p) => glob(p, false) : undefined,
    })
    const snapshots = loaded.state.snapshots.filter((s) =>
      messages.some((m) => m.versions.some((v) => holds(v, s.seq))),
    ).length
    return { messages, complete, snapshots }
  })
}

/** RepoStats are the numbers `seb stats` prints (all byte counts are bytes). */
export interface RepoStats {
  readonly snapshots: number
  /** files and their bytes in the latest snapshot */
  readonly files: number
  readonly bytes: number
  /** packs the index references, and their bytes as listed on the destination */
  readonly packs: number
  readonly packBytes: number
  /** uncompressed file content stored in those packs */
  readonly contentBytes: number
  /** content no retained snapshot needs any more (compaction reclaims it) */
  readonly deadBytes: number
  readonly liveBytes: number
  /** commit objects (the encrypted index) and their bytes on the destination */
  readonly indexObjects: number
  readonly indexBytes: number
  /** packs on the destination the index does not reference (left by killed runs; removed by the next backup) */
  readonly unreferencedPacks: number
  /** contentBytes / packBytes (0 when there are no packs) */
  readonly compressionRatio: number
}

/** repoStats measures the repository: index and destination listing, nothing decrypted beyond the index. */
export async function repoStats(o: ReadOptions): Promise<RepoStats> {
  return withState(o, async ({ state }, repo) => {
    const commits = await listCommitObjects(repo.storage, o.signal)
    const listed = new Map<string, number>()
    for await (const p of o.storage.list('pack', o.signal)) listed.set(p.name, p.size)
    let files = 0
    let bytes = 0
    for (const v of state.live.values()) {
      if (v.kind !== 'f') continue
      files++
      bytes += v.size
    }
    let packBytes = 0
    let contentBytes = 0
    for (const p of state.packs.values()) {
      packBytes += listed.get(p.id) ?? p.size
      contentBytes += p.contentBytes
    }
    const plan = planCompaction(state, [])
    return {
      snapshots: state.snapshots.length,
      files,
      bytes,
      packs: state.packs.size,
      packBytes,
      contentBytes,
      deadBytes: plan.deadBytes,
      liveBytes: plan.liveBytes,
      indexObjects: commits.length,
      indexBytes: commits.reduce((n, c) => n + c.size, 0),
      unreferencedPacks: [...listed.keys()].filter((id) => !state.packs.has(id)).length,
      compressionRatio: packBytes ? Math.round((contentBytes / packBytes) * 100) / 100 : 0,
    }
  })
}
