// Why: the rsync.net case — back up straight to an SFTP server, with no helper installed there. The
// backend behaves like the user's own ssh (ssh_config aliases, agent, default keys, known_hosts with a
// refusal of unknown or changed host keys), keeps a small pool of connections for parallel transfers,
// and writes atomically (temp name, then the OpenSSH posix-rename extension). Keepalives make a hung
// server fail a call within seconds instead of hanging the backup.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import ssh2 from 'ssh2'
import { PermanentStorageError } from '../errors.js'
import { abortReason, raceAbort } from '../util/abort.js'
import { type Release, Semaphore } from '../util/semaphore.js'
import {
  checkHostKey,
  type HostKeyVerdict,
  knownHostsName,
  loadKnownHosts,
  preferredHostKeyAlgorithms,
} from './known-hosts.js'
import { DIRS, isValidName, objectPath, TEMP_LOCK_GRACE_MS, TEMP_MARK, tempDirs } from './layout.js'
import { classifyStorageError, markTransient } from './retry.js'
import { resolveSshHost } from './ssh-config.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'
import {
  describe,
  emptyStream,
  LengthMismatchError,
  listConfig,
  notFound,
  rangeBounds,
  tempPath,
} from './util.js'

type Client = ssh2.Client
type SFTPWrapper = ssh2.SFTPWrapper
type AnyAuthMethod = ssh2.AnyAuthMethod

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that seb tells apart. */
const SFTP_NO_SUCH_FILE = 2
const SFTP_PERMISSION_DENIED = 3

/** Transfer tuning: request size and requests in flight per transfer (see docs/storage.md). */
const CHUNK = 128 * 1024
const IN_FLIGHT = 8

/** SftpOptions configure one SFTP destination; host may be an ssh_config alias. */
export interface SftpOptions {
  /** host as the user wrote it (an alias from ssh_config, a name or an address). */
  readonly host: string
  /** user overrides ssh_config's User (default: the local user name, like ssh). */
  readonly user?: string
  /** port overrides ssh_config's Port (default 22). */
  readonly port?: number
  /** path is the repository folder; relative paths are below the remote home, '' is the home. */
  readonly path: string
  /** location is the destination as shown to the user (default built from the other fields). */
  readonly location?: string
  /** connections is the number of SSH connections in the pool (default 4). */
  readonly connections?: number
  /** sshConfigPath replaces ~/.ssh/config (tests). */
  readonly sshConfigPath?: string
  /** knownHostsPath replaces the known_hosts files ssh would read (tests). */
  readonly knownHostsPath?: string | readonly string[]
  /** identityFile replaces the identity files of ssh_config and the default ~/.ssh/id_* keys. */
  readonly identityFile?: string | readonly string[]
  /** agent is the ssh-agent socket (default SSH_AUTH_SOCK); false disables the agent. */
  readonly agent?: string | false
  /** readyTimeout bounds connecting and the SSH handshake, in ms (default 20 s). */
  readonly readyTimeout?: number
  readonly keepaliveInterval?: number
  readonly keepaliveCountMax?: number
  /** home replaces the local home directory used to find ~/.ssh (tests). */
  readonly home?: string
}

interface Session {
  readonly client: Client
  readonly sftp: SFTPWrapper
  dead: boolean
  /** gone rejects when the connection ends: pending SFTP requests may otherwise never be answered. */
  readonly gone: Promise<never>
}

interface SftpError extends Error {
  code?: number | string
}

