// Why: rclone reaches some seventy cloud services (Google Drive, OneDrive, B2, Swift, WebDAV…) that seb
// will never implement itself. This backend drives the system `rclone` binary, one process per call, so
// any configured rclone remote is a destination: `rclone:remote:path`.
//
// Atomicity: `rclone rcat` may leave a partial object on some remotes (local and SFTP write in place),
// so a save uploads to a temp name (never listed) and then `moveto`s it over the final name.
//
// Host keys: rclone's sftp backend accepts any host key unless told a known_hosts_file; before the
// first call seb makes every sftp remote on the way check ~/.ssh/known_hosts (rclone-host-keys.ts).
import { type ChildProcess, spawn } from 'node:child_process'
import os from 'node:os'
import { PassThrough, pipeline, type Readable } from 'node:stream'
import { NotFoundError, PermanentStorageError } from '../errors.js'
import { abortReason, raceAbort } from '../util/abort.js'
import { Semaphore } from '../util/semaphore.js'
import { DIRS, isValidName, objectPath, TEMP_LOCK_GRACE_MS, TEMP_MARK } from './layout.js'
import { planHostKeyChecks, type RemoteConfig, type SftpRemote, sshCommand } from './rclone-host-keys.js'
import { markTransient } from './retry.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'
import {
  describe,
  emptyStream,
  exactLength,
  LengthMismatchError,
  listConfig,
  notFound,
  rangeBounds,
  tempPath,
} from './util.js'

/** RcloneOptions configure one rclone destination. */
export interface RcloneOptions {
  /** remote is an rclone path: `name:path`, `name:` or a local path. */
  readonly remote: string
  readonly location?: string
  /** connections is how many rclone processes may run at once (default 4). */
  readonly connections?: number
  /** binary is the rclone executable (default `rclone` on PATH). */
  readonly binary?: string
  /** env is added to the environment of rclone (e.g. RCLONE_CONFIG_<NAME>_TYPE=sftp for tests). */
  readonly env?: Record<string, string>
  /** args are extra global flags passed to every rclone call. */
  readonly args?: readonly string[]
  /** home is the folder whose .ssh/known_hosts sftp remotes check host keys against (default $HOME). */
  readonly home?: string
}

/** Flags that make rclone fail fast: seb's RetryStorage does the retrying, with backoff. */
const FAST_FAIL = ['--retries', '1', '--low-level-retries', '1', '--contimeout', '5s', '--timeout', '60s']

/**
 * Environment defaults: over SFTP rclone otherwise runs md5sum/sha1sum on the server for every file
 * (40× slower for many files); seb checks content itself (pack names are SHA-256 of the content).
 */
const ENV_DEFAULTS: Record<string, string> = {
  RCLONE_SFTP_DISABLE_HASHCHECK: 'true',
  RCLONE_SFTP_SHELL_TYPE: 'none',
  RCLONE_SFTP_MD5SUM_COMMAND: 'none',
  RCLONE_SFTP_SHA1SUM_COMMAND: 'none',
  RCLONE_ASK_PASSWORD: 'false',
}

interface Run {
  child: ChildProcess
  done: Promise<{ code: number | null; stderr: string }>
}

/** lastLine returns the most useful line of rclone's stderr, without its timestamp. */
function lastLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\s+/, '').trim())
    .filter(Boolean)
  return lines[lines.length - 1] ?? ''
}

/** RcloneStorage keeps a repository on any rclone remote. */
export class RcloneStorage implements Storage {
  readonly location: string
  readonly connections: number
  private readonly slots: Semaphore
  private readonly env: NodeJS.ProcessEnv
  /** remote is the rclone path used (options.remote, with known_hosts_file for an on-the-fly sftp remote). */
  private remote: string
  private sftp: readonly SftpRemote[] = []
  private prepared?: Promise<void>

  constructor(private readonly options: RcloneOptions) {
    this.location = options.location ?? `rclone:${options.remote}`
    this.connections = Math.max(1, options.connections ?? 4)
    this.slots = new Semaphore(this.connections)
    this.env = { ...ENV_DEFAULTS, ...process.env, ...options.env }
    this.remote = options.remote
  }

