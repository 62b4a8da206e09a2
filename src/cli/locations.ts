// Why: what the CLI can tell from the paths a user typed, before any engine work, so that a wrong
// path gets one line that says what is wrong with it rather than advice that does not fit:
// - a repository that is not where a read command looks: what is missing (a mistyped path, a disk
//   not mounted) instead of "run seb init", which only a backup to a new place needs;
// - `seb backup` with its arguments swapped: the source is a repository, or the destination a Maildir;
// - a restore target that cannot be a folder of restored mail (an existing file, a path under a file,
//   /proc), checked before anything is read or written.
import {
  closeSync,
  promises as fs,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
  statSync,
} from 'node:fs'
import path from 'node:path'
import { RepositoryNotFoundError, UsageError } from '../errors.js'
import { parseDestination } from '../storage/destination.js'
import { errnoCode, errnoText } from '../util/errno.js'

/** localPath returns the absolute folder of a local destination, or null for a remote (or malformed) one. */
export function localPath(dest: string): string | null {
  try {
    const d = parseDestination(dest)
    return d.kind === 'local' ? path.resolve(d.path) : null
  } catch {
    return null
  }
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p)
  } catch {
    return null
  }
}

function statOrNull(p: string): Stats | null {
  try {
    return statSync(p)
  } catch {
    return null
  }
}

/** nearestExisting returns the deepest existing path on the way to `p` (`p` itself when it exists). */
function nearestExisting(p: string): { path: string; stat: Stats } {
  let at = p
  for (;;) {
    const st = statOrNull(at)
    if (st) return { path: at, stat: st }
    const up = path.dirname(at)
    if (up === at) return { path: at, stat: statSync(at) }
    at = up
  }
}

/**
 * missingRepository says what is missing where a read command (restore, snapshots, ls…) found no
 * repository: no such folder (naming the deepest part that exists), not a folder, or a folder without
 * a seb repository in it. Creating a repository is not the fix for any of these, so it is not advised.
 */
export function missingRepository(dest: string): RepositoryNotFoundError {
  const local = localPath(dest)
  if (!local)
    return new RepositoryNotFoundError(dest, 'no seb repository here (no config object); check the path')
  const st = statOrNull(local)
  if (!st) {
    const found = nearestExisting(local)
    const where = found.stat.isDirectory()
      ? `${found.path} exists, ${path.relative(found.path, local).split(path.sep)[0]} in it does not`
      : `${found.path} is a file`
    return new RepositoryNotFoundError(
      dest,
      `no seb repository here: no such folder (${where}); check the path, or mount the disk`,
    )
  }
  if (!st.isDirectory()) return new RepositoryNotFoundError(dest, 'no seb repository here: not a folder')
  if (!looksLikeRepository(local)) {
    const what = lstatOrNull(path.join(local, 'config'))
      ? "its 'config' file is not a seb repository's"
      : "it has no 'config' file"
    return new RepositoryNotFoundError(
      dest,
      `no seb repository here: the folder exists, but ${what}; check the path`,
    )
  }
  return new RepositoryNotFoundError(dest)
}

/**
 * explainMissingRepository runs a read command's work and turns its "no repository here (run seb
 * init…)" into what is missing (missingRepository).
 */
export async function explainMissingRepository<T>(dest: string, work: Promise<T>): Promise<T> {
  try {
    return await work
  } catch (err) {
    if (err instanceof RepositoryNotFoundError) throw missingRepository(dest)
    throw err
  }
}

/** looksLikeRepository tells whether `dir` holds a `config` file of a seb repository. */
export function looksLikeRepository(dir: string): boolean {
  let fd: number
  try {
    fd = openSync(path.join(dir, 'config'), 'r')
  } catch {
    return false
  }
  try {
    const buf = Buffer.alloc(64 * 1024)
    const n = readSync(fd, buf, 0, buf.length, 0)
    const c = JSON.parse(buf.subarray(0, n).toString('utf8')) as { seb?: unknown }
    return c?.seb === 'repository'
  } catch {
    return false
  } finally {
    closeSync(fd)
  }
}

