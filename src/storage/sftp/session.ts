// Why: an SFTP destination keeps a few SSH connections open, each with one SFTP channel, so that
// transfers run in parallel without paying a handshake each. This module is that pool: it connects on
// demand (src/storage/ssh/connect.ts: the user's ssh settings, host keys, proxies, keepalives), hands a
// live session to one call at a time, drops a session whose connection died and opens a new one for
// the next call, and makes a call on a dead connection fail at once instead of waiting forever.
import type ssh2 from 'ssh2'
import { raceAbort } from '../../util/abort.js'
import { type Release, Semaphore } from '../../util/semaphore.js'
import { classifyStorageError, markTransient } from '../retry.js'
import { type ConnectOptions, connectSsh } from '../ssh/connect.js'
import type { SshSettings } from '../ssh/host-settings.js'

/** SftpSession is one SSH connection with its SFTP channel. */
export interface SftpSession {
  readonly sftp: ssh2.SFTPWrapper
  /** dead is set once the connection is gone; the pool then drops the session. */
  dead: boolean
  /** gone rejects when the connection ends: pending SFTP requests may otherwise never be answered. */
  readonly gone: Promise<never>
  /** end closes the connection (and any jump host or proxy command below it). */
  end(): void
}

/** SftpError is an error of an SFTP request; `code` is the SFTP status (2: no such file, 3: denied). */
export interface SftpError extends Error {
  code?: number | string
}

/** sftpCall runs one SFTP request on a session; it fails as soon as the connection is gone. */
export function sftpCall<T>(
  s: SftpSession,
  fn: (cb: (err: SftpError | null | undefined, value?: T) => void) => void,
): Promise<T> {
  const req = new Promise<T>((resolve, reject) => {
    try {
      fn((err, value) => (err ? reject(err) : resolve(value as T)))
    } catch (err) {
      reject(err)
    }
  })
  return Promise.race([req, s.gone])
}

/** openSftpSession connects to `settings` and opens an SFTP channel; `context` starts error messages. */
export async function openSftpSession(
  settings: SshSettings,
  options: ConnectOptions,
  context: string,
): Promise<SftpSession> {
  const conn = await connectSsh(settings, options, context)
  const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => {
    conn.client.sftp((err, channel) => (err ? reject(err) : resolve(channel)))
  }).catch((err: unknown) => {
    conn.close()
    throw classifyStorageError(err, `${context}: cannot start SFTP on ${conn.route}`)
  })
  let kill: (err: Error) => void = () => {}
  const gone = new Promise<never>((_, reject) => {
    kill = reject
  })
  gone.catch(() => {})
  const s: SftpSession = { sftp, dead: false, gone, end: () => conn.close() }
  const die = (err?: unknown) => {
    s.dead = true
    kill(markTransient(err instanceof Error ? err : new Error(`${conn.route}: connection lost`)))
  }
  conn.client.on('error', die)
  conn.client.on('close', die)
  sftp.on('close', die)
  sftp.on('error', die)
  return s
}

/** SessionPool lends up to `size` SFTP sessions, one call at a time each, reconnecting as needed. */
export class SessionPool {
  private readonly permits: Semaphore
  private readonly idle: SftpSession[] = []
  private readonly live = new Set<SftpSession>()
  private closed = false

  constructor(
    size: number,
    private readonly open: () => Promise<SftpSession>,
    private readonly name: string,
  ) {
    this.permits = new Semaphore(size)
  }

  /** run calls `fn` with a live session; the call settles promptly when `signal` aborts. */
  run<T>(signal: AbortSignal | undefined, fn: (s: SftpSession) => Promise<T>): Promise<T> {
    const work = this.acquire(signal).then(({ s, release }) => fn(s).finally(() => this.release(s, release)))
    return raceAbort(work, signal)
  }

  private async acquire(signal?: AbortSignal): Promise<{ s: SftpSession; release: Release }> {
    if (this.closed) throw new Error(`${this.name}: storage is closed`)
    const release = await this.permits.acquire(signal)
    for (let s = this.idle.pop(); s; s = this.idle.pop()) {
      if (!s.dead) return { s, release }
      this.live.delete(s)
    }
    const opening = this.open()
    try {
      const s = await raceAbort(opening, signal)
      this.live.add(s)
      return { s, release }
    } catch (err) {
      release()
      // Cancelled while connecting: the connection may still come up, and must not stay open.
      if (signal?.aborted)
        opening.then(
          (s) => s.end(),
          () => {},
        )
      throw err
    }
  }

  private release(s: SftpSession, permit: Release): void {
    if (s.dead || this.closed) {
      this.live.delete(s)
      s.end()
    } else this.idle.push(s)
    permit()
  }

  /** close ends every connection; later calls fail. */
  close(): void {
    this.closed = true
    for (const s of this.live) s.end()
    this.live.clear()
    this.idle.length = 0
  }
}
