// Why: seb's targets are ratios to what the plain system tools do on the same machine and tree (issue 6):
// `tar -c | zstd -3 | gpg --encrypt` is the first-backup floor, `gpg -d | zstd -d | tar -x` the restore
// floor, and `tar -c | zstd -3` of a day's new messages alone is the day floor (issue 3). This module
// measures them with the real tools and the benchmark's throwaway GnuPG home, never the user's keyring.

import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GpgHome } from './gpg-home.js'
import { q, sh, type Timing, timingOf } from './run.js'

function gpgEncryptArgs(g: GpgHome): string {
  return `gpg --batch --yes --trust-model always --compress-algo none --recipient ${q(g.fingerprint)} --encrypt`
}

/**
 * A measured floor pipeline, run as one `bash -c` under GNU time: CPU time covers every stage, peak RSS is
 * that of the pipeline's largest process (null without GNU time).
 */
export interface FloorResult extends Timing {
  /** Bytes written (the archive), when meaningful. */
  bytes: number
}

/**
 * firstBackupFloor times `tar -c -C src . | zstd -3 | gpg --encrypt > out` and returns the time, the
 * archive size and the pipeline's peak RSS. `out` may be /dev/null (bytes are then counted by wc -c).
 */
export async function firstBackupFloor(src: string, g: GpgHome, out: string): Promise<FloorResult> {
  if (out === '/dev/null') {
    const r = await sh(`tar -c -C ${q(src)} . | zstd -3 -q | ${gpgEncryptArgs(g)} | wc -c`, { env: g.env })
    return { ...timingOf(r), bytes: Number(r.stdout.trim()) }
  }
  const r = await sh(`tar -c -C ${q(src)} . | zstd -3 -q | ${gpgEncryptArgs(g)} -o ${q(out)}`, { env: g.env })
  return { ...timingOf(r), bytes: (await stat(out)).size }
}

/** restoreFloor times `gpg -d archive | zstd -d | tar -x -C target` (target must exist). */
export async function restoreFloor(archive: string, target: string, g: GpgHome): Promise<FloorResult> {
  const r = await sh(`gpg --batch --quiet -d ${q(archive)} | zstd -d -q | tar -x -C ${q(target)}`, {
    env: g.env,
  })
  return { ...timingOf(r), bytes: 0 }
}

/**
 * dayFloor returns the size of `tar -c | zstd -3` of the given files (paths relative to root): the
 * compressed size of that day's new messages alone, which a day's upload is compared with.
 */
export async function dayFloor(root: string, files: string[]): Promise<number> {
  if (files.length === 0) return 0
  const dir = await mkdtemp(join(tmpdir(), 'seb-bench-list-'))
  try {
    const list = join(dir, 'files')
    await writeFile(list, `${files.join('\0')}\0`)
    const r = await sh(`tar -c -C ${q(root)} --null --verbatim-files-from -T ${q(list)} | zstd -3 -q | wc -c`)
    return Number(r.stdout.trim())
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** compressedSize returns the size of `tar -c | zstd -3` of a whole tree (the "live compressed" size). */
export async function compressedSize(root: string): Promise<number> {
  const r = await sh(`tar -c -C ${q(root)} . | zstd -3 -q | wc -c`)
  return Number(r.stdout.trim())
}

/** readFloor times `tar -c | cat > /dev/null` (reading the source alone). */
export async function readFloor(src: string): Promise<FloorResult> {
  const r = await sh(`tar -c -C ${q(src)} . | cat > /dev/null`)
  return { ...timingOf(r), bytes: 0 }
}

/**
 * STAT_WALK is the stat walk, the floor of a run with nothing changed: `find` lstat()s every entry of the
 * tree (files and folders, as seb's scan does) and prints what seb's scan reads of each, size, mtime, inode,
 * ctime and path, to /dev/null.
 */
export const STAT_WALK = "find SRC -printf '%s %T@ %i %C@ %p\\n' > /dev/null"

/** statWalk times STAT_WALK over the tree. */
export async function statWalk(src: string): Promise<FloorResult> {
  const r = await sh(STAT_WALK.replace('SRC', q(src)))
  return { ...timingOf(r), bytes: 0 }
}
