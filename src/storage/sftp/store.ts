// Why: the rsync.net case — back up straight to an SFTP server, with no helper installed there. This
// is the Storage of such a destination: repository objects as files under a folder of the server,
// written atomically (a temp name, then the OpenSSH posix-rename extension), read by ranges, listed by
// folder. Connections come from a pool of SSH sessions (session.ts) made the way the user's ssh makes
// them (src/storage/ssh/).
import path from 'node:path'
import type { Readable } from 'node:stream'
import type ssh2 from 'ssh2'
import { PermanentStorageError, SebError } from '../../errors.js'
import { abortReason } from '../../util/abort.js'
import { DIRS, isValidName, objectPath, TEMP_LOCK_GRACE_MS, TEMP_MARK, tempDirs } from '../layout.js'
import { classifyStorageError } from '../retry.js'
import type { SshSettings } from '../ssh/host-settings.js'
import { resolveSshSettings } from '../ssh/resolve.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from '../storage.js'
import {
  describe,
  emptyStream,
  LengthMismatchError,
  listConfig,
  notFound,
  rangeBounds,
  tempPath,
} from '../util.js'
import { openSftpSession, SessionPool, type SftpError, type SftpSession, sftpCall } from './session.js'
import { readRange, writeBody } from './transfer.js'

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that seb tells apart. */
const SFTP_NO_SUCH_FILE = 2
const SFTP_PERMISSION_DENIED = 3

/** SftpOptions configure one SFTP destination; host may be an ssh_config alias. */
export interface SftpOptions {
  /** host as the user wrote it (an alias from ssh_config, a name or an address). */
  readonly host: string
  /** user overrides ssh_config's User (as `ssh -l`; default: ssh_config, else the local user). */
  readonly user?: string
  /** port overrides ssh_config's Port (as `ssh -p`; default: ssh_config, else 22). */
  readonly port?: number
  /** path is the repository folder; relative paths are below the remote home, '' is the home. */
  readonly path: string
  /** location is the destination as shown to the user (default built from the other fields). */
  readonly location?: string
  /** connections is the number of SSH connections in the pool (default 4). */
  readonly connections?: number
  /** sshConfigPath replaces ~/.ssh/config and /etc/ssh/ssh_config, as `ssh -F` (tests). */
  readonly sshConfigPath?: string
  /** sshBinary is the ssh program that evaluates the configuration (default `ssh`); false: seb's parser. */
  readonly sshBinary?: string | false
  /** knownHostsPath replaces the known_hosts files of every host on the way (tests). */
  readonly knownHostsPath?: string | readonly string[]
  /** identityFile replaces the identity files of every host on the way. */
  readonly identityFile?: string | readonly string[]
  /** agent is the ssh-agent socket (default IdentityAgent, else SSH_AUTH_SOCK); false disables the agent. */
  readonly agent?: string | false
  /** readyTimeout bounds connecting and the SSH handshake, in ms (default ConnectTimeout, else 20 s). */
  readonly readyTimeout?: number
  readonly keepaliveInterval?: number
  readonly keepaliveCountMax?: number
  /** home replaces the local home directory used to find ~/.ssh (tests). */
  readonly home?: string
}

/** SftpStorage keeps a repository in a folder of an SFTP server. */
export class SftpStorage implements Storage {
  readonly location: string
  readonly connections: number
  private readonly root: string
  private readonly pool: SessionPool
  private readonly madeDirs = new Set<string>()
  private resolved?: Promise<SshSettings>

  constructor(private readonly options: SftpOptions) {
    this.connections = Math.max(1, options.connections ?? 4)
    this.root = options.path
    const user = options.user ? `${options.user}@` : ''
    const port = options.port ? `:${options.port}` : ''
    this.location =
      options.location ?? `sftp://${user}${options.host}${port}/${options.path.replace(/^\//, '')}`
    this.pool = new SessionPool(this.connections, () => this.connect(), this.location)
  }

  /** settings are the host's effective ssh settings, read once (ssh -G) on the first connection. */
  private settings(): Promise<SshSettings> {
    const o = this.options
    this.resolved ??= resolveSshSettings(
      { alias: o.host, user: o.user, port: o.port },
      { configFile: o.sshConfigPath, home: o.home, sshBinary: o.sshBinary },
    ).catch((err: unknown) => {
      // A configuration seb refuses stays refused; anything else (ssh could not be started) is tried again.
      if (!(err instanceof SebError)) this.resolved = undefined
      throw err
    })
    return this.resolved
  }