  /** prepare makes rclone check the host keys of the sftp remotes on the way, once, before the first call. */
  private prepare(): Promise<void> {
    this.prepared ??= planHostKeyChecks({
      remote: this.options.remote,
      env: this.env,
      args: this.options.args ?? [],
      home: this.options.home ?? os.homedir(),
      location: this.location,
      dump: () => this.configDump(),
    }).then(
      (plan) => {
        Object.assign(this.env, plan.env)
        this.remote = plan.remote
        this.sftp = plan.sftp
      },
      (err: unknown) => {
        // Tried again by the next call (RetryStorage retries what is transient).
        this.prepared = undefined
        throw err
      },
    )
    return this.prepared
  }

  /** configDump returns the remotes of rclone's config file (`rclone config dump`). */
  private async configDump(): Promise<Record<string, RemoteConfig>> {
    const run = this.spawnRclone(['config', 'dump'], 'pipe')
    run.child.stdin!.end()
    let out = ''
    run.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
    })
    const { code, stderr } = await run.done
    if (code !== 0) throw this.error('config dump', code, stderr)
    return JSON.parse(out || '{}') as Record<string, RemoteConfig>
  }

  private path(rel: string): string {
    const base = this.remote
    if (base === '' || base.endsWith(':') || base.endsWith('/')) return base + rel
    return `${base}/${rel}`
  }

  private spawnRclone(args: string[], stdout: 'pipe' | 'ignore'): Run {
    const child = spawn(
      this.options.binary ?? 'rclone',
      [...FAST_FAIL, '--log-level', 'ERROR', ...(this.options.args ?? []), ...args],
      {
        env: this.env,
        stdio: ['pipe', stdout, 'pipe'],
      },
    )
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString()
    })
    const done = new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT')
          reject(
            new PermanentStorageError(
              `${this.location}: the rclone program is not installed: install it (Debian package 'rclone') or see https://rclone.org/install/`,
            ),
          )
        else reject(err)
      })
      child.once('close', (code) => resolve({ code, stderr }))
    })
    return { child, done }
  }

  /** error turns a failed rclone run into a typed error. */
  private error(cmd: string, code: number | null, stderr: string, h?: Handle): Error {
    const line = lastLine(stderr) || `exit code ${code}`
    if (
      h &&
      (code === 3 || code === 4 || /not found|doesn't exist|does not exist|no such file/i.test(stderr))
    )
      return notFound(h)
    const ctx = `${this.location}: rclone ${cmd}: ${line}`
    const hostKey = this.hostKeyError(stderr)
    if (hostKey) return hostKey
    if (
      /unable to authenticate|handshake failed|knownhosts|host key|AccessDenied|InvalidAccessKeyId|SignatureDoesNotMatch|\b40[13]\b|permission denied|unauthori[sz]ed|forbidden|didn't find section in config file/i.test(
        stderr,
      )
    )
      return new PermanentStorageError(ctx)
    if (/no space left|quota/i.test(stderr))
      return new PermanentStorageError(`${this.location}: no space left: ${line}`)
    const err = new Error(ctx)
    // Exit 5 is rclone's "temporary error"; connection failures are worth a retry as well.
    if (
      code === 5 ||
      /connection refused|connection reset|timeout|timed out|EOF|broken pipe|503|500|throttl/i.test(stderr)
    )
      markTransient(err)
    return err
  }

  /** hostKeyError is the one-line refusal of an sftp server's unknown or changed host key, if that is what failed. */
  private hostKeyError(stderr: string): PermanentStorageError | undefined {
    const unknown = /knownhosts: key is unknown/.test(stderr)
    const changed = /knownhosts: key mismatch/.test(stderr)
    if (!unknown && !changed) return undefined
    // With one sftp remote on the way the message can name it; otherwise it names the files.
    const r = this.sftp.length === 1 ? this.sftp[0] : undefined
    const server = r?.host
      ? `the sftp server ${r.host}${r.port && r.port !== 22 ? `:${r.port}` : ''}`
      : 'the sftp server'
    const file = r?.knownHostsFile ?? [...new Set(this.sftp.map((x) => x.knownHostsFile))].join(', ')
    const ssh = r ? sshCommand(r) : 'ssh HOST'
    if (unknown)
      return new PermanentStorageError(
        `${this.location}: ${server}: host key is not in ${file || 'known_hosts'}; seb never accepts a new host key by itself: run '${ssh}' once to check and accept it, then run seb again`,
      )
    const name = r?.host ? (r.port && r.port !== 22 ? `[${r.host}]:${r.port}` : r.host) : 'HOST'
    return new PermanentStorageError(
      `${this.location}: ${server}: HOST KEY CHANGED: the key does not match ${file || 'known_hosts'}; this could be an attack. If the change is expected, run 'ssh-keygen -R "${name}"' and then '${ssh}' once to accept the new key`,
    )
  }

  /** call runs one rclone command to completion and returns its stdout. */
  private async call(args: string[], signal: AbortSignal | undefined, h?: Handle): Promise<string> {
    const release = await this.slots.acquire(signal)
    try {
      const run = this.spawnRclone(args, 'pipe')
      run.child.stdin!.end()
      let out = ''
      run.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString()
      })
      const { code, stderr } = await raceAbort(run.done, signal, () => run.child.kill('SIGTERM'))
      if (code !== 0) throw this.error(args[0]!, code, stderr, h)
      return out
    } finally {
      release()
    }
  }

  async save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    await raceAbort(this.prepare(), signal)
    const target = this.path(objectPath(h))
    const tmp = this.path(tempPath(h))
    const work = async () => {
      const release = await this.slots.acquire(signal)
      let uploaded = false
      try {
        const run = this.spawnRclone(['rcat', '--size', String(body.length), tmp], 'ignore')
        const bodyError = new Promise<never>((_, reject) => {
          pipeline(body.open(), exactLength(body.length, describe(h)), run.child.stdin!, (err) => {
            if (err && !(err as NodeJS.ErrnoException).code?.startsWith('EPIPE')) {
              run.child.kill('SIGTERM')
              reject(err)
            }
          })
        })
        bodyError.catch(() => {})
        const { code, stderr } = await raceAbort(Promise.race([run.done, bodyError]), signal, () =>
          run.child.kill('SIGTERM'),
        )
        uploaded = true
        if (code !== 0) throw this.error('rcat', code, stderr)
        release()
        await this.call(['moveto', tmp, target], signal)
      } catch (err) {
        release()
        // The temp name is never listed; removing it is a courtesy that must not hide the failure.
        if (uploaded || err instanceof LengthMismatchError || signal?.aborted) this.cleanup(tmp)
        if (signal?.aborted) throw abortReason(signal)
        throw err
      }
    }
    return raceAbort(work(), signal)
  }

  private cleanup(tmp: string): void {
    const run = this.spawnRclone(['deletefile', tmp], 'ignore')
    run.child.stdin!.end()
    run.done.catch(() => {})
  }

  async load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { start, length } = rangeBounds(range)
    await raceAbort(this.prepare(), signal)
    const file = this.path(objectPath(h))
    const work = async (): Promise<T> => {
      if (length === 0) {
        await this.stat(h, signal)
        return consume(emptyStream())
      }
      const release = await this.slots.acquire(signal)
      const args = ['cat', file]
      if (start > 0) args.push('--offset', String(start))
      if (length !== undefined) args.push('--count', String(length))
      const run = this.spawnRclone(args, 'pipe')
      run.child.stdin!.end()
      const out = new PassThrough({ highWaterMark: 256 * 1024 })
      // Errors reach the consumer through its reads; this listener only keeps an unread stream's
      // error from becoming an uncaught exception.
      out.on('error', () => {})
      run.child.stdout!.pipe(out, { end: false })
      let exited = false
      let failure: Error | undefined
      const ended = run.done.then(
        ({ code, stderr }) => {
          exited = true
          if (code === 0) out.end()
          else {
            failure = this.error('cat', code, stderr, h)
            out.destroy(failure)
          }
        },
        (err: Error) => {
          exited = true
          failure = err
          out.destroy(err)
        },
      )
      const onAbort = () => {
        run.child.kill('SIGTERM')
        out.destroy(abortReason(signal!) as Error)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        // Wait for the first byte or the exit, so that a missing object is a NotFoundError of load.
        const first = new Promise<void>((resolve) => run.child.stdout!.once('data', () => resolve()))
        await raceAbort(Promise.race([first, ended]), signal)
        if (exited && failure) throw failure
        return await consume(out)
      } finally {
        signal?.removeEventListener('abort', onAbort)
        if (!exited) run.child.kill('SIGTERM')
        out.destroy()
        await run.done.catch(() => {})
        release()
      }
    }
    return raceAbort(work(), signal)
  }

  async stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    await raceAbort(this.prepare(), signal)
    const out = await this.call(['lsjson', '--stat', '--no-mimetype', this.path(objectPath(h))], signal, h)
    const info = JSON.parse(out) as { Size: number; IsDir: boolean; ModTime?: string }
    if (info.IsDir) throw notFound(h)
    return { name: h.name, size: info.Size, modified: modTime(info.ModTime) }
  }

  async *list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    signal?.throwIfAborted()
    await raceAbort(this.prepare(), signal)
    if (type === 'config') {
      yield* listConfig((h, sig) => this.stat(h, sig), signal)
      return
    }
    const dir = DIRS[type]
    let out: string
    try {
      out = await this.call(['lsjson', '-R', '--files-only', '--no-mimetype', this.path(dir)], signal, {
        type: 'config',
        name: '',
      })
    } catch (err) {
      if (err instanceof NotFoundError) return
      throw err
    }
    for (const e of JSON.parse(out) as { Path: string; Name: string; Size: number; ModTime?: string }[]) {
      if (e.Name.includes(TEMP_MARK) || !isValidName(type, e.Name)) continue
      if (objectPath({ type, name: e.Name }) !== `${dir}/${e.Path}`) continue
      yield { name: e.Name, size: e.Size, modified: modTime(e.ModTime) }
    }
  }

  async remove(h: Handle, signal?: AbortSignal): Promise<void> {
    await raceAbort(this.prepare(), signal)
    await this.call(['deletefile', this.path(objectPath(h))], signal, h)
  }

  /**
   * removeTemp deletes the temp objects of rcat uploads that were cut off (in the repository's own
   * folders only; see Storage.removeTemp) and returns how many it removed.
   */
  async removeTemp(signal?: AbortSignal): Promise<number> {
    await raceAbort(this.prepare(), signal)
    const now = Date.now()
    const doomed: string[] = []
    for (const dir of ['', DIRS.commit, DIRS.sig, DIRS.key, DIRS.index, DIRS.lock, DIRS.pack]) {
      let out: string
      try {
        out = await this.call(
          ['lsjson', ...(dir === DIRS.pack ? ['-R'] : []), '--files-only', '--no-mimetype', this.path(dir)],
          signal,
          { type: 'config', name: '' },
        )
      } catch (err) {
        if (err instanceof NotFoundError) continue
        throw err
      }
      for (const e of JSON.parse(out) as { Path: string; Name: string; ModTime?: string }[]) {
        if (!e.Name.includes(TEMP_MARK)) continue
        if (dir === DIRS.pack && !/^[0-9a-f]{2}\/[^/]+$/.test(e.Path)) continue
        if (dir === DIRS.lock && e.ModTime && now - Date.parse(e.ModTime) < TEMP_LOCK_GRACE_MS) continue
        doomed.push(dir ? `${dir}/${e.Path}` : e.Path)
      }
    }
    let removed = 0
    for (const rel of doomed) {
      try {
        await this.call(['deletefile', this.path(rel)], signal, { type: 'config', name: '' })
        removed++
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err
      }
    }
    return removed
  }

  async close(): Promise<void> {}
}

/** modTime reads rclone's ModTime (RFC 3339), 0 when missing or unreadable. */
function modTime(text: string | undefined): number {
  const t = text ? Date.parse(text) : Number.NaN
  return Number.isFinite(t) ? t : 0
}
