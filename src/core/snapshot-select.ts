// Why: which snapshot and which paths a command means — `--snapshot ID` (or an id prefix), `--as-of
// DATE`, the latest otherwise, and the globs of ls, find and restore — decided the same way for every
// command. Pure.
import { SebError, UsageError } from '../errors.js'
import { pathMatcher } from './glob.js'
import type { SnapshotInfo, Version } from './model.js'
import type { RepoState } from './repo-state.js'

/** pickSnapshot resolves --snapshot / --as-of (or the latest) against the state (a snapshot id or unique prefix, or the newest at or before a date). */
export function pickSnapshot(state: RepoState, id?: string, asOf?: string): SnapshotInfo {
  if (!state.snapshots.length)
    throw new SebError('empty', 'the repository has no snapshot yet: run seb backup first')
  if (id) {
    const s = state.findSnapshot(id)
    if (!s)
      throw new UsageError(
        `--snapshot ${id}: no such snapshot (or the prefix is ambiguous); 'seb snapshots' lists them`,
      )
    return s
  }
  if (asOf) {
    const t = Date.parse(asOf)
    if (Number.isNaN(t))
      throw new UsageError(`--as-of ${asOf}: not a date (use e.g. 2026-11-20 or 2026-11-20T18:00)`)
    const hits = state.snapshots.filter((s) => Date.parse(s.time) <= t)
    if (!hits.length)
      throw new UsageError(`--as-of ${asOf}: no snapshot that old; 'seb snapshots' lists them`)
    return hits[hits.length - 1]!
  }
  return state.snapshots[state.snapshots.length - 1]!
}

/**
 * selectVersions keeps the versions matching any glob, under the one rule of ls and find (a match on a
 * folder takes all below it), and the folders leading to them.
 */
export function selectVersions(versions: readonly Version[], patterns: readonly string[]): Version[] {
  if (!patterns.length) return [...versions]
  const matches = pathMatcher(patterns)
  const selected = versions.filter((v) => matches(v.path, v.kind === 'd'))
  // Folders leading to selected entries are restored too (with their metadata).
  const dirs = new Set<string>()
  for (const v of selected)
    for (let i = v.path.indexOf('/'); i > 0; i = v.path.indexOf('/', i + 1)) dirs.add(v.path.slice(0, i))
  const have = new Set(selected.map((v) => v.path))
  for (const v of versions) if (v.kind === 'd' && dirs.has(v.path) && !have.has(v.path)) selected.push(v)
  return selected.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}