  private async connect(): Promise<SftpSession> {
    const o = this.options
    return openSftpSession(
      await this.settings(),
      {
        identityFile: o.identityFile,
        knownHostsPath: o.knownHostsPath,
        agent: o.agent,
        readyTimeout: o.readyTimeout,
        keepaliveInterval: o.keepaliveInterval,
        keepaliveCountMax: o.keepaliveCountMax,
      },
      this.location,
    )
  }

  private remote(rel: string): string {
    return path.posix.join(this.root === '' ? '.' : this.root, rel)
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private mapError(err: unknown, h: Handle | undefined, what: string): unknown {
    const code = (err as SftpError)?.code
    if (h && code === SFTP_NO_SUCH_FILE) return notFound(h)
    if (code === SFTP_PERMISSION_DENIED)
      return new PermanentStorageError(`${this.location}: ${what}: permission denied`, { cause: err })
    return classifyStorageError(err, `${this.location}: ${what}`)
  }

  private async mkdirp(s: SftpSession, dir: string): Promise<void> {
    if (dir === '.' || dir === '/' || dir === '' || this.madeDirs.has(dir)) return
    try {
      await sftpCall<void>(s, (cb) => s.sftp.mkdir(dir, { mode: 0o700 }, cb))
    } catch (err) {
      if ((err as SftpError).code === SFTP_NO_SUCH_FILE) {
        await this.mkdirp(s, path.posix.dirname(dir))
        await this.mkdirp(s, dir)
        return
      }
      // OpenSSH answers a plain "Failure" when the folder exists: check that it does.
      const st = await sftpCall<ssh2.Stats>(s, (cb) => s.sftp.stat(dir, cb)).catch(() => undefined)
      if (!st?.isDirectory()) throw err
    }
    this.madeDirs.add(dir)
  }

  private async openWrite(s: SftpSession, file: string): Promise<Buffer> {
    const open = () => sftpCall<Buffer>(s, (cb) => s.sftp.open(file, 'wx', { mode: 0o600 }, cb))
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
    return this.pool.run(signal, async (s) => {
      let handle: Buffer | undefined
      try {
        handle = await this.openWrite(s, tmp)
        await writeBody(s, handle, body, describe(h), signal)
        const hd = handle
        handle = undefined
        await sftpCall<void>(s, (cb) => s.sftp.close(hd, cb))
        await sftpCall<void>(s, (cb) => s.sftp.ext_openssh_rename(tmp, target, cb))
      } catch (err) {
        if (!s.dead) {
          // Best effort: the temp name is never listed, so a leftover is harmless.
          if (handle) await sftpCall<void>(s, (cb) => s.sftp.close(handle!, cb)).catch(() => {})
          await sftpCall<void>(s, (cb) => s.sftp.unlink(tmp, cb)).catch(() => {})
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
    return this.pool.run(signal, async (s) => {
      let handle: Buffer
      let size: number
      try {
        handle = await sftpCall<Buffer>(s, (cb) => s.sftp.open(file, 'r', cb))
      } catch (err) {
        throw this.mapError(err, h, `cannot read ${objectPath(h)}`)
      }
      let stream: Readable | undefined
      const onAbort = () => stream?.destroy(abortReason(signal!) as Error)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        if (length === 0) return await consume(emptyStream())
        const st = await sftpCall<ssh2.Stats>(s, (cb) => s.sftp.fstat(handle, cb))
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
        if (!s.dead) await sftpCall<void>(s, (cb) => s.sftp.close(handle, cb)).catch(() => {})
      }
    })
  }

  async stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    const file = this.remote(objectPath(h))
    return this.pool.run(signal, async (s) => {
      try {
        const st = await sftpCall<ssh2.Stats>(s, (cb) => s.sftp.stat(file, cb))
        return { name: h.name, size: st.size, modified: st.mtime * 1000 }
      } catch (err) {
        throw this.mapError(err, h, `cannot stat ${objectPath(h)}`)
      }
    })
  }

  private readdir(dir: string, signal?: AbortSignal): Promise<ssh2.FileEntryWithStats[]> {
    return this.pool.run(signal, async (s) => {
      try {
        return await sftpCall<ssh2.FileEntryWithStats[]>(s, (cb) => s.sftp.readdir(dir, cb))
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
          yield { name: e.filename, size: e.attrs.size, modified: e.attrs.mtime * 1000 }
        }
      }
    }
  }

  async remove(h: Handle, signal?: AbortSignal): Promise<void> {
    const file = this.remote(objectPath(h))
    return this.pool.run(signal, async (s) => {
      try {
        await sftpCall<void>(s, (cb) => s.sftp.unlink(file, cb))
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
          await this.pool.run(signal, async (s) => {
            try {
              await sftpCall<void>(s, (cb) => s.sftp.unlink(f, cb))
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
    this.pool.close()
  }
}