/** call runs one SFTP request on a session; it fails as soon as the connection is gone. */
function call<T>(
  s: Session,
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

function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** SftpStorage keeps a repository in a folder of an SFTP server. */
export class SftpStorage implements Storage {
  readonly location: string
  readonly connections: number
  private readonly root: string
  private readonly permits: Semaphore
  private readonly idle: Session[] = []
  private readonly live = new Set<Session>()
  private readonly madeDirs = new Set<string>()
  private closed = false

  constructor(private readonly options: SftpOptions) {
    this.connections = Math.max(1, options.connections ?? 4)
    this.permits = new Semaphore(this.connections)
    this.root = options.path
    const user = options.user ? `${options.user}@` : ''
    const port = options.port ? `:${options.port}` : ''
    this.location =
      options.location ?? `sftp://${user}${options.host}${port}/${options.path.replace(/^\//, '')}`
  }

  private remote(rel: string): string {
    return path.posix.join(this.root === '' ? '.' : this.root, rel)
  }

  // ---- connecting -------------------------------------------------------------------------------

  private connect(): Promise<Session> {
    const o = this.options
    const home = o.home ?? os.homedir()
    const cfg = resolveSshHost(o.host, { configPath: o.sshConfigPath, home })
    const host = cfg.hostName
    const port = o.port ?? cfg.port ?? 22
    const user = o.user ?? cfg.user ?? os.userInfo().username
    const knownFiles = o.knownHostsPath
      ? typeof o.knownHostsPath === 'string'
        ? [o.knownHostsPath]
        : [...o.knownHostsPath]
      : [
          ...(cfg.userKnownHostsFiles.length
            ? cfg.userKnownHostsFiles
            : [path.join(home, '.ssh', 'known_hosts'), path.join(home, '.ssh', 'known_hosts2')]),
          ...(cfg.globalKnownHostsFiles.length
            ? cfg.globalKnownHostsFiles
            : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
        ]
    const entries = loadKnownHosts(knownFiles)
    const names = [knownHostsName(cfg.hostKeyAlias ?? host, port)]
    let verdict: HostKeyVerdict | undefined
    let presented: Buffer | undefined
    const sshTarget = `${port === 22 ? '' : `-p ${port} `}${user}@${o.host}`

    const auth: AnyAuthMethod[] = []
    const agent = o.agent === false ? undefined : (o.agent ?? cfg.identityAgent ?? process.env.SSH_AUTH_SOCK)
    if (agent && agent !== 'none' && !cfg.identitiesOnly) auth.push({ type: 'agent', username: user, agent })
    const explicit =
      o.identityFile === undefined
        ? undefined
        : typeof o.identityFile === 'string'
          ? [o.identityFile]
          : [...o.identityFile]
    const files =
      explicit ??
      (cfg.identityFiles.length
        ? cfg.identityFiles
        : ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => path.join(home, '.ssh', n)))
    for (const f of files) {
      if (!existsSync(f)) continue
      let text: Buffer
      try {
        text = readFileSync(f)
      } catch {
        continue
      }
      // Encrypted keys cannot be used without a prompt: they are skipped, the agent may hold them.
      const parsed = ssh2.utils.parseKey(text)
      if (parsed instanceof Error) continue
      auth.push({ type: 'publickey', username: user, key: text })
    }
    if (agent && agent !== 'none' && cfg.identitiesOnly) auth.push({ type: 'agent', username: user, agent })

    return new Promise<Session>((resolve, reject) => {
      const client = new ssh2.Client()
      let settled = false
      const fail = (err: unknown) => {
        if (settled) return
        settled = true
        client.end()
        if (verdict && verdict.status !== 'ok')
          reject(this.hostKeyError(verdict, host, port, sshTarget, presented!))
        else if (auth.length === 0 && (err as { level?: string }).level === 'client-authentication')
          reject(
            new PermanentStorageError(
              `${this.location}: no ssh key to log in with: load one into ssh-agent (ssh-add) or set IdentityFile in ~/.ssh/config`,
            ),
          )
        else reject(classifyStorageError(err, this.location))
      }
      client.on('error', fail)
      client.on('close', () => fail(new Error(`${host}:${port}: connection closed during ssh handshake`)))
      client.once('ready', () => {
        client.sftp((err, sftp) => {
          if (err) return fail(err)
          if (settled) return
          settled = true
          let kill: (err: Error) => void = () => {}
          const gone = new Promise<never>((_, reject) => {
            kill = reject
          })
          gone.catch(() => {})
          const s: Session = { client, sftp, dead: false, gone }
          const die = (err?: Error) => {
            s.dead = true
            kill(markTransient(err instanceof Error ? err : new Error(`${host}:${port}: connection lost`)))
          }
          client.removeAllListeners('error')
          client.removeAllListeners('close')
          client.on('error', die)
          client.on('close', die)
          sftp.on('close', die)
          sftp.on('error', die)
          resolve(s)
        })
      })
      try {
        client.connect({
          host,
          port,
          username: user,
          authHandler: auth,
          readyTimeout: o.readyTimeout ?? (cfg.connectTimeout ? cfg.connectTimeout * 1000 : 20_000),
          keepaliveInterval: o.keepaliveInterval ?? 1000,
          keepaliveCountMax: o.keepaliveCountMax ?? 3,
          algorithms: {
            serverHostKey: preferredHostKeyAlgorithms(entries, names) as ssh2.ServerHostKeyAlgorithm[],
          },
          hostVerifier: (key: Buffer) => {
            presented = key
            verdict = checkHostKey(entries, names, key)
            return verdict.status === 'ok'
          },
        })
      } catch (err) {
        fail(err)
      }
    })
  }

  private hostKeyError(
    v: HostKeyVerdict,
    host: string,
    port: number,
    sshTarget: string,
    key: Buffer,
  ): PermanentStorageError {
    const where = port === 22 ? host : `${host}:${port}`
    const fp = fingerprint(key)
    if (v.status === 'unknown')
      return new PermanentStorageError(
        `${where}: host key ${fp} is not in known_hosts; seb never accepts a new host key by itself: run 'ssh ${sshTarget}' once to check and accept it, then run seb again`,
      )
    if (v.status === 'revoked')
      return new PermanentStorageError(
        `${where}: host key ${fp} is marked @revoked in ${v.file}:${v.line}; refusing to connect`,
      )
    const kh = port === 22 ? host : `[${host}]:${port}`
    if (v.status === 'ok') throw new Error('unreachable: host key accepted')
    return new PermanentStorageError(
      `${where}: HOST KEY CHANGED: the server shows ${fp}, which does not match ${v.file}:${v.line}; this could be an attack. If the change is expected, run 'ssh-keygen -R "${kh}"' and then 'ssh ${sshTarget}' once to accept the new key`,
    )
  }

  private async acquire(signal?: AbortSignal): Promise<{ s: Session; release: Release }> {
    if (this.closed) throw new Error(`${this.location}: storage is closed`)
    const release = await this.permits.acquire(signal)
    for (let s = this.idle.pop(); s; s = this.idle.pop()) {
      if (!s.dead) return { s, release }
      this.live.delete(s)
    }
    try {
      const s = await raceAbort(this.connect(), signal)
      this.live.add(s)
      return { s, release }
    } catch (err) {
      release()
      throw err
    }
  }

  private release(s: Session, permit: Release): void {
    if (s.dead || this.closed) {
      this.live.delete(s)
      s.client.end()
    } else this.idle.push(s)
    permit()
  }

  /** withSession runs `fn` on a pooled session; the call settles promptly on abort. */
  private withSession<T>(signal: AbortSignal | undefined, fn: (s: Session) => Promise<T>): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortReason(signal))
    const work = this.acquire(signal).then(({ s, release }) => fn(s).finally(() => this.release(s, release)))
    return raceAbort(work, signal)
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private mapError(err: unknown, h: Handle | undefined, what: string): unknown {
    const code = (err as SftpError)?.code
    if (h && code === SFTP_NO_SUCH_FILE) return notFound(h)
    if (code === SFTP_PERMISSION_DENIED)
      return new PermanentStorageError(`${this.location}: ${what}: permission denied`, { cause: err })
    return classifyStorageError(err, `${this.location}: ${what}`)
  }

  private async mkdirp(s: Session, dir: string): Promise<void> {
    if (dir === '.' || dir === '/' || dir === '' || this.madeDirs.has(dir)) return
    try {
      await call<void>(s, (cb) => s.sftp.mkdir(dir, { mode: 0o700 }, cb))
    } catch (err) {
      if ((err as SftpError).code === SFTP_NO_SUCH_FILE) {
        await this.mkdirp(s, path.posix.dirname(dir))
        await this.mkdirp(s, dir)
        return
      }
      // OpenSSH answers a plain "Failure" when the folder exists: check that it does.
      const st = await call<ssh2.Stats>(s, (cb) => s.sftp.stat(dir, cb)).catch(() => undefined)
      if (!st?.isDirectory()) throw err
    }
    this.madeDirs.add(dir)
  }

  private async openWrite(s: Session, file: string): Promise<Buffer> {
    const open = () => call<Buffer>(s, (cb) => s.sftp.open(file, 'wx', { mode: 0o600 }, cb))
    try {
      return await open()
    } catch (err) {
      if ((err as SftpError).code !== SFTP_NO_SUCH_FILE) throw err
      await this.mkdirp(s, path.posix.dirname(file))
      return open()
    }
  }

  // ---- Storage ----------------------------------------------------------------------------------

  async save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    const target = this.remote(objectPath(h))
    const tmp = this.remote(tempPath(h))
    return this.withSession(signal, async (s) => {
      let handle: Buffer | undefined
      try {
        handle = await this.openWrite(s, tmp)
        await writeBody(s, handle, body, describe(h), signal)
        const hd = handle
        handle = undefined
        await call<void>(s, (cb) => s.sftp.close(hd, cb))
        await call<void>(s, (cb) => s.sftp.ext_openssh_rename(tmp, target, cb))
      } catch (err) {
        if (!s.dead) {
          // Best effort: the temp name is never listed, so a leftover is harmless.
          if (handle) await call<void>(s, (cb) => s.sftp.close(handle!, cb)).catch(() => {})
          await call<void>(s, (cb) => s.sftp.unlink(tmp, cb)).catch(() => {})
        }
        if (err instanceof LengthMismatchError) throw err
        throw this.mapError(err, undefined, `cannot write ${objectPath(h)}`)
      }
    })
  }

  async load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const file = this.remote(objectPath(h))
    const { start, length } = rangeBounds(range)
    return this.withSession(signal, async (s) => {
      let handle: Buffer
      let size: number
      try {
        handle = await call<Buffer>(s, (cb) => s.sftp.open(file, 'r', cb))
      } catch (err) {
        throw this.mapError(err, h, `cannot read ${objectPath(h)}`)
      }
      let stream: Readable | undefined
      const onAbort = () => stream?.destroy(abortReason(signal!) as Error)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        if (length === 0) return await consume(emptyStream())
        const st = await call<ssh2.Stats>(s, (cb) => s.sftp.fstat(handle, cb))
        size = st.size
        const end = length === undefined ? size : Math.min(size, start + length)
        stream = readRange(s, handle, start, end)
        return await consume(stream)
      } catch (err) {
        if (signal?.aborted) throw abortReason(signal)
        throw this.mapError(err, undefined, `cannot read ${objectPath(h)}`)
      } finally {
        signal?.removeEventListener('abort', onAbort)
        stream?.destroy()
        if (!s.dead) await call<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => {})
      }
    })
  }

  async stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    const file = this.remote(objectPath(h))
    return this.withSession(signal, async (s) => {
      try {
        const st = await call<ssh2.Stats>(s, (cb) => s.sftp.stat(file, cb))
        return { name: h.name, size: st.size }
      } catch (err) {
        throw this.mapError(err, h, `cannot stat ${objectPath(h)}`)
      }
    })
  }

  private readdir(dir: string, signal?: AbortSignal): Promise<ssh2.FileEntryWithStats[]> {
    return this.withSession(signal, async (s) => {
      try {
        return await call<ssh2.FileEntryWithStats[]>(s, (cb) => s.sftp.readdir(dir, cb))
      } catch (err) {
        if ((err as SftpError).code === SFTP_NO_SUCH_FILE) return []
        throw this.mapError(err, undefined, `cannot list ${dir}`)
      }
    })
  }

  async *list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    signal?.throwIfAborted()
    if (type === 'config') {
      yield* listConfig((h, sig) => this.stat(h, sig), signal)
      return
    }
    const top = this.remote(DIRS[type])
    let dirs = [top]
    if (type === 'pack') {
      const subs = await this.readdir(top, signal)
      dirs = subs
        .filter((e) => e.attrs.isDirectory() && /^[0-9a-f]{2}$/.test(e.filename))
        .map((e) => `${top}/${e.filename}`)
    }
    // Several folders are read at once: on a far server each readdir is a round trip.
    for (let i = 0; i < dirs.length; i += 16) {
      const batch = await Promise.all(dirs.slice(i, i + 16).map((d) => this.readdir(d, signal)))
      for (const entries of batch) {
        for (const e of entries) {
          if (e.filename.includes(TEMP_MARK) || !isValidName(type, e.filename) || !e.attrs.isFile()) continue
          yield { name: e.filename, size: e.attrs.size }
        }
      }
    }
  }

  async remove(h: Handle, signal?: AbortSignal): Promise<void> {
    const file = this.remote(objectPath(h))
    return this.withSession(signal, async (s) => {
      try {
        await call<void>(s, (cb) => s.sftp.unlink(file, cb))
      } catch (err) {
        throw this.mapError(err, h, `cannot remove ${objectPath(h)}`)
      }
    })
  }

  /**
   * removeTemp deletes the temp files that saves cut off by a dropped connection or a killed run left
   * behind (in the repository's own folders only: the root may be the remote home; see
   * Storage.removeTemp) and returns how many it removed.
   */
  async removeTemp(signal?: AbortSignal): Promise<number> {
    const packs = await this.readdir(this.remote(DIRS.pack), signal)
    const dirs = tempDirs(packs.filter((e) => e.attrs.isDirectory()).map((e) => e.filename))
    const now = Date.now()
    const doomed: string[] = []
    for (let i = 0; i < dirs.length; i += 16) {
      const batch = dirs.slice(i, i + 16)
      const listed = await Promise.all(batch.map((d) => this.readdir(this.remote(d), signal)))
      listed.forEach((entries, j) => {
        for (const e of entries) {
          if (!e.filename.includes(TEMP_MARK) || !e.attrs.isFile()) continue
          if (batch[j] === DIRS.lock && now - e.attrs.mtime * 1000 < TEMP_LOCK_GRACE_MS) continue
          doomed.push(this.remote(batch[j] ? `${batch[j]}/${e.filename}` : e.filename))
        }
      })
    }
    let removed = 0
    await Promise.all(
      Array.from({ length: Math.min(this.connections, doomed.length) }, async () => {
        for (let file = doomed.pop(); file !== undefined; file = doomed.pop()) {
          const f = file
          await this.withSession(signal, async (s) => {
            try {
              await call<void>(s, (cb) => s.sftp.unlink(f, cb))
              removed++
            } catch (err) {
              if ((err as SftpError).code !== SFTP_NO_SUCH_FILE)
                throw this.mapError(err, undefined, `cannot remove ${f}`)
            }
          })
        }
      }),
    )
    return removed
  }

  async close(): Promise<void> {
    this.closed = true
    for (const s of this.live) s.client.end()
    this.live.clear()
    this.idle.length = 0
  }
}

