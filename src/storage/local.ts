// Why: the local (or mounted) directory destination. Writes are atomic the classic way: temp file in
// the same folder, fsync, rename, fsync the folder (restic's backend/local), so a crash at any instant
// leaves either the old state or the whole new object.
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { NotFoundError, PermanentStorageError } from '../errors.js'
import { errnoCode, errnoText } from '../util/errno.js'
import { DIRS, isValidName, objectPath, TEMP_LOCK_GRACE_MS, TEMP_MARK, tempDirs } from './layout.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'
import { listConfig } from './util.js'

const PERMANENT = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EPERM', 'EROFS'])

/** LocalStorage keeps a repository in a directory of the local filesystem. */
export class LocalStorage implements Storage {
  readonly location: string
  readonly connections: number

  constructor(
    readonly root: string,
    options: { connections?: number } = {},
  ) {
    this.location = root
    this.connections = options.connections ?? 4
  }

  private full(h: Handle): string {
    return path.join(this.root, ...objectPath(h).split('/'))
  }

  /** localPath is where an object lives on this filesystem (it may not exist). */
  localPath(h: Handle): string {
    return this.full(h)
  }

  /** spoolPath gives a temporary name beside the object's final one (same folder, same filesystem). */
  async spoolPath(h: Handle): Promise<string> {
    const target = this.full(h)
    await fs.mkdir(path.dirname(target), { recursive: true, mode: 0o700 })
    return `${target}${TEMP_MARK}${randomBytes(6).toString('hex')}`
  }

  async save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    const target = this.full(h)
    const dir = path.dirname(target)
    // A body already written at a spool path of ours is moved into place, not copied.
    const spooled = body.file?.startsWith(`${target}${TEMP_MARK}`) ? body.file : undefined
    const tmp = spooled ?? `${target}${TEMP_MARK}${randomBytes(6).toString('hex')}`
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 })
      if (!spooled) {
        const out = createWriteStream(tmp, { flags: 'wx', mode: 0o600 })
        await pipeline(body.open(), out, { signal })
      }
      const fh = await fs.open(tmp, 'r+')
      try {
        const st = await fh.stat()
        if (st.size !== body.length)
          throw new Error(`${h.type} ${h.name}: wrote ${st.size} bytes, expected ${body.length}`)
        await fh.sync()
      } finally {
        await fh.close()
      }
      await fs.rename(tmp, target)
      await syncDir(dir)
    } catch (err) {
      // A spooled body stays for a retry (removeTemp deletes it if the run gives up).
      if (!spooled) await fs.rm(tmp, { force: true }).catch(() => {})
      // pipeline rejects with its own AbortError: the contract is the signal's reason.
      if (signal?.aborted) throw signal.reason
      throw classify(err, `${this.location}: cannot write ${objectPath(h)}`)
    }
  }

  async load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    signal?.throwIfAborted()
    const file = this.full(h)
    const fh = await fs.open(file, 'r').catch((err) => {
      throw classify(err, `${this.location}: cannot read ${objectPath(h)}`, h)
    })
    const start = range?.offset ?? 0
    const end = range?.length === undefined ? undefined : start + range.length - 1
    if (range?.length === 0) {
      await fh.close()
      return consume(Readable.from([]))
    }
    const stream = createReadStream('', { fd: fh, start, end, highWaterMark: 256 * 1024, signal })
    try {
      const out = await consume(stream)
      signal?.throwIfAborted()
      return out
    } catch (err) {
      if (signal?.aborted) throw signal.reason
      throw err
    } finally {
      stream.destroy()
    }
  }

  async stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    signal?.throwIfAborted()
    try {
      const st = await fs.stat(this.full(h))
      return { name: h.name, size: st.size, modified: st.mtimeMs }
    } catch (err) {
      throw classify(err, `${this.location}: cannot stat ${objectPath(h)}`, h)
    }
  }

  async *list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    if (type === 'config') {
      yield* listConfig((h, sig) => this.stat(h, sig), signal)
      return
    }
    const top = path.join(this.root, DIRS[type])
    // Only the 256 two-hex-digit fan-out folders hold packs; anything else there is not seb's.
    const dirs =
      type === 'pack'
        ? (await readdirOrEmpty(top)).filter((d) => /^[0-9a-f]{2}$/.test(d)).map((d) => path.join(top, d))
        : [top]
    for (const dir of dirs) {
      signal?.throwIfAborted()
      for (const name of await readdirOrEmpty(dir)) {
        if (name.includes(TEMP_MARK) || !isValidName(type, name)) continue
        try {
          const st = await fs.stat(path.join(dir, name))
          if (st.isFile()) yield { name, size: st.size, modified: st.mtimeMs }
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        }
      }
    }
  }

  async remove(h: Handle, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted()
    try {
      await fs.unlink(this.full(h))
    } catch (err) {
      throw classify(err, `${this.location}: cannot remove ${objectPath(h)}`, h)
    }
  }

  /**
   * removeTemp deletes the temp files of killed saves (in the repository's own folders only; see
   * Storage.removeTemp) and returns how many it removed.
   */
  async removeTemp(signal?: AbortSignal): Promise<number> {
    const now = Date.now()
    let removed = 0
    const dirs = tempDirs(await readdirOrEmpty(path.join(this.root, DIRS.pack)))
    for (const rel of dirs) {
      const dir = path.join(this.root, ...rel.split('/').filter(Boolean))
      for (const name of await readdirOrEmpty(dir)) {
        signal?.throwIfAborted()
        if (!name.includes(TEMP_MARK)) continue
        const p = path.join(dir, name)
        const st = await fs.lstat(p).catch(() => null)
        if (!st?.isFile()) continue
        if (rel === DIRS.lock && now - st.mtimeMs < TEMP_LOCK_GRACE_MS) continue
        try {
          await fs.unlink(p)
          removed++
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
            throw classify(err, `${this.location}: cannot remove ${path.relative(this.root, p)}`)
        }
      }
    }
    return removed
  }

  async close(): Promise<void> {}
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return []
    throw err
  }
}

async function syncDir(dir: string): Promise<void> {
  // Some filesystems (and all of Windows) refuse fsync on a directory: the rename is still done.
  const fh = await fs.open(dir, 'r').catch(() => null)
  if (!fh) return
  await fh.sync().catch(() => {})
  await fh.close()
}

function classify(err: unknown, context: string, h?: Handle): unknown {
  const code = errnoCode(err)
  if (h && code === 'ENOENT') return new NotFoundError(`${h.type} ${h.name || 'config'}`)
  if (code === 'ENOTDIR' || (code === 'EEXIST' && !h)) {
    return new PermanentStorageError(`${context}: ${errnoText('ENOTDIR')} (${code})`, { cause: err })
  }
  if (code && PERMANENT.has(code)) {
    const why = code === 'ENOSPC' || code === 'EDQUOT' ? 'no space left on the destination' : errnoText(code)
    return new PermanentStorageError(`${context}: ${why} (${code})`, { cause: err })
  }
  return err
}
