// Why: what a backup is given and what it reports: the options of one run and its summary (the CLI
// prints it; --json emits it as the final object; docs/json-output.md is its schema).
import type { ChangeCounts } from '../../core/diff.js'
import type { RepoAccess } from '../../repo/repository.js'
import type { ProgressSink } from '../../ui/progress.js'

/** BackupOptions are the inputs of one run. */
export interface BackupOptions extends RepoAccess {
  readonly source: string
  readonly excludes?: readonly string[]
  readonly defaultExcludes?: boolean
  readonly dryRun?: boolean
  readonly host?: string
  readonly workers?: number
  readonly progress?: ProgressSink
  /** accept a source other than the one the repository's snapshots hold (a Maildir moved on purpose) */
  readonly allowNewSource?: boolean
  /** compact automatically when worth it (default true) */
  readonly autoCompact?: boolean
  /** clock, for tests of retention (ms since the epoch) */
  readonly now?: () => number
}

/** BackupSummary is what a run did (the CLI prints it; --json emits it as the final object). */
export interface BackupSummary {
  readonly snapshot: string | null
  readonly seq: number
  readonly dryRun: boolean
  readonly filesAdded: number
  readonly filesChanged: number
  readonly filesRenamed: number
  readonly filesDeleted: number
  readonly filesUnchanged: number
  readonly files: number
  readonly bytes: number
  readonly bytesRead: number
  readonly bytesNew: number
  readonly bytesUploaded: number
  readonly packsWritten: number
  readonly packsRewritten: number
  readonly packsDropped: number
  readonly indexBytes: number
  readonly durationMs: number
  readonly unreadable: { path: string; reason: string }[]
  readonly skipped: { path: string; reason: string }[]
  /** per exclude pattern, the files it left out (patterns that left out nothing are listed too) */
  readonly excluded: { pattern: string; files: number }[]
  /** with dryRun: the paths the excludes matched (a folder ends in '/'; its contents are not listed) */
  readonly excludedPaths: string[]
  readonly indexRebuilt: boolean
}

/** excludedBy pairs each exclude pattern with the number of files it left out. */
export function excludedBy(
  patterns: readonly string[],
  counts: readonly number[],
): BackupSummary['excluded'] {
  return patterns.map((pattern, i) => ({ pattern, files: counts[i] ?? 0 }))
}

export function summarize(a: {
  snapshot: string | null
  seq: number
  dryRun: boolean
  counts: ChangeCounts
  files: number
  bytes: number
  bytesRead: number
  bytesNew: number
  bytesUploaded: number
  packsWritten: number
  indexBytes: number
  t0: number
  unreadable: { path: string; reason: string }[]
  skipped: { path: string; reason: string }[]
  excluded: { pattern: string; files: number }[]
  excludedPaths: string[]
  rebuilt: boolean
}): BackupSummary {
  return {
    snapshot: a.snapshot,
    seq: a.seq,
    dryRun: a.dryRun,
    filesAdded: a.counts.added,
    filesChanged: a.counts.changed,
    filesRenamed: a.counts.renamed,
    filesDeleted: a.counts.deleted,
    filesUnchanged: a.counts.unchanged,
    files: a.files,
    bytes: a.bytes,
    bytesRead: a.bytesRead,
    bytesNew: a.bytesNew,
    bytesUploaded: a.bytesUploaded,
    packsWritten: a.packsWritten,
    packsRewritten: 0,
    packsDropped: 0,
    indexBytes: a.indexBytes,
    durationMs: Date.now() - a.t0,
    unreadable: a.unreadable,
    skipped: a.skipped,
    excluded: a.excluded,
    excludedPaths: a.excludedPaths,
    indexRebuilt: a.rebuilt,
  }
}
