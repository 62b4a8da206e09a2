// Why: issue 3's promise is about a day of mail: on the generated tree seb makes a first backup, a run with
// nothing changed, then N simulated days, each day's upload set beside the day's floor (its new messages
// alone, compressed) and what the seed's policy would upload; then compact and a full restore, checked
// against the source.

import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { type DayRecord, mutateDay, type SelectionMode } from './day-of-mail.js'
import { compressedSize, dayFloor } from './floor.js'
import type { GpgHome } from './gpg-home.js'
import { log } from './log.js'
import type { MailboxStats } from './maildir/read.js'
import { generateMaildir } from './maildir/write.js'
import { type BenchArgs, generateOptionsOf } from './options.js'
import { fmtBytes, fmtS } from './report/format.js'
import { type BackupSummary, Seb, type SebRun } from './seb-cli.js'
import { SeedPolicy, type SeedRun } from './seed-policy.js'
import { compareTrees, duBytes, type TreeComparison } from './trees.js'

/** One simulated day in the results. */
export interface DayRow {
  day: number
  newFiles: number
  newBytes: number
  flagRenames: number
  moves: number
  deletions: number
  trashEmptied: number
  floorBytes: number
  seb?: {
    bytesUploaded: number
    ratio: number
    indexBytes: number
    remoteBytes: number
    wallMs: number
    cpuMs: number | null
    peakRssKiB: number | null
    summary: BackupSummary
  }
  seed: SeedRun & { ratio: number }
  mutateMs: number
}

/** The results of one selection mode. */
export interface ModeResult {
  mode: SelectionMode
  generator: { stats: MailboxStats; durationMs: number }
  liveCompressedStart: number
  first?: SebRun<BackupSummary> & { remoteBytes: number }
  nothingChanged?: SebRun<BackupSummary>
  seedInitial: SeedRun
  days: DayRow[]
  totals: { floorBytes: number; sebBytes?: number; sebRatio?: number; seedBytes: number; seedRatio: number }
  compact?: {
    wallMs: number
    cpuMs: number | null
    peakRssKiB: number | null
    remoteBefore: number
    remoteAfter: number
    summary: unknown
  }
  liveCompressedEnd: number
  restore?: SebRun<{ filesRestored: number; bytesRestored: number; durationMs: number }> & {
    comparison: TreeComparison
  }
  errors: string[]
}

/** runMode runs the incremental series for one selection mode on a freshly generated tree. */
export async function runMode(
  a: BenchArgs,
  work: string,
  mode: SelectionMode,
  gpg: GpgHome,
): Promise<ModeResult> {
  const src = join(work, `src-${mode}`)
  const dest = join(work, `repo-${mode}`)
  const target = join(work, `restore-${mode}`)
  await rm(src, { recursive: true, force: true })
  log(`${mode}: generating the Maildir (scale ${a.scale})`)
  const gen = await generateMaildir(src, generateOptionsOf(a))
  log(`${mode}: ${gen.stats.files} files, ${fmtBytes(gen.stats.bytes)} in ${fmtS(gen.durationMs)}`)
  const errors: string[] = []
  const seb = a.seb ? new Seb(a.seb, gpg) : null
  const res: ModeResult = {
    mode,
    generator: { stats: gen.stats, durationMs: gen.durationMs },
    liveCompressedStart: await compressedSize(src),
    seedInitial: undefined as unknown as SeedRun,
    days: [],
    totals: { floorBytes: 0, seedBytes: 0, seedRatio: 0 },
    liveCompressedEnd: 0,
    errors,
  }
  let sebOk = !!seb
  /** trySeb runs one seb step; a failed init or first backup stops the later seb steps, others do not. */
  const trySeb = async <T>(what: string, f: () => Promise<T>, fatal = false): Promise<T | undefined> => {
    if (!seb || !sebOk) return undefined
    try {
      return await f()
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`)
      log(`${mode}: seb ${what} failed: ${(e as Error).message}`)
      if (fatal) sebOk = false
      return undefined
    }
  }
  await rm(dest, { recursive: true, force: true })
  await trySeb('init', () => seb!.init(dest), true)
  log(`${mode}: first backup`)
  const first = await trySeb('first backup', () => seb!.backup(src, dest), true)
  if (first) res.first = { ...first, remoteBytes: await duBytes(dest) }
  res.nothingChanged = await trySeb('nothing-changed backup', () => seb!.backup(src, dest))
  const seed = new SeedPolicy(src, { sizing: a.seedSizing })
  res.seedInitial = await seed.initial()
  for (let d = 0; d < a.days; d++) {
    const t0 = performance.now()
    const rec: DayRecord = await mutateDay(src, { seed: a.seed, day: d, mode, scale: a.scale })
    const mutateMs = performance.now() - t0
    const floorBytes = await dayFloor(src, rec.newMessageFiles)
    const b = await trySeb(`day ${d + 1} backup`, () => seb!.backup(src, dest))
    const s = await seed.run()
    const row: DayRow = {
      day: d + 1,
      newFiles: rec.newMessageFiles.length,
      newBytes: rec.newBytes,
      flagRenames: rec.flagRenames.length + rec.read.length,
      moves: rec.moves.length,
      deletions: rec.deleted.length + rec.trashed.length,
      trashEmptied: rec.trashEmptied.length,
      floorBytes,
      seed: { ...s, ratio: s.bytesUploaded / Math.max(1, floorBytes) },
      mutateMs,
    }
    if (b)
      row.seb = {
        bytesUploaded: b.summary.bytesUploaded,
        ratio: b.summary.bytesUploaded / Math.max(1, floorBytes),
        indexBytes: b.summary.indexBytes,
        remoteBytes: await duBytes(dest),
        wallMs: b.wallMs,
        cpuMs: b.cpuMs,
        peakRssKiB: b.peakRssKiB,
        summary: b.summary,
      }
    res.days.push(row)
    log(
      `${mode}: day ${d + 1}: floor ${fmtBytes(floorBytes)}, seb ${row.seb ? fmtBytes(row.seb.bytesUploaded) : '—'}, seed ${fmtBytes(s.bytesUploaded)}`,
    )
  }
  res.totals.floorBytes = res.days.reduce((t, r) => t + r.floorBytes, 0)
  res.totals.seedBytes = res.days.reduce((t, r) => t + r.seed.bytesUploaded, 0)
  res.totals.seedRatio = res.totals.seedBytes / Math.max(1, res.totals.floorBytes)
  if (res.days.length && res.days.every((r) => r.seb)) {
    res.totals.sebBytes = res.days.reduce((t, r) => t + r.seb!.bytesUploaded, 0)
    res.totals.sebRatio = res.totals.sebBytes / Math.max(1, res.totals.floorBytes)
  }
  const remoteBefore = await duBytes(dest)
  const c = await trySeb('compact', () => seb!.compact(dest))
  if (c)
    res.compact = {
      wallMs: c.wallMs,
      cpuMs: c.cpuMs,
      peakRssKiB: c.peakRssKiB,
      remoteBefore,
      remoteAfter: await duBytes(dest),
      summary: c.summary,
    }
  res.liveCompressedEnd = await compressedSize(src)
  await rm(target, { recursive: true, force: true })
  await mkdir(target, { recursive: true })
  log(`${mode}: full restore`)
  const r = await trySeb('restore', () => seb!.restore(dest, target))
  if (r) res.restore = { ...r, comparison: await compareTrees(src, target) }
  if (!a.keep) {
    await rm(target, { recursive: true, force: true })
    await rm(src, { recursive: true, force: true })
    await rm(dest, { recursive: true, force: true })
  }
  return res
}
