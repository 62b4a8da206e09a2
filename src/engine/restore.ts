// Why: gives back a snapshot (all of it, or the paths matching globs) into a target folder, byte- and
// mtime-identical, checking every file's SHA-256 against the index. Packs are decrypted by gpg and
// unpacked on worker threads (unpacker-pool.ts), two at a time; a remote pack is downloaded to a
// private temporary file first, so the workers always read a file and downloads overlap unpacking.
// Output paths come only from the (validated) index — never from names inside a pack — and nothing is
// written through a symlink, so a hostile pack or index cannot write outside the target. Damage is not
// fatal: everything that can be restored is, and what could not is listed.
import { promises as fs, lstatSync, mkdirSync, type Stats } from 'node:fs'
import path from 'node:path'
import { getOrCreate } from '../core/maps.js'
import { selectMessages, versionsForIds } from '../core/message-select.js'
import type { SnapshotInfo, Version } from '../core/model.js'
import { displayPath, encodePath } from '../core/path-bytes.js'
import type { RepoState } from '../core/repo-state.js'
import { pickSnapshot, selectVersions } from '../core/snapshot-select.js'
import type { GpgContext } from '../crypto/gpg.js'
import { canDecrypt } from '../crypto/keyring.js'
import { DamageError, KeyError, MessageNotFoundError, SebError, UsageError } from '../errors.js'
import { explain, packFile } from '../pack/pack-reader.js'
import {
  DAMAGED,
  FAILED,
  MISSING,
  type TargetOutcomes,
  UnpackListBuilder,
  WRITTEN,
} from '../pipeline/unpack-list.js'
import type { Failure } from '../pipeline/unpack-worker.js'
import { UnpackerPool } from '../pipeline/unpacker-pool.js'
import { type RepoAccess, Repository } from '../repo/repository.js'
import type { LoadedState } from '../repo/state-loader.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { TaskPool } from '../util/concurrency.js'
import { errnoCode, errnoText } from '../util/errno.js'
import { restoreSalvaged } from './restore-salvage.js'
import { planTwins, restoreTwins } from './restore-twins.js'

