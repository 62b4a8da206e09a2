// Why: gives back a snapshot (all of it, or the paths matching globs) into a target folder, byte- and
// mtime-identical, checking every file's SHA-256 against the index. Packs are fetched and opened in
// parallel. Output paths come only from the (validated) index — never from names inside a pack — and
// nothing is written through a symlink, so a hostile pack or index cannot write outside the target.
// Damage is not fatal: everything that can be restored is, and what could not is listed.
import { createHash } from 'node:crypto'
import { constants, promises as fs, lstatSync, mkdirSync, type Stats } from 'node:fs'
import path from 'node:path'
import picomatch from 'picomatch'
import { getOrCreate } from '../core/maps.js'
import type { SnapshotInfo, Version } from '../core/model.js'
import { displayPath, encodePath } from '../core/path-bytes.js'
import type { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError, SebError, UsageError } from '../errors.js'
import { readPack } from '../pack/pack-reader.js'
import { LocalCache } from '../repo/cache.js'
import { readConfig } from '../repo/config.js'
import { acquireLock } from '../repo/lock.js'
import { loadState } from '../repo/state-loader.js'
import type { Storage } from '../storage/storage.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { TaskPool } from './concurrency.js'
import type { WriteJob } from './write-worker.js'
import { WriterPool } from './writer-pool.js'

/** Members up to this size are restored from memory; larger ones are streamed to disk. */
const WHOLE_WRITE_MAX = 64 * 1024 * 1024

/** RestoreOptions are the inputs of a restore. */
export interface RestoreOptions {
  readonly storage: Storage
  readonly target: string
  readonly cacheBase: string
  readonly passphrase?: Buffer
  readonly snapshot?: string
  readonly asOf?: string
  readonly patterns?: readonly string[]
  readonly overwrite?: boolean
  readonly progress?: ProgressSink
  readonly signal?: AbortSignal
}

/** RestoreSummary says what was restored and what could not be. */
export interface RestoreSummary {
  readonly snapshot: string
  readonly filesRestored: number
  readonly bytesRestored: number
  readonly failed: { path: string; reason: string }[]
  /** index objects that could not be read (the snapshot chosen is then the newest readable one) */
  readonly damagedIndex: string[]
  readonly durationMs: number
}

/** pickSnapshot resolves --snapshot / --as-of (or the latest) against the state. */
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

