// Why: one writer per repository, and no compaction under a running restore. A lock is a small
// plaintext object locks/<random> (host, pid, heartbeat): backup runs with public keys only, so locks
// cannot be encrypted. Taking a lock = write ours, then list: if another live conflicting lock is there,
// remove ours and fail. That needs no conditional write, so it is safe on every backend, S3 included
// (docs/design.md, "Locks"). A lock is stale when its process is gone on this host, or its heartbeat is
// older than STALE_AFTER_MS.
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import { NotFoundError, RepositoryLockedError } from '../errors.js'
import { bufferBody, type Storage } from '../storage/storage.js'

/** STALE_AFTER_MS: a lock whose heartbeat is older than this is stale (restic uses 30 minutes too). */
export const STALE_AFTER_MS = 30 * 60 * 1000
/** HEARTBEAT_MS: how often a held lock is refreshed. */
export const HEARTBEAT_MS = 5 * 60 * 1000

/** LockInfo is a lock object's JSON. */
export interface LockInfo {
  readonly host: string
  readonly pid: number
  readonly command: string
  readonly exclusive: boolean
  readonly created: string
  readonly heartbeat: string
}

/** ListedLock is a lock found in the repository. */
export interface ListedLock {
  readonly name: string
  readonly info: LockInfo | null
}

/** isStale tells whether a lock can be broken safely. */
export function isStale(
  info: LockInfo | null,
  now = Date.now(),
  host = os.hostname(),
  alive = pidAlive,
): boolean {
  if (!info) return true // unreadable lock object: left by a crash mid-write (saves are atomic, so rare)
  if (info.host === host && !alive(info.pid)) return true
  return now - Date.parse(info.heartbeat) > STALE_AFTER_MS
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** listLocks returns every lock with its content. */
export async function listLocks(storage: Storage): Promise<ListedLock[]> {
  const out: ListedLock[] = []
  for await (const o of storage.list('lock')) {
    let info: LockInfo | null = null
    try {
      info = await storage.load({ type: 'lock', name: o.name }, undefined, async (s) => {
        const chunks: Buffer[] = []
        for await (const c of s) chunks.push(c as Buffer)
        return JSON.parse(Buffer.concat(chunks).toString('utf8')) as LockInfo
      })
    } catch (err) {
      if (err instanceof NotFoundError) continue
      info = null
    }
    out.push({ name: o.name, info })
  }
  return out
}

/** Lock is a held lock; release() removes it. */
export class Lock {
  private timer: NodeJS.Timeout | null = null

  constructor(
    private readonly storage: Storage,
    readonly name: string,
    private info: LockInfo,
  ) {
    this.timer = setInterval(() => void this.refresh().catch(() => {}), HEARTBEAT_MS)
    this.timer.unref()
  }

  private async refresh(): Promise<void> {
    this.info = { ...this.info, heartbeat: new Date().toISOString() }
    await this.storage.save(
      { type: 'lock', name: this.name },
      bufferBody(Buffer.from(JSON.stringify(this.info))),
    )
  }

  /** release stops the heartbeat and removes the lock object. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.storage.remove({ type: 'lock', name: this.name }).catch(() => {})
  }
}

/** acquireLock takes an exclusive (writer) or shared (reader) lock, or fails with RepositoryLockedError. */
export async function acquireLock(storage: Storage, command: string, exclusive: boolean): Promise<Lock> {
  const conflicts = (locks: ListedLock[], self?: string) =>
    locks.filter((l) => l.name !== self && (exclusive || l.info?.exclusive !== false) && !isStale(l.info))
  const existing = await listLocks(storage)
  // Stale locks (their process is gone on this host, or no heartbeat for 30 minutes) are provably
  // abandoned: remove them, so that unattended runs killed by a crash do not pile up locks.
  for (const l of existing)
    if (isStale(l.info)) await storage.remove({ type: 'lock', name: l.name }).catch(() => {})
  const before = conflicts(existing)
  if (before.length) throw lockedError(storage, before[0]!)
  const now = new Date().toISOString()
  const info: LockInfo = {
    host: os.hostname(),
    pid: process.pid,
    command,
    exclusive,
    created: now,
    heartbeat: now,
  }
  const name = randomBytes(16).toString('hex')
  await storage.save({ type: 'lock', name }, bufferBody(Buffer.from(JSON.stringify(info))))
  const after = conflicts(await listLocks(storage), name)
  if (after.length) {
    await storage.remove({ type: 'lock', name }).catch(() => {})
    throw lockedError(storage, after[0]!)
  }
  return new Lock(storage, name, info)
}

function lockedError(storage: Storage, l: ListedLock): RepositoryLockedError {
  const who = l.info
    ? `${l.info.command} (pid ${l.info.pid} on ${l.info.host}, since ${l.info.created})`
    : 'an unknown process'
  return new RepositoryLockedError(
    `${storage.location}: repository is locked by ${who}; wait for it, or run 'seb unlock ${storage.location}' if that process is gone`,
  )
}

/** removeLocks deletes stale locks, or every lock with `force`; it returns what it removed. */
export async function removeLocks(storage: Storage, force: boolean): Promise<ListedLock[]> {
  const removed: ListedLock[] = []
  for (const l of await listLocks(storage)) {
    if (!force && !isStale(l.info)) continue
    await storage.remove({ type: 'lock', name: l.name }).catch((err) => {
      if (!(err instanceof NotFoundError)) throw err
    })
    removed.push(l)
  }
  return removed
}