/** RestoreOptions are the inputs of a restore. */
export interface RestoreOptions extends RepoAccess {
  readonly target: string
  readonly snapshot?: string
  readonly asOf?: string
  readonly patterns?: readonly string[]
  readonly overwrite?: boolean
  readonly progress?: ProgressSink
  /** restore only the messages with these Message-IDs (by default from the newest snapshot holding each) */
  readonly messageIds?: readonly string[]
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

/** restore restores a snapshot into `target`. */
export async function restore(o: RestoreOptions): Promise<RestoreSummary> {
  const t0 = Date.now()
  const progress = o.progress ?? silent
  // The workers start (on the other core) while the repository is opened and the index read. They and
  // their private folder are ready before anything is written into the target: a TMPDIR where they
  // cannot be made is reported with the target untouched.
  const opening = UnpackerPool.open(UNPACKERS)
  opening.catch(() => {}) // awaited below, or closed on the way out
  let repo: Repository
  try {
    repo = await Repository.open(o, { lock: 'shared', command: 'restore' })
  } catch (err) {
    await opening.then(
      (p) => p.close(),
      () => {},
    )
    throw err
  }
  const { ctx } = repo
  try {
    let chosen: Chosen
    try {
      chosen = await choose(o, repo, progress)
    } catch (err) {
      await opening.then(
        (p) => p.close(),
        () => {},
      )
      throw err
    }
    const { loaded, snap, versions } = chosen
    const unpackers = await opening
    try {
      const r = await restoreVersions(o, ctx, loaded.state, snap, versions, t0, progress, unpackers)
      return { ...r, damagedIndex: loaded.damaged.map((d) => d.error) }
    } finally {
      await unpackers.close()
    }
  } finally {
    await repo.close()
  }
}

/** Chosen is the index as loaded, the snapshot to restore and the versions of it wanted. */
interface Chosen {
  readonly loaded: LoadedState
  readonly snap: SnapshotInfo
  readonly versions: Version[]
}

/** choose loads the index and picks the snapshot and the versions the globs select. */
async function choose(o: RestoreOptions, repo: Repository, progress: ProgressSink): Promise<Chosen> {
  // An index rebuilt from the destination is kept in the cache, so that the next backup needs the
  // public key only; a cache that cannot be written must not stop a disaster restore.
  const loaded = await repo.loadState({
    lean: true,
    onSaveError: (err) =>
      progress({
        type: 'warning',
        message: `the local cache was not saved (${describe(err)}); the next run reads the index again`,
      }),
  })
  for (const d of loaded.damaged)
    progress({ type: 'warning', message: `${d.error}; using the newest readable commit` })
  if (o.messageIds?.length) return chooseMessages(o, repo, loaded)
  const snap = pickSnapshot(loaded.state, o.snapshot, o.asOf)
  // Unsorted: restore needs no order, and sorting 87,000 paths took 60 ms of its start.
  const versions = selectVersions(loaded.state.snapshotVersions(snap.seq, false), o.patterns ?? [])
  if (o.patterns?.length && !versions.length)
    throw new UsageError(`nothing in snapshot ${snap.id} matches ${o.patterns.join(' ')}`)
  return { loaded, snap, versions }
}

/**
 * chooseMessages picks the versions of the messages `--message-id` names: in the snapshot chosen, or
 * each in the newest snapshot that holds it. An id found nowhere stops the restore before it starts.
 */
async function chooseMessages(o: RestoreOptions, repo: Repository, loaded: LoadedState): Promise<Chosen> {
  const { state } = loaded
  const { headers } = await repo.searchHeaders(loaded, await canDecrypt(repo.ctx))
  const ids = o.messageIds ?? []
  const found = selectMessages(state, headers, { messageIds: ids })
  const fixed = o.snapshot || o.asOf ? pickSnapshot(state, o.snapshot, o.asOf) : null
  const picked = versionsForIds(found, ids, fixed?.seq ?? null)
  if (picked.missing.length)
    throw new MessageNotFoundError(picked.missing, fixed ? `snapshot ${fixed.id}` : 'any snapshot')
  const snap = fixed ?? state.snapshots.find((s) => s.seq === picked.seq)!
  return { loaded, snap, versions: picked.versions }
}

/** UNPACKERS: packs decrypted and unpacked at once (two cores: gpg and the unpack workers share them). */
const UNPACKERS = 2

async function restoreVersions(
  o: RestoreOptions,
  ctx: GpgContext,
  state: RepoState,
  snap: SnapshotInfo,
  versions: Version[],
  t0: number,
  progress: ProgressSink,
  unpackers: UnpackerPool,
): Promise<Omit<RestoreSummary, 'damagedIndex'>> {
  const targetBytes = Buffer.from(path.resolve(o.target))
  const out = (rel: string) => Buffer.concat([targetBytes, Buffer.from('/'), encodePath(rel)])
  await fs.mkdir(targetBytes, { recursive: true })
  const tst = await fs.lstat(targetBytes)
  if (!tst.isDirectory()) throw new UsageError(`${o.target}: restore target is not a folder`)
  const targetEmpty = (await fs.readdir(targetBytes)).length === 0
  if (!o.overwrite && !targetEmpty) {
    // Refuse before writing anything: no half-done restore over someone's files (the first in path
    // order is named).
    for (const v of [...versions].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
      const existing = lstatOrNull(out(v.path))
      if (existing && !(v.kind === 'd' && existing.isDirectory())) {
        throw new UsageError(
          `${path.join(o.target, displayPath(v.path))}: already exists; restore into an empty folder, or add --overwrite`,
        )
      }
    }
  }
  const failed: Failed[] = []
  const dirs = versions.filter((v) => v.kind === 'd')
  // Twins come from a staged copy of their base (restore-twins.ts).
  const twinPlan = planTwins(
    versions.filter((v) => v.kind === 'f'),
    state,
  )
  const files = twinPlan.files
  const links = versions.filter((v) => v.kind === 'l')
  const madeDirs = new Set<string>()
  /** ensureParent makes the folders leading to `rel` (0700 until the end), never through a symlink. */
  const ensureParent = (rel: string): void => {
    const cut = rel.lastIndexOf('/')
    if (cut <= 0) return
    const parent = rel.slice(0, cut)
    if (madeDirs.has(parent)) return
    ensureParent(parent)
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
  for (const d of dirs) ensureParent(`${d.path}/x`)

  // Group the files by pack, so each pack is read once (by blob row: no location object per file).
  const byPack = new Map<string, number[]>()
  const rows = new Int32Array(files.length)
  files.forEach((f, i) => {
    const r = state.blobs.locate(f.ref)
    rows[i] = r
    if (r < 0)
      failed.push({
        path: f.path,
        reason: 'its content is not in the index (compacted away or damaged index)',
      })
    else getOrCreate(byPack, state.blobs.packAt(r), () => []).push(i)
  })

  let filesRestored = 0
  let bytesRestored = 0

  // A pack task waits for a place on an unpacker once its pack is a file, so on a local destination
  // more tasks than the unpackers take would only wait; from a remote one, the extra tasks download the
  // next packs meanwhile.
  const pool = new TaskPool(unpackers.capacity + (o.storage.localPath ? 0 : o.storage.connections))
  // Largest packs first: the last to finish are the small ones, so neither core idles long at the end.
  const packBytes = (id: string) => state.packs.get(id)?.size ?? 0
  const packOrder = [...byPack].sort((a, b) => packBytes(b[0]) - packBytes(a[0]))
  try {
    for (const [packId, inPack] of packOrder) {
      await pool.add(async () => {
        // Folders first (here, where madeDirs is kept); then a worker decrypts, checks and writes.
        const { list, sent } = packList(inPack, files, rows, state, targetBytes, ensureParent, failed)
        if (!list.size) return
        let failure: unknown = null
        let outcomes: TargetOutcomes | null = null
        let workerError: string | null = null
        try {
          const file = await packFile(o.storage, packId, unpackers.dir, o.signal)
          try {
            const reply = await unpackers.unpack(file.path, ctx, list.build(), Boolean(o.overwrite))
            outcomes = reply.outcomes
            workerError = reply.error
            if (reply.failure) failure = failureError(reply.failure, packId)
          } finally {
            await file.release()
          }
        } catch (err) {
          failure = err
        }
        if (failure instanceof KeyError) throw failure
        if (failure && o.signal?.aborted) throw failure
        // Why the members not written are missing: gpg's or the download's verdict, else the worker's.
        const reason = failure
          ? failure instanceof DamageError
            ? failure.message
            : describe(failure)
          : workerError
            ? `pack ${packId} is damaged: ${workerError}`
            : null
        if (reason) progress({ type: 'warning', message: reason })
        const failedBefore = failed.length
        const written = tally(sent, outcomes, reason, packId, failed, twinPlan.staged)
        filesRestored += written.files
        bytesRestored += written.bytes
        // A damaged pack (not a missing one): what its undamaged frames still hold is restored too.
        if (failed.length > failedBefore && !/is missing from the destination/.test(reason ?? '')) {
          const salvaged = await restoreSalvaged(
            {
              storage: o.storage,
              ctx,
              spoolDir: unpackers.dir,
              overwrite: Boolean(o.overwrite),
              out,
              toSeconds,
              signal: o.signal,
            },
            packId,
            sent,
            failed,
            failedBefore,
          )
          filesRestored += salvaged.files
          bytesRestored += salvaged.bytes
        }
        progress({
          type: 'progress',
          filesDone: filesRestored,
          filesTotal: files.length,
          bytesDone: bytesRestored,
          bytesTotal: 0,
          bytesUploaded: 0,
        })
      })
    }
  } finally {
    // Every pack task started ends before the workers stop; wait() rethrows the first failure.
    await pool.wait()
  }

  const twins = await restoreTwins(twinPlan, state, out, ensureParent, toSeconds)
  filesRestored += twins.files
  bytesRestored += twins.bytes
  failed.push(...twins.failed)

  for (const l of links) {
    try {
      ensureParent(l.path)
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

/** failureError gives a worker's failure back its class: KeyError, or DamageError naming the pack. */
function failureError(f: Failure, packId: string): unknown {
  if (f.key) return new KeyError(f.message)
  return explain(new SebError(f.code, f.message), `pack ${packId}`)
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
  // Restore's own wording where the general one would not say what happened here.
  if (e?.code === 'ELOOP') return 'a symlink is in the way (refusing to write through it)'
  if (e?.code === 'ENOSPC') return 'no space left on the restore target'
  return errnoCode(err) ? errnoText(err) : (e?.message ?? String(err))
}

/** Failed is a path that could not be restored, and why. */
type Failed = { path: string; reason: string }

/**
 * packList gathers a pack's wanted members for its worker: files with the same content are one member
 * with several targets, and the folders leading to each target are made on the way (a target whose
 * folder cannot be made is failed). `sent` holds the versions in target order. This loop lives in a
 * plain function over numbers, not in the async task that calls it once per pack: V8 optimised that
 * large async function, with a Map and objects per member, four times per restore (430 ms of compiler
 * time on a core the workers need).
 */
function packList(
  inPack: readonly number[],
  files: readonly Version[],
  rows: Int32Array,
  state: RepoState,
  targetBytes: Buffer,
  ensureParent: (rel: string) => void,
  failed: Failed[],
): { list: UnpackListBuilder; sent: Version[] } {
  // By blob row, so the files sharing a content (a member) are next to one another.
  const order = Int32Array.from(inPack).sort((a, b) => rows[a]! - rows[b]! || a - b)
  const list = new UnpackListBuilder(targetBytes)
  const sent: Version[] = []
  let member = -1
  for (const i of order) {
    const v = files[i]!
    try {
      ensureParent(v.path)
    } catch (err) {
      failed.push({ path: v.path, reason: describe(err) })
      continue
    }
    const row = rows[i]!
    if (row !== member) {
      list.member(state.blobs.entryAt(row), v.ref, v.size)
      member = row
    }
    list.target(v.path, v.mode, toSeconds(v.mtimeMs))
    sent.push(v)
  }
  return { list, sent }
}

/**
 * tally counts the targets a worker wrote and lists the others as failed, each with its reason (`reason`
 * is the pack's own failure, if any).
 */
function tally(
  sent: readonly Version[],
  outcomes: TargetOutcomes | null,
  reason: string | null,
  packId: string,
  failed: Failed[],
  staged?: ReadonlySet<Version>,
): { files: number; bytes: number } {
  const written = { files: 0, bytes: 0 }
  const errors = new Map(outcomes?.errors)
  sent.forEach((v, t) => {
    // A twin's staged base is not a restored file: the twin reports for it.
    if (staged?.has(v)) return
    const code = outcomes ? outcomes.codes[t] : MISSING
    if (code === WRITTEN) {
      written.files++
      written.bytes += v.size
    } else
      failed.push({
        path: v.path,
        reason:
          code === DAMAGED
            ? `content does not match its hash in pack ${packId} (damaged)`
            : code === FAILED
              ? describe(Object.assign(new Error(errors.get(t)), { code: errors.get(t) }))
              : (reason ?? `pack ${packId} has no member for it (damaged)`),
      })
  })
  return written
}
