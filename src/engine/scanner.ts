// Why: walks the source tree and stats every entry, with names handled as raw bytes (non-UTF-8 names
// survive) and in a deterministic order. Maildir renames files all the time: an entry that vanishes
// between readdir and lstat is not an error (its new name is picked up now or next run). Unreadable
// folders are reported, never fatal.
import { type BigIntStats, lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
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

const NON_ASCII = /[^\x20-\x7e]/

/**
 * scanTree lists everything below `root` (root itself excluded), folder by folder, each folder's
 * names in byte order.
 *
 * The system calls are synchronous on purpose: a Maildir is tens of thousands of tiny lstat calls with
 * nothing to overlap them with, and a synchronous lstat costs a few microseconds where an asynchronous
 * one costs a thread-pool round trip (measured: 87,348 entries in 0.6 s instead of 2.0-2.7 s). The
 * event loop gets a turn after every folder, so Ctrl-C stays prompt.
 */
export async function scanTree(root: string, exclude: Excluder, signal?: AbortSignal): Promise<ScanResult> {
  const rootBytes = Buffer.from(root)
  const entries: ScanEntry[] = []
  const skipped: ScanProblem[] = []
  const unreadable: ScanProblem[] = []
  const slash = Buffer.from('/')
  const absolute = (rel: string) => (rel ? Buffer.concat([rootBytes, slash, encodePath(rel)]) : rootBytes)
  const stack: string[] = ['']
  const rootText = root.replace(/\/+$/, '')
  while (stack.length) {
    signal?.throwIfAborted()
    const dir = stack.pop()!
    let names: string[]
    try {
      // latin1 maps each byte to one character: ASCII names (nearly all Maildir names) come out as
      // the final string and as a usable path; others are decoded losslessly below.
      names = readdirSync(absolute(dir), 'latin1')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' && dir) continue // folder renamed away mid-scan
      unreadable.push({ path: dir || '.', reason: describe(err) })
      continue
    }
    names.sort() // a deterministic order (byte order, since latin1 keeps one character per byte)
    const subdirs: string[] = []
    const dirText = dir ? `${rootText}/${dir}` : rootText
    const dirIsAscii = !NON_ASCII.test(dirText)
    for (const latin of names) {
      const ascii = dirIsAscii && !NON_ASCII.test(latin)
      const name = ascii ? latin : decodePath(Buffer.from(latin, 'latin1'))
      const rel = dir ? `${dir}/${name}` : name
      const full: string | Buffer = ascii ? `${dirText}/${latin}` : absolute(rel)
      let st: BigIntStats
      try {
        st = lstatSync(full, { bigint: true })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          unreadable.push({ path: rel, reason: describe(err) })
        continue
      }
      if (exclude(rel)) continue
      const mtimeMs = exactMs(st.mtimeNs)
      const mode = Number(st.mode) & 0o7777
      const ino = Number(st.ino)
      const ctimeMs = exactMs(st.ctimeNs)
      if (st.isFile())
        entries.push({ path: rel, kind: 'f', size: Number(st.size), mtimeMs, mode, ino, ctimeMs })
      else if (st.isDirectory()) {
        entries.push({ path: rel, kind: 'd', size: 0, mtimeMs, mode, ino, ctimeMs })
        subdirs.push(rel)
      } else if (st.isSymbolicLink()) {
        try {
          const target = decodePath(readlinkSync(full, { encoding: 'buffer' }) as Buffer)
          entries.push({ path: rel, kind: 'l', size: 0, mtimeMs, mode, ino, ctimeMs, target })
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
            unreadable.push({ path: rel, reason: describe(err) })
        }
      } else skipped.push({ path: rel, reason: st.isFIFO() ? 'FIFO' : st.isSocket() ? 'socket' : 'device' })
    }
    stack.push(...subdirs.reverse())
    await new Promise<void>((r) => setImmediate(r))
  }
  return { entries, skipped, unreadable }
}

/**
 * exactMs turns a nanosecond timestamp into milliseconds holding exact microseconds (the finest a
 * restore can set through Node): Math.round(ms * 1000) gives the microseconds back without error.
 */
export function exactMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied'
  return e.code ?? e.message
}

/**
 * scanTreeInWorker runs scanTree on a worker thread (src/engine/scan-worker.ts), so the caller's thread
 * is free meanwhile. Patterns are the exclude patterns given to makeExcluder.
 */
export function scanTreeInWorker(
  root: string,
  patterns: readonly string[],
  signal?: AbortSignal,
): Promise<ScanResult> {
  signal?.throwIfAborted()
  const worker = new Worker(new URL('./scan-worker.js', import.meta.url))
  let onAbort = () => {}
  return new Promise<ScanResult>((resolve, reject) => {
    onAbort = () => reject(signal!.reason)
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.once('message', (m: { result?: ScanResult; error?: string }) => {
      if (m.result) resolve(m.result)
      else reject(new Error(`scan failed: ${m.error}`))
    })
    worker.once('error', reject)
    worker.once('exit', () => reject(new Error('scan worker stopped')))
    worker.postMessage({ root, patterns: [...patterns] })
  }).finally(() => {
    signal?.removeEventListener('abort', onAbort)
    void worker.terminate()
  })
}
