// Why: small value helpers that the config file's validator and the settings resolver both use —
// `~` expansion, upload rates, http URLs, "did you mean" suggestions — each written once. Pure: no I/O
// (the home folder is passed in, defaulting to the current user's).
import os from 'node:os'
import path from 'node:path'
import { parseRate } from '../storage/limit.js'
import { editDistance } from '../util/edit-distance.js'

/** Env is the part of the environment seb's config reads. */
export type Env = Readonly<Record<string, string | undefined>>

/** expandHome turns a leading `~` or `~/` into the home folder; anything else is returned as is. */
export function expandHome(p: string, home: string = os.homedir()): string {
  if (p === '~') return home
  if (p.startsWith('~/')) return path.join(home, p.slice(2))
  return p
}

/** tildePath shows a path under the home folder as `~/…` (for messages). */
export function tildePath(p: string, home: string = os.homedir()): string {
  if (home && home !== '/' && (p === home || p.startsWith(home + path.sep))) return `~${p.slice(home.length)}`
  return p
}

/** isHttpUrl tells whether s is an http(s) URL. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

/**
 * rate reads an upload limit: a number of bytes per second, a size with a unit (500k, 2M), or
 * none/off/unlimited/0 for no limit (returned as 0). Undefined when it is none of these.
 */
export function rate(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
  if (typeof value !== 'string') return undefined
  const s = value.trim().toLowerCase()
  if (s === 'none' || s === 'off' || s === 'unlimited' || s === 'no' || /^0+$/.test(s)) return 0
  try {
    return parseRate(s)
  } catch {
    return undefined
  }
}

const ALIASES: Readonly<Record<string, string>> = {
  src: 'source',
  maildir: 'source',
  dest: 'destination',
  target: 'destination',
  repo: 'destination',
  repository: 'destination',
  recipient: 'recipients',
  key: 'recipients',
  keys: 'recipients',
  excludes: 'exclude',
  retention: 'retention-days',
  passphrase: 'passphrase-file',
  endpoint: 's3-endpoint',
  region: 's3-region',
  profile: 'profiles',
  default: 'defaults',
}

/** suggest finds the known word a mistyped one most likely meant, or undefined. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase().replace(/[_ ]/g, '-')
  const alias = ALIASES[w]
  if (alias && known.includes(alias)) return alias
  if (known.includes(w)) return w
  let best: string | undefined
  let bestD = Number.POSITIVE_INFINITY
  for (const k of known) {
    const d = editDistance(w, k)
    if (d < bestD) {
      best = k
      bestD = d
    }
  }
  if (best !== undefined && bestD <= Math.max(1, Math.floor(w.length / 3))) return best
  if (w.length >= 4) return known.find((k) => k.startsWith(w) || k.replace(/-/g, '') === w.replace(/-/g, ''))
  return undefined
}