/** selectVersions keeps the versions matching any glob (a match on a folder takes all below it). */
export function selectVersions(versions: readonly Version[], patterns: readonly string[]): Version[] {
  if (!patterns.length) return [...versions]
  const matchers = patterns.map((p) => picomatch(p.replace(/\/+$/, ''), { dot: true }))
  const matches = (p: string) => {
    for (let cut = p.length; cut > 0; cut = p.lastIndexOf('/', cut - 1)) {
      const prefix = p.slice(0, cut)
      if (matchers.some((m) => m(prefix))) return true
    }
    return false
  }
  const selected = versions.filter((v) => matches(v.path))
  // Folders leading to selected entries are restored too (with their metadata).
  const dirs = new Set<string>()
  for (const v of selected)
    for (let i = v.path.indexOf('/'); i > 0; i = v.path.indexOf('/', i + 1)) dirs.add(v.path.slice(0, i))
  const have = new Set(selected.map((v) => v.path))
  for (const v of versions) if (v.kind === 'd' && dirs.has(v.path) && !have.has(v.path)) selected.push(v)
  return selected.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** restore restores a snapshot into `target`. */
export async function restore(o: RestoreOptions): Promise<RestoreSummary> {
  const t0 = Date.now()
  const progress = o.progress ?? silent
  const config = await readConfig(o.storage)
  const ctx: GpgContext = { encryption: config.encryption, passphrase: o.passphrase }
  const cache = new LocalCache(o.cacheBase, config.id)
  const lock = await acquireLock(o.storage, 'restore', false)
  try {
    const loaded = await loadState(o.storage, ctx, cache, o.signal)
    for (const d of loaded.damaged)
      progress({ type: 'warning', message: `${d.error}; using the newest readable commit` })
    const snap = pickSnapshot(loaded.state, o.snapshot, o.asOf)
    const versions = selectVersions(loaded.state.snapshotVersions(snap.seq), o.patterns ?? [])
    if (o.patterns?.length && !versions.length)
      throw new UsageError(`nothing in snapshot ${snap.id} matches ${o.patterns.join(' ')}`)
    const r = await restoreVersions(o, ctx, loaded.state, snap, versions, t0, progress)
    return { ...r, damagedIndex: loaded.damaged.map((d) => d.error) }
  } finally {
    await lock.release()
  }
}

async function restoreVersions(
  o: RestoreOptions,
  ctx: GpgContext,
  state: RepoState,
  snap: SnapshotInfo,
  versions: Version[],
  t0: number,
  progress: ProgressSink,
): Promise<Omit<RestoreSummary, 'damagedIndex'>> {
  const targetBytes = Buffer.from(path.resolve(o.target))
  const out = (rel: string) => Buffer.concat([targetBytes, Buffer.from('/'), encodePath(rel)])
  await fs.mkdir(targetBytes, { recursive: true })
  const tst = await fs.lstat(targetBytes)
  if (!tst.isDirectory()) throw new UsageError(`${o.target}: restore target is not a folder`)
  const targetEmpty = (await fs.readdir(targetBytes)).length === 0
  if (!o.overwrite && !targetEmpty) {
    // Refuse before writing anything: no half-done restore over someone's files.
    for (const v of versions) {
      const existing = lstatOrNull(out(v.path))
      if (existing && !(v.kind === 'd' && existing.isDirectory())) {
        throw new UsageError(
          `${path.join(o.target, displayPath(v.path))}: already exists; restore into an empty folder, or add --overwrite`,
        )
      }
    }
  }
  const failed: { path: string; reason: string }[] = []
  const dirs = versions.filter((v) => v.kind === 'd')
  const files = versions.filter((v) => v.kind === 'f')
  const links = versions.filter((v) => v.kind === 'l')
  const madeDirs = new Set<string>()
  const ensureParent = async (rel: string) => {
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : ''
    if (!parent || madeDirs.has(parent)) return
    await ensureParent(parent)
    const p = out(parent)
    const st = lstatOrNull(p)
    if (st && !st.isDirectory())
      throw new SebError(
        'restore-path',
        `${displayPath(parent)}: exists and is not a folder (refusing to write through it)`,
      )
    if (!st) mkdirSync(p, { mode: 0o700 })
    madeDirs.add(parent)
  }
  for (const d of dirs) {
    await ensureParent(`${d.path}/x`)
  }

  // Group the files by pack and member, so each pack is read once.
  const byPack = new Map<string, Map<number, { hash: string; versions: Version[] }>>()
  for (const f of files) {
    const loc = state.blobs.get(f.ref)
    if (!loc) {
      failed.push({
        path: f.path,
        reason: 'its content is not in the index (compacted away or damaged index)',
      })
      continue
    }
    const members = getOrCreate(byPack, loc.pack, () => new Map())
    getOrCreate(members, loc.entry, () => ({ hash: f.ref, versions: [] as Version[] })).versions.push(f)
  }

  let filesRestored = 0
  let bytesRestored = 0
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (o.overwrite ? constants.O_TRUNC : constants.O_EXCL)

  // A large member is streamed into its first path while hashing; other paths with the same content
  // are copies of it. A hash mismatch removes what was written.
  const restoreLarge = async (
    m: { hash: string; versions: Version[] },
    data: AsyncIterable<Buffer>,
    packId: string,
  ) => {
    const [first, ...rest] = m.versions
    if (!first) return
    const hash = createHash('sha256')
    let size = 0
    try {
      await ensureParent(first.path)
      const fh = await fs.open(out(first.path), flags, 0o600)
      try {
        for await (const c of data) {
          hash.update(c)
          size += c.length
          await fh.write(c)
        }
      } finally {
        await fh.close()
      }
    } catch (err) {
      for (const v of m.versions) failed.push({ path: v.path, reason: describe(err) })
      return
    }
    if (hash.digest('hex') !== m.hash) {
      await fs.rm(out(first.path), { force: true })
      for (const v of m.versions)
        failed.push({ path: v.path, reason: `content does not match its hash in pack ${packId} (damaged)` })
      return
    }
    const finish = async (v: Version) => {
      await fs.chmod(out(v.path), v.mode)
      await fs.utimes(out(v.path), toSeconds(v.mtimeMs), toSeconds(v.mtimeMs))
      filesRestored++
      bytesRestored += size
    }
    await finish(first)
    for (const v of rest) {
      try {
        await ensureParent(v.path)
        await fs.copyFile(out(first.path), out(v.path), o.overwrite ? 0 : constants.COPYFILE_EXCL)
        await finish(v)
      } catch (err) {
        failed.push({ path: v.path, reason: describe(err) })
      }
    }
  }

  const writers = new WriterPool(2)
  const pool = new TaskPool(Math.max(2, Math.min(4, o.storage.connections)))
  for (const [packId, members] of byPack) {
    await pool.add(async () => {
      const done = new Set<number>()
      // Members are checked and written on worker threads, in batches; at most two batches of this
      // pack are in flight, so memory stays bounded.
      let batch: { v: Version; job: WriteJob }[] = []
      let batchBytes = 0
      const inflight: Promise<void>[] = []
      const flush = async () => {
        if (!batch.length) return
        const sent = batch
        batch = []
        batchBytes = 0
        inflight.push(
          writers.write(sent.map((b) => b.job)).then((outcomes) => {
            outcomes.forEach((outcome, i) => {
              const { v, job } = sent[i]!
              if (outcome === null) {
                filesRestored++
                bytesRestored += job.data.length
              } else
                failed.push({
                  path: v.path,
                  reason:
                    outcome === 'damaged'
                      ? `content does not match its hash in pack ${packId} (damaged)`
                      : describe(Object.assign(new Error(outcome), { code: outcome })),
                })
            })
          }),
        )
        if (inflight.length >= 2) await inflight.shift()
      }
      try {
        await readPack(
          o.storage,
          ctx,
          packId,
          async (entry, header, data) => {
            const m = members.get(entry)
            if (!m) return
            done.add(entry)
            if ((header.size ?? 0) > WHOLE_WRITE_MAX) {
              await restoreLarge(m, data, packId)
              return
            }
            // Not a pooled Buffer: it is transferred to a worker.
            const buf = Buffer.allocUnsafeSlow(header.size ?? 0)
            let off = 0
            for await (const c of data) off += c.copy(buf, off)
            for (const [i, v] of m.versions.entries()) {
              try {
                await ensureParent(v.path)
              } catch (err) {
                failed.push({ path: v.path, reason: describe(err) })
                continue
              }
              const bytes = i === 0 ? buf : Buffer.from(buf)
              batch.push({
                v,
                job: {
                  path: out(v.path),
                  data: i === 0 ? buf.subarray(0, off) : bytes.subarray(0, off),
                  hash: m.hash,
                  mode: v.mode,
                  mtime: toSeconds(v.mtimeMs),
                  overwrite: Boolean(o.overwrite),
                },
              })
              batchBytes += off
            }
            if (batch.length >= 128 || batchBytes >= 4 * 1024 * 1024) await flush()
          },
          o.signal,
        )
      } catch (err) {
        await flush()
        await Promise.all(inflight)
        if (err instanceof KeyError) throw err
        const reason = err instanceof DamageError ? err.message : describe(err)
        progress({ type: 'warning', message: reason })
        for (const [entry, m] of members)
          if (!done.has(entry)) for (const v of m.versions) failed.push({ path: v.path, reason })
        return
      }
      await flush()
      await Promise.all(inflight)
      progress({
        type: 'progress',
        filesDone: filesRestored,
        filesTotal: files.length,
        bytesDone: bytesRestored,
        bytesTotal: 0,
        bytesUploaded: 0,
      })
      for (const [entry, m] of members)
        if (!done.has(entry))
          for (const v of m.versions)
            failed.push({ path: v.path, reason: `pack ${packId} has no member ${entry} (damaged)` })
    })
  }
  try {
    await pool.wait()
  } finally {
    await writers.close()
  }

  for (const l of links) {
    try {
      await ensureParent(l.path)
      if (o.overwrite) await fs.rm(out(l.path), { force: true })
      await fs.symlink(encodePath(l.ref), out(l.path))
      await fs.lutimes(out(l.path), toSeconds(l.mtimeMs), toSeconds(l.mtimeMs))
      filesRestored++
    } catch (err) {
      failed.push({ path: l.path, reason: describe(err) })
    }
  }
  // Folder metadata last (writing files changes a folder's mtime), deepest first.
  for (const d of [...dirs].sort((a, b) => b.path.length - a.path.length)) {
    try {
      await fs.chmod(out(d.path), d.mode)
      await fs.utimes(out(d.path), toSeconds(d.mtimeMs), toSeconds(d.mtimeMs))
    } catch (err) {
      failed.push({ path: d.path, reason: describe(err) })
    }
  }
  failed.sort((a, b) => (a.path < b.path ? -1 : 1))
  return { snapshot: snap.id, filesRestored, bytesRestored, failed, durationMs: Date.now() - t0 }
}

function lstatOrNull(p: Buffer): Stats | null {
  try {
    return lstatSync(p)
  } catch {
    return null
  }
}

/**
 * toSeconds converts an index mtime to the seconds Node's utimes takes. libuv truncates to whole
 * microseconds, so half a microsecond is added: the truncation then lands on the exact value.
 */
export function toSeconds(mtimeMs: number): number {
  return (Math.round(mtimeMs * 1000) + 0.5) / 1e6
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException
  if (e?.code === 'EEXIST') return 'already exists'
  if (e?.code === 'ELOOP') return 'a symlink is in the way (refusing to write through it)'
  if (e?.code === 'EACCES') return 'permission denied'
  if (e?.code === 'ENOSPC') return 'no space left on the restore target'
  return e?.message ?? String(err)
}
