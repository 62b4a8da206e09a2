// Why: one writer at a time, reads beside a backup, and no compaction under a running read
// (docs/design.md, "Locks"). A lock is a small plaintext object locks/<random> (a backup with public
// keys only must read them). Taking one = write ours, then list: a live conflicting lock there means
// we remove ours and fail; no conditional write is needed, so it holds on every backend. A lock is stale
// only when its process is provably gone (same machine, same PID namespace, pid not running) or when the
// destination's own clock says it has not been rewritten for 30 minutes: a client clock that is wrong,
// or a container sharing a host name, never makes a live lock look stale.
import { randomBytes } from 'node:crypto'
import { readlinkSync } from 'node:fs'
import os from 'node:os'
import { NotFoundError, RepositoryLockedError } from '../errors.js'
import { bufferBody, type ObjectInfo, type Storage } from '../storage/storage.js'
import { safeText } from '../util/terminal-text.js'

/** STALE_AFTER_MS: a lock not rewritten for this long (by the destination's clock) is stale. */
export const STALE_AFTER_MS = 30 * 60 * 1000
/** HEARTBEAT_MS: how often a held lock is rewritten. */
export const HEARTBEAT_MS = 5 * 60 * 1000

/** LockKind: shared (readers), backup (one writer of snapshots), exclusive (compaction, keys). */
export type LockKind = 'shared' | 'backup' | 'exclusive'

/** LockInfo is a lock object's JSON. */
export interface LockInfo {
  readonly host: string
  /** the machine's random id (machine data) */
  readonly machine: string
  /** the PID namespace of the process (`/proc/self/ns/pid`), '' when unknown */
  readonly pidns: string
  readonly pid: number
  readonly command: string
  readonly kind: LockKind
  readonly created: string
  readonly heartbeat: string
}

/** ListedLock is a lock found in the repository: its content when readable, and its object's facts. */
export interface ListedLock {
  readonly name: string
  readonly info: LockInfo | null
  readonly object: ObjectInfo
}

/** conflicts tells whether a lock of kind `a` may not be held beside one of kind `b`. */
export function conflicts(a: LockKind, b: LockKind): boolean {
  return a === 'exclusive' || b === 'exclusive' || (a === 'backup' && b === 'backup')
}

/** LockIdentity says who takes a lock: this machine and PID namespace. */
export interface LockIdentity {
  readonly machine: string
  readonly pidns: string
}

/** pidNamespace is this process's PID namespace ('' where /proc does not say). */
export function pidNamespace(): string {
  try {
    return readlinkSync('/proc/self/ns/pid')
  } catch {
    return ''
  }
}

/**
 * isStale tells whether a lock can be broken safely: its process is gone (this machine and PID
 * namespace, pid not running), or the destination last wrote it more than STALE_AFTER_MS before it
 * wrote ours (`now`, the destination's time). When the destination gives no times, the lock's own
 * heartbeat is compared with this machine's clock instead.
 */
