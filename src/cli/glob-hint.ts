// Why: a pattern that matches nothing is usually a pattern written for another layout — `INBOX/cur/*`
// in a tree with one folder per account, a message id without wildcards — so ls, find and restore say
// what would have matched, in one shared wording: 0 files match 'INBOX/cur/*'; did you mean '**/INBOX/cur/*'?
import { suggestGlob } from '../core/glob.js'

/** quoteGlobs prints patterns as the user would type them again: each in single quotes. */
export function quoteGlobs(patterns: readonly string[]): string {
  return patterns.map((p) => `'${p}'`).join(' ')
}

/**
 * noMatchHint is the line for patterns that matched nothing, with the patterns probably meant (core/glob
 * suggestGlob: at any depth, or a bare name as a substring); null when there is nothing to suggest.
 * `what` names where nothing matched ("in snapshot 3f9a1c2e").
 */
export function noMatchHint(patterns: readonly string[], what = ''): string | null {
  const meant = patterns.map((p) => suggestGlob(p))
  if (!meant.some((m) => m !== null)) return null
  const suggested = patterns.map((p, i) => meant[i] ?? p)
  return `0 files${what ? ` ${what}` : ''} match ${quoteGlobs(patterns)}; did you mean ${quoteGlobs(suggested)}?`
}

/** isBareName tells whether a pattern is a plain name: no wildcard, no class, no '/'. */
export function isBareName(pattern: string): boolean {
  return !/[*?[\]/]/.test(pattern)
}