/**
 * writeBody sends a save body into an open remote file with several writes in flight, checking the
 * length as it goes: a body longer than announced fails before the extra bytes are written.
 */
async function writeBody(
  s: Session,
  handle: Buffer,
  body: SaveBody,
  what: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  const src = body.open()
  const onAbort = () => src.destroy(abortReason(signal!) as Error)
  if (signal?.aborted) onAbort()
  signal?.addEventListener('abort', onAbort, { once: true })
  const inflight = new Set<Promise<void>>()
  let failure: unknown
  let pos = 0
  let pending: Buffer[] = []
  let pendingLen = 0
  const send = async (buf: Buffer, at: number) => {
    const p = call<void>(s, (cb) => s.sftp.write(handle, buf, 0, buf.length, at, (err) => cb(err))).catch(
      (err) => {
        failure ??= err
      },
    )
    const tracked = p.finally(() => inflight.delete(tracked))
    inflight.add(tracked)
    while (inflight.size >= IN_FLIGHT) await Promise.race(inflight)
    if (failure) throw failure
  }
  // Bytes are regrouped into CHUNK-sized writes; the tail goes out at the end.
  const drain = async (final: boolean) => {
    if (pendingLen === 0) return
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending)
    pending = []
    pendingLen = 0
    let off = 0
    while (all.length - off >= CHUNK || (final && off < all.length)) {
      const piece = all.subarray(off, off + CHUNK)
      await send(piece, pos)
      pos += piece.length
      off += piece.length
    }
    if (off < all.length) {
      pending = [all.subarray(off)]
      pendingLen = all.length - off
    }
  }
  try {
    let seen = 0
    for await (const chunk of src) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array)
      seen += buf.length
      if (seen > body.length) throw new LengthMismatchError(what, `more than ${body.length}`, body.length)
      pending.push(buf)
      pendingLen += buf.length
      if (pendingLen >= CHUNK) await drain(false)
    }
    if (seen !== body.length) throw new LengthMismatchError(what, String(seen), body.length)
    await drain(true)
    await Promise.all(inflight)
    if (failure) throw failure
  } finally {
    signal?.removeEventListener('abort', onAbort)
    src.destroy()
    await Promise.all(inflight)
  }
}

/** readRange streams bytes [start, end) of an open remote file, several reads in flight. */
function readRange(s: Session, handle: Buffer, start: number, end: number): Readable {
  const readAt = async (at: number, n: number): Promise<Buffer> => {
    const buf = Buffer.allocUnsafe(n)
    let got = 0
    while (got < n) {
      const nb = await call<number>(s, (cb) =>
        s.sftp.read(handle, buf, got, n - got, at + got, (err, bytesRead) => cb(err, bytesRead)),
      )
      if (nb === 0) throw new Error(`unexpected end of file at offset ${at + got} (expected ${end})`)
      got += nb
    }
    return buf
  }
  async function* chunks(): AsyncGenerator<Buffer> {
    const queue: Promise<Buffer>[] = []
    let next = start
    try {
      while (queue.length > 0 || next < end) {
        while (queue.length < IN_FLIGHT && next < end) {
          const n = Math.min(CHUNK, end - next)
          const p = readAt(next, n)
          p.catch(() => {})
          queue.push(p)
          next += n
        }
        yield await queue.shift()!
      }
    } finally {
      await Promise.allSettled(queue)
    }
  }
  return Readable.from(chunks(), { objectMode: false, highWaterMark: 256 * 1024 })
}