/** MAILDIR_DEPTH: how far below a folder looksLikeMaildir looks for cur/new/tmp (accounts, then folders). */
const MAILDIR_DEPTH = 2
/** MAILDIR_FOLDERS_LOOKED_AT bounds the folders read, so a large tree costs little. */
const MAILDIR_FOLDERS_LOOKED_AT = 200

/**
 * looksLikeMaildir returns the folder at or near the top of `dir` (at most two levels down) that holds
 * `cur`, `new` and `tmp` folders — a Maildir — or null.
 */
export function looksLikeMaildir(dir: string): string | null {
  let looked = 0
  let level = [dir]
  for (let depth = 0; depth <= MAILDIR_DEPTH && level.length; depth++) {
    const next: string[] = []
    for (const d of level) {
      if (++looked > MAILDIR_FOLDERS_LOOKED_AT) return null
      let names: string[]
      try {
        names = readdirSync(d, { withFileTypes: true })
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
          .sort()
      } catch {
        continue
      }
      if (['cur', 'new', 'tmp'].every((n) => names.includes(n))) return d
      for (const n of names) next.push(path.join(d, n))
    }
    level = next
  }
  return null
}

/**
 * checkBackupArguments refuses `seb backup SRC DEST` when the two look swapped: SRC is a seb
 * repository, or DEST (not a repository itself) looks like a Maildir. Nothing has been read or
 * written yet. `shown` gives the paths as the user typed them.
 */
export function checkBackupArguments(source: string, destination: string): void {
  const why: string[] = []
  if (looksLikeRepository(path.resolve(source))) why.push(`${source} is a seb repository`)
  const dest = localPath(destination)
  if (dest && !looksLikeRepository(dest)) {
    const maildir = looksLikeMaildir(dest)
    if (maildir) {
      const rel = path.relative(dest, maildir)
      why.push(`${destination} looks like a mail folder (${rel ? `${rel}/` : ''}cur, new and tmp)`)
    }
  }
  if (why.length)
    throw new UsageError(
      `the arguments look swapped: ${why.join(' and ')}; the order is 'seb backup SRC DEST' (mail folder first, then the repository); nothing was changed`,
    )
}

/**
 * checkRestoreTarget refuses a target restore cannot write into, before anything is read or written:
 * an existing file, a path under a file, or a place where no file can be created (/proc, a read-only
 * disk, a folder of someone else's). The probe is a folder made and removed at once in the deepest
 * existing folder on the way (it does not make the target's missing folders).
 */
export async function checkRestoreTarget(target: string): Promise<void> {
  const abs = path.resolve(target)
  const own = lstatOrNull(abs)
  if (own && !own.isDirectory()) {
    const st = own.isSymbolicLink() ? statOrNull(abs) : own
    if (!st?.isDirectory())
      throw new UsageError(
        `${target}: exists and is ${own.isSymbolicLink() ? 'a symlink to no folder' : 'a file'}; restore into a new or empty folder`,
      )
  }
  let found: { path: string; stat: Stats }
  try {
    found = nearestExisting(abs)
  } catch (err) {
    throw new UsageError(`${target}: cannot restore there (${errnoText(err)})`)
  }
  if (!found.stat.isDirectory())
    throw new UsageError(
      `${target}: ${found.path} is a file, not a folder; restore into a new or empty folder`,
    )
  let probe: string
  try {
    probe = await fs.mkdtemp(path.join(found.path, '.seb-restore-check-'))
  } catch (err) {
    // ENOENT for a folder that exists: a filesystem that holds no files of its own, such as /proc.
    const why = errnoCode(err) === 'ENOENT' ? 'its filesystem does not hold files' : errnoText(err)
    throw new UsageError(
      `${target}: cannot restore there: nothing can be created in ${found.path} (${why}); choose a folder on a writable disk`,
    )
  }
  await fs.rmdir(probe).catch(() => {})
}
