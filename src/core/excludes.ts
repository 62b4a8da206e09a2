// Why: what not to back up. Maildir trees hold half-delivered mail (tmp/) and caches that mail servers
// rebuild (Dovecot's index files) or lock files that change every second; backing those up costs
// bandwidth and restores stale state. The defaults are listed here, shown by `seb backup --help`, and
// turned off with --no-default-excludes. Patterns are globs matched against the '/'-separated path
// relative to the source root (a pattern without '/' matches a name at any depth). Pure.
import picomatch from 'picomatch'

/** DEFAULT_EXCLUDES are the Maildir defaults (docs/design.md, "What is backed up"). */
export const DEFAULT_EXCLUDES: readonly string[] = [
  'tmp/*', // Maildir delivery in progress: incomplete messages (the tmp/ folder itself is kept)
  'dovecot.index*', // Dovecot index, cache and log: rebuilt by Dovecot from the messages
  'dovecot.list.index*',
  'dovecot-uidlist.lock',
  '.mbsyncstate.lock', // mbsync's lock and in-progress journal
  '.mbsyncstate.new',
  '.mbsyncstate.journal',
  '.offlineimap.lock',
]

/** Excluder tells whether a relative path is excluded. */
export type Excluder = (path: string) => boolean

/** makeExcluder compiles glob patterns into one predicate. */
export function makeExcluder(patterns: readonly string[]): Excluder {
  if (patterns.length === 0) return () => false
  const matchers = patterns.map((p) => {
    const anchored = p.startsWith('/')
    const glob = anchored ? p.slice(1) : p
    // A pattern without a slash, or a relative one, matches at any depth (like .gitignore).
    return picomatch(anchored ? glob : `**/${glob}`, { dot: true })
  })
  return (path) => matchers.some((m) => m(path))
}
