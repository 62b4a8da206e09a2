// Why: walks the source tree and stats every entry, with names handled as raw bytes (non-UTF-8 names
// survive) and in a deterministic order. Maildir renames files all the time: an entry that vanishes
// between readdir and lstat is not an error (its new name is picked up now or next run). Unreadable
// folders are reported, never fatal.
import { promises as fs } from 'node:fs'
import type { Excluder } from '../core/excludes.js'
import type { ScanEntry } from '../core/model.js'
import { decodePath, encodePath } from '../core/path-bytes.js'

/** ScanProblem is an entry that was skipped, with why. */
export interface ScanProblem {
  readonly path: string
  readonly reason: string
}

/** ScanResult lists the entries found and what was skipped. */
export interface ScanResult {
  readonly entries: ScanEntry[]
  /** sockets, FIFOs, devices: not backed up (noted) */
  readonly skipped: ScanProblem[]
  /** folders or entries that could not be read (permission denied…) */
  readonly unreadable: ScanProblem[]
}

const STAT_BATCH = 128

/** scanTree lists everything below `root` (root itself excluded), sorted by path bytes. */
export async function scanTree(root: string, exclude: Excluder, signal?: AbortSignal): Promise<ScanResult> {
  const rootBytes = Buffer.from(root)
  const entries: ScanEntry[] = []
  const skipped: ScanProblem[] = []
  const unreadable: ScanProblem[] = []
  const absolute = (rel: string) => (rel ? Buffer.concat([rootBytes, Buffer.from('/'), encodePath(rel)]) : rootBytes)
  let dirs: string[] = ['']
  while (dirs.length) {
    signal?.throwIfAborted()
    const next: string[] = []
    for (const dir of dirs) {
      let names: Buffer[]
      try {
        names = (await fs.readdir(absolute(dir), { encoding: 'buffer' })) as Buffer[]
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' && dir) continue // folder renamed away mid-scan
        unreadable.push({ path: dir || '.', reason: describe(err) })
        continue
      }
      names.sort(Buffer.compare)
      const rels = names.map((n) => (dir ? `${dir}/${decodePath(n)}` : decodePath(n)))
      for (let i = 0; i < rels.length; i += STAT_BATCH) {
        const batch = rels.slice(i, i + STAT_BATCH)
        const stats = await Promise.all(batch.map((rel) => fs.lstat(absolute(rel), { bigint: true }).catch((err: NodeJS.ErrnoException) => err)))
        for (let k = 0; k < batch.length; k++) {
          const rel = batch[k]!
          const st = stats[k]!
          if (st instanceof Error) {
            if ((st as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push({ path: rel, reason: describe(st) })
            continue
          }
          if (exclude(rel)) continue
          const base = { path: rel, size: 0, mtimeMs: exactMs(st.mtimeNs), mode: Number(st.mode) & 0o7777, ino: Number(st.ino), ctimeMs: exactMs(st.ctimeNs) }
          if (st.isFile()) entries.push({ ...base, kind: 'f', size: Number(st.size) })
          else if (st.isDirectory()) {
            entries.push({ ...base, kind: 'd' })
            next.push(rel)
          } else if (st.isSymbolicLink()) {
            try {
              const target = decodePath((await fs.readlink(absolute(rel), { encoding: 'buffer' })) as Buffer)
              entries.push({ ...base, kind: 'l', target })
            } catch (err) {
              if ((err as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push({ path: rel, reason: describe(err) })
            }
          } else skipped.push({ path: rel, reason: st.isFIFO() ? 'FIFO' : st.isSocket() ? 'socket' : 'device' })
        }
      }
    }
    dirs = next
  }
  entries.sort((a, b) => compareBytes(a.path, b.path))
  return { entries, skipped, unreadable }
}

/**
 * exactMs turns a nanosecond timestamp into milliseconds holding exact microseconds (the finest a
 * restore can set through Node): Math.round(ms * 1000) gives the microseconds back without error.
 */
export function exactMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied'
  return e.code ?? e.message
}