export function isStale(
  l: ListedLock,
  now: { destination: number; local: number },
  me: LockIdentity,
  alive: (pid: number) => boolean = pidAlive,
): boolean {
  const i = l.info
  if (i && i.machine === me.machine && i.pidns === me.pidns && me.pidns !== '' && !alive(i.pid)) return true
  if (l.object.modified > 0 && now.destination > 0)
    return now.destination - l.object.modified > STALE_AFTER_MS
  if (!i) return false
  const beat = Date.parse(i.heartbeat)
  return Number.isFinite(beat) && now.local - beat > STALE_AFTER_MS
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** parseLock reads a lock object's JSON; null when it is not a lock seb wrote. */
function parseLock(bytes: Buffer): LockInfo | null {
  if (bytes.length > 4096) return null
  try {
    const i = JSON.parse(bytes.toString('utf8')) as LockInfo
    const ok =
      typeof i?.host === 'string' &&
      typeof i.machine === 'string' &&
      typeof i.pidns === 'string' &&
      Number.isSafeInteger(i.pid) &&
      typeof i.command === 'string' &&
      (i.kind === 'shared' || i.kind === 'backup' || i.kind === 'exclusive') &&
      typeof i.created === 'string' &&
      typeof i.heartbeat === 'string'
    return ok ? i : null
  } catch {
    return null
  }
}

/** listLocks returns every lock with its content (null when unreadable). */
export async function listLocks(storage: Storage): Promise<ListedLock[]> {
  const out: ListedLock[] = []
  for await (const o of storage.list('lock')) {
    let info: LockInfo | null = null
    try {
      info = parseLock(
        await storage.load({ type: 'lock', name: o.name }, { offset: 0, length: 4097 }, async (s) => {
          const chunks: Buffer[] = []
          for await (const c of s) chunks.push(c as Buffer)
          return Buffer.concat(chunks)
        }),
      )
    } catch (err) {
      if (err instanceof NotFoundError) continue
    }
    out.push({ name: o.name, info, object: o })
  }
  return out
}

/** LockLostError: a writer's lock was removed while it ran; it stops without committing. */
export class LockLostError extends RepositoryLockedError {}

/** Lock is a held lock: refreshed every HEARTBEAT_MS; check() before committing; release() removes it. */
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

  /**
   * check fails with LockLostError when this lock's object is gone (removed by `seb unlock --force`, or
   * judged stale elsewhere): a writer then stops without committing.
   */
  async check(): Promise<void> {
    const there = await this.storage.stat({ type: 'lock', name: this.name }).catch((err: unknown) => {
      if (err instanceof NotFoundError) return null
      throw err
    })
    if (!there)
      throw new LockLostError(
        `${this.storage.location}: this run's lock was removed while it ran (by 'seb unlock --force', or by another machine); nothing was committed; run it again`,
      )
  }

  /** release stops the heartbeat and removes the lock object. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    await this.storage.remove({ type: 'lock', name: this.name }).catch(() => {})
  }
}

/**
 * acquireLock takes a lock of `kind`, or fails with RepositoryLockedError naming who holds the
 * conflicting one. Stale locks found on the way are removed (crashed cron runs must not pile up).
 */
export async function acquireLock(
  storage: Storage,
  command: string,
  kind: LockKind,
  me: LockIdentity,
): Promise<Lock> {
  const now = new Date().toISOString()
  const info: LockInfo = {
    host: os.hostname(),
    machine: me.machine,
    pidns: me.pidns,
    pid: process.pid,
    command,
    kind,
    created: now,
    heartbeat: now,
  }
  const name = randomBytes(16).toString('hex')
  await storage.save({ type: 'lock', name }, bufferBody(Buffer.from(JSON.stringify(info))))
  try {
    // Our own lock's time, as the destination recorded it, is "now" for judging the others.
    const ours = await storage.stat({ type: 'lock', name })
    const clock = { destination: ours.modified, local: Date.now() }
    const held: ListedLock[] = []
    for (const l of await listLocks(storage)) {
      if (l.name === name) continue
      if (isStale(l, clock, me)) await storage.remove({ type: 'lock', name: l.name }).catch(() => {})
      else if (!l.info || conflicts(kind, l.info.kind)) held.push(l)
    }
    if (held.length) throw lockedError(storage, held[0]!)
    return new Lock(storage, name, info)
  } catch (err) {
    await storage.remove({ type: 'lock', name }).catch(() => {})
    throw err
  }
}

function lockedError(storage: Storage, l: ListedLock): RepositoryLockedError {
  const who = l.info
    ? `${safeText(l.info.command)} (pid ${l.info.pid} on ${safeText(l.info.host)}, since ${safeText(l.info.created)})`
    : 'an unreadable lock (judged by its age only)'
  return new RepositoryLockedError(
    `${storage.location}: repository is locked by ${who}; wait for it, or run 'seb unlock ${storage.location}' if that process is gone`,
  )
}

/** removeLocks deletes stale locks, or every lock with `force`; it returns what it removed. */
export async function removeLocks(storage: Storage, force: boolean, me: LockIdentity): Promise<ListedLock[]> {
  // The destination's "now": the time it records for a probe object written now.
  const probe = randomBytes(16).toString('hex')
  await storage.save({ type: 'lock', name: probe }, bufferBody(Buffer.from('{"probe":true}')))
  const clock = {
    destination: (await storage.stat({ type: 'lock', name: probe })).modified,
    local: Date.now(),
  }
  await storage.remove({ type: 'lock', name: probe }).catch(() => {})
  const locks = await listLocks(storage)
  const removed: ListedLock[] = []
  for (const l of locks) {
    if (l.name === probe) continue
    if (!force && !isStale(l, clock, me)) continue
    await storage.remove({ type: 'lock', name: l.name }).catch((err) => {
      if (!(err instanceof NotFoundError)) throw err
    })
    removed.push(l)
  }
  return removed
}
