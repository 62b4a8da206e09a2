// Why: one place maps typed handles to object names, so every backend lays a repository out the same
// way and a hostile or buggy name can never escape the repository (restic's backend/layout).
import type { FileType, Handle } from './storage.js'

const COMMIT_NAME = /^[0-9]{10}-[0-9a-f]{16}$/

const NAME_RULES: Record<FileType, RegExp> = {
  config: /^$/,
  pack: /^[0-9a-f]{64}$/,
  commit: COMMIT_NAME,
  sig: COMMIT_NAME,
  key: /^signing$/,
  lock: /^[0-9a-f]{32}$/,
  // format 1's commits, read only by the upgrade to format 2
  index: COMMIT_NAME,
}

/** DIRS lists the folder each kind of object lives in (the config sits at the top). */
export const DIRS: Record<Exclude<FileType, 'config'>, string> = {
  pack: 'packs',
  commit: 'commits',
  sig: 'sigs',
  key: 'keys',
  lock: 'locks',
  index: 'index',
}

/** assertValidHandle throws when a handle's name does not fit its kind. */
export function assertValidHandle(h: Handle): void {
  const rule = NAME_RULES[h.type]
  if (!rule?.test(h.name)) throw new Error(`invalid ${h.type} name ${JSON.stringify(h.name)}`)
}

/** isValidName tells whether a listed name can be an object of that kind (others are ignored). */
export function isValidName(type: FileType, name: string): boolean {
  return NAME_RULES[type].test(name)
}

/** objectPath returns the slash-separated path of a handle below the repository root. */
export function objectPath(h: Handle): string {
  assertValidHandle(h)
  if (h.type === 'config') return 'config'
  if (h.type === 'pack') return `${DIRS.pack}/${h.name.slice(0, 2)}/${h.name}`
  return `${DIRS[h.type]}/${h.name}`
}

/** listPrefixes returns the folders to list for a kind (packs fan out over 256 sub-folders). */
export function typeDir(type: Exclude<FileType, 'config'>): string {
  return DIRS[type]
}

/** TEMP_MARK is part of every temporary name a backend writes; listings skip such names. */
export const TEMP_MARK = '.seb-tmp-'

/**
 * TEMP_LOCK_GRACE_MS: removeTemp leaves temporary objects in `locks/` younger than this. A reader may be
 * writing its shared lock while a backup holds the exclusive one (it lists before it writes); that save
 * takes milliseconds, so an older temp lock is a leftover of a killed run.
 */
export const TEMP_LOCK_GRACE_MS = 10 * 60 * 1000

/** tempDirs lists the folders (relative to the root; '' is the root) where temporary objects may be. */
export function tempDirs(packFanout: readonly string[]): string[] {
  const fan = packFanout.filter((d) => /^[0-9a-f]{2}$/.test(d)).map((d) => `${DIRS.pack}/${d}`)
  return ['', DIRS.commit, DIRS.sig, DIRS.key, DIRS.index, DIRS.lock, DIRS.pack, ...fan]
}
