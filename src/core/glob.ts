// Why: one glob rule for every command that takes a pattern — backup's excludes and ls, find and
// restore's selections — so that a pattern never means two things in one tool (an exclude written
// `Archive/2019/**` once left out that folder in every account). The rule is .gitignore's:
// - a pattern with a `/` at the start or in the middle is anchored at the source root;
// - a pattern without one (a trailing `/` does not count) matches a name at any depth;
// - `*` and `?` stay within one name, `**` spans folders, `[abc]` is a class;
// - a trailing `/` matches folders only;
// - a pattern that matches a folder takes everything below it.
// Pure: paths are seb's '/'-separated strings relative to the root.
import picomatch from 'picomatch'
import { UsageError } from '../errors.js'

/** Glob is one compiled pattern. */
interface Glob {
  /** the pattern as written */
  readonly source: string
  /** anchored patterns are tested on the whole relative path, the others on its last name */
  readonly anchored: boolean
  readonly foldersOnly: boolean
  readonly re: RegExp
}

/** PathGlobs is a compiled list of patterns; the methods return the index of the matching pattern. */
export interface PathGlobs {
  readonly patterns: readonly string[]
  /**
   * matchSelf returns the index of the first pattern that matches `path` itself (not its folders),
   * or -1. A scan, which never enters a folder that matched, needs no more.
   */
  matchSelf(path: string, isFolder: boolean): number
  /**
   * match returns the index of the pattern that matches `path` or one of its folders, or -1; the
   * folders are tried from the top down, so the pattern named is the one a scan would have applied.
   */
  match(path: string, isFolder: boolean): number
}

/** compileGlobs compiles patterns under the one rule above; a malformed pattern is a UsageError. */
export function compileGlobs(patterns: readonly string[], what = 'pattern'): PathGlobs {
  const globs = patterns.map((p) => compileOne(p, what))
  const named = globs.filter((g) => !g.anchored)
  // The patterns matched against a name are one regular expression: a scan tests every name, and
  // a match (rare) is then attributed to its pattern.
  const anyName = named.length ? new RegExp(named.map((g) => `(?:${g.re.source})`).join('|')) : null
  const anchored = globs.filter((g) => g.anchored)
  const self = (path: string, isFolder: boolean): number => {
    if (anyName) {
      const name = path.slice(path.lastIndexOf('/') + 1)
      if (anyName.test(name)) {
        const i = globs.findIndex((g) => !g.anchored && (isFolder || !g.foldersOnly) && g.re.test(name))
        if (i >= 0) return i
      }
    }
    for (const g of anchored) if ((isFolder || !g.foldersOnly) && g.re.test(path)) return globs.indexOf(g)
    return -1
  }
  return {
    patterns,
    matchSelf: self,
    match(path, isFolder) {
      for (let cut = path.indexOf('/'); cut > 0; cut = path.indexOf('/', cut + 1)) {
        const hit = self(path.slice(0, cut), true)
        if (hit >= 0) return hit
      }
      return self(path, isFolder)
    },
  }
}

function compileOne(raw: string, what: string): Glob {
  let p = raw
  const foldersOnly = p.length > 1 && p.endsWith('/')
  p = p.replace(/\/+$/, '')
  const leading = p.startsWith('/')
  p = p.replace(/^\/+/, '')
  if (!p || p.split('/').some((c) => c === '' || c === '.' || c === '..'))
    throw new UsageError(
      `${what} ${JSON.stringify(raw)}: not a usable glob (empty, or with an empty, '.' or '..' component)`,
    )
  const anchored = leading || p.includes('/')
  return { source: raw, anchored, foldersOnly, re: picomatch.makeRe(p, { dot: true }) }
}

/**
 * pathMatcher is the selection of ls, find and restore: true when `path` or one of its folders matches
 * a pattern (every path when there is none).
 */
export function pathMatcher(patterns: readonly string[]): (path: string, isFolder: boolean) => boolean {
  if (!patterns.length) return () => true
  const globs = compileGlobs(patterns)
  return (path, isFolder) => globs.match(path, isFolder) >= 0
}

/**
 * suggestGlob proposes what a user probably meant when `pattern` matched nothing: the same pattern at
 * any depth, or, for a bare name without wildcards, that name as a substring. Null when nothing better.
 */
export function suggestGlob(pattern: string): string | null {
  const p = pattern.replace(/^\/+/, '')
  if (!/[*?[\]]/.test(p) && !p.includes('/')) return `*${p}*`
  if (p.includes('/') && !p.startsWith('**/')) return `**/${p}`
  return null
}
