// Why: what not to back up. Maildir trees hold half-delivered mail (tmp/) and caches that mail servers
// rebuild (Dovecot's index files) or lock files that change every second; backing those up costs
// bandwidth and restores stale state. The defaults are listed here, shown by `seb backup --help`, and
// turned off with --no-default-excludes. Patterns follow the one glob rule of core/glob.ts (.gitignore's:
// a pattern with a '/' is anchored at the source root, one without matches a name at any depth). Pure.
import { compileGlobs, type PathGlobs } from './glob.js'

/** DEFAULT_EXCLUDES are the Maildir defaults (docs/design.md, "What is backed up"). */
export const DEFAULT_EXCLUDES: readonly string[] = [
  '**/tmp/*', // Maildir delivery in progress: incomplete messages (the tmp/ folders themselves are kept)
  'dovecot.index*', // Dovecot index, cache and log: rebuilt by Dovecot from the messages
  'dovecot.list.index*',
  'dovecot-uidlist.lock',
  '.mbsyncstate.lock', // mbsync's lock and in-progress journal
  '.mbsyncstate.new',
  '.mbsyncstate.journal',
  '.offlineimap.lock',
]

/**
 * Excluder is a compiled list of exclude patterns: `matchSelf(path, isFolder)` gives the index of the
 * pattern that leaves `path` out, or -1. A scan does not enter a folder that is left out, so the
 * folders above a path need no test.
 */
export type Excluder = PathGlobs

/** makeExcluder compiles exclude patterns (a malformed one is a UsageError naming it). */
export function makeExcluder(patterns: readonly string[]): Excluder {
  return compileGlobs(patterns, 'exclude')
}
