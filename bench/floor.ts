// Why: seb's targets are ratios to what the plain system tools do on the same machine and tree (issue 6):
// `tar -c | zstd -3 | gpg --encrypt` is the first-backup floor, `gpg -d | zstd -d | tar -x` the restore
// floor, and `tar -c | zstd -3` of a day's new messages alone is the day floor (issue 3). This module
// measures them with the real tools and the benchmark's throwaway GnuPG home, never the user's keyring.

import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GpgHome } from './gpg-home.js'
import { q, sh } from './run.js'

function gpgEncryptArgs(g: GpgHome): string {
  return `gpg --batch --yes --trust-model always --compress-algo none --recipient ${q(g.fingerprint)} --encrypt`
}

/** A measured floor pipeline. */
export interface FloorResult {
  durationMs: number
  /** Peak RSS of the largest process of the pipeline, KiB (null without GNU time). */
  peakRssKiB: number | null
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
    return { durationMs: r.durationMs, peakRssKiB: r.peakRssKiB, bytes: Number(r.stdout.trim()) }
  }
  const r = await sh(`tar -c -C ${q(src)} . | zstd -3 -q | ${gpgEncryptArgs(g)} -o ${q(out)}`, { env: g.env })
  return { durationMs: r.durationMs, peakRssKiB: r.peakRssKiB, bytes: (await stat(out)).size }
}

/** restoreFloor times `gpg -d archive | zstd -d | tar -x -C target` (target must exist). */
export async function restoreFloor(archive: string, target: string, g: GpgHome): Promise<FloorResult> {
  const r = await sh(`gpg --batch --quiet -d ${q(archive)} | zstd -d -q | tar -x -C ${q(target)}`, {
    env: g.env,
  })
  return { durationMs: r.durationMs, peakRssKiB: r.peakRssKiB, bytes: 0 }
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
  return { durationMs: r.durationMs, peakRssKiB: r.peakRssKiB, bytes: 0 }
}

/** statFloor times `find -printf` over the tree (listing and stat-ing every file). */
export async function statFloor(src: string): Promise<FloorResult> {
  const r = await sh(`find ${q(src)} -type f -printf '%s %T@ %i %p\\n' > /dev/null`)
  return { durationMs: r.durationMs, peakRssKiB: r.peakRssKiB, bytes: 0 }
}
