// Why: `npm run bench` is how seb's promises (issues 3 and 6) are checked: on a seeded synthetic Maildir it
// drives the built seb CLI through a first backup, a nothing-changed run, N simulated days of mail and a full
// restore, and puts each day's upload next to the day's floor and the seed's policy; with --peers it also
// measures `tar | zstd | gpg`, restic and borg on the same tree in the same run. Ratios from one run are what
// count: absolute times are noisy on shared machines.
//
// Usage: node dist/bench/bench.js [--scale 0.05] [--days 30] [--mode recent|uniform|both|none] [--peers]
//        [--files N --mean-size B] [--seed N] [--keep DIR] [--out FILE] [--seed-sizing exact|estimate]
//        [--no-seb] [--seb PATH] [--restore-to DIR] [--repeat N]

import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises'
import { cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { getOrCreate } from '../src/core/maps.js'
import { type DayRecord, mutateDay, type SelectionMode } from './day-of-mail.js'
import {
  compressedSize,
  dayFloor,
  type FloorResult,
  firstBackupFloor,
  type GpgHome,
  makeThrowawayGpg,
  readFloor,
  restoreFloor,
  statFloor,
} from './floor.js'
import { type GenerateOptions, generateMaildir, type MailboxStats, walkTree } from './maildir-gen.js'
import { duBytes, hasGnuTime, type Measured, runMeasured, sebNodeArgs, which } from './run.js'
import { SeedPolicy, type SeedRun } from './seed-policy.js'

const here = dirname(fileURLToPath(import.meta.url))

/** Parsed command line of the benchmark. */
export interface BenchArgs {
  scale: number
  days: number
  modes: SelectionMode[]
  peers: boolean
  files?: number
  meanSize?: number
  seed: number
  keep?: string
  out: string
  seedSizing: 'exact' | 'estimate'
  seb: string | null
  /** where restores write (default: the work folder); a tmpfs takes the disk's writeback out of the ratio */
  restoreTo?: string
  /** peers: how many times each timed step runs (alternating tools); the median run is reported */
  repeat: number
}

/** parseBenchArgs reads the benchmark's options (see the module comment). */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      days: { type: 'string', default: '30' },
      mode: { type: 'string', default: 'both' },
      peers: { type: 'boolean', default: false },
      files: { type: 'string' },
      'mean-size': { type: 'string' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string' },
      out: { type: 'string' },
      'seed-sizing': { type: 'string', default: 'exact' },
      'no-seb': { type: 'boolean', default: false },
      seb: { type: 'string' },
      'restore-to': { type: 'string' },
      repeat: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(
      'usage: node dist/bench/bench.js [--scale 0.05] [--days 30] [--mode recent|uniform|both|none] [--peers]\n' +
        '       [--files N --mean-size B] [--seed N] [--keep DIR] [--out FILE] [--seed-sizing exact|estimate]\n' +
        '       [--no-seb] [--seb PATH] [--restore-to DIR] [--repeat N]\nSee docs/benchmarks.md.\n',
    )
    process.exit(0)
  }
  const mode = values.mode
  if (mode !== 'recent' && mode !== 'uniform' && mode !== 'both' && mode !== 'none')
    throw new Error(`--mode: recent, uniform, both or none, not ${mode}`)
  const sizing = values['seed-sizing']
  if (sizing !== 'exact' && sizing !== 'estimate') throw new Error('--seed-sizing: exact or estimate')
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v}`)
    return n
  }
  const sebPath = values.seb ?? resolve(here, '../src/cli/bin.js')
  return {
    scale: num(values.scale, 'scale')!,
    days: Math.floor(num(values.days, 'days')!),
    modes: mode === 'both' ? ['recent', 'uniform'] : mode === 'none' ? [] : [mode],
    peers: values.peers,
    files: num(values.files, 'files'),
    meanSize: num(values['mean-size'], 'mean-size'),
    seed: num(values.seed, 'seed')!,
    keep: values.keep,
    out: values.out ?? resolve(here, '../../bench/results/latest.json'),
    seedSizing: sizing,
    seb: values['no-seb'] ? null : sebPath,
    restoreTo: values['restore-to'] ? resolve(values['restore-to']) : undefined,
    repeat: Math.max(1, Math.floor(num(values.repeat, 'repeat')!)),
  }
}

/**
 * settle flushes dirty pages before a timed step, so that one tool's writeback is not billed to the next
 * (on this VM's disk a restore's writeback alone moved the next timing by 2-5×).
 */
async function settle(): Promise<void> {
  await runMeasured('sync', [], { check: false })
}

function log(msg: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}

// ---------------------------------------------------------------------------------------------------
// seb through its CLI

/** The summary line of `seb backup --json`. */
export interface BackupSummary {
  type: 'summary'
  command: 'backup'
  snapshot: string
  filesAdded: number
  filesChanged: number
  filesRenamed: number
  filesDeleted: number
  filesUnchanged: number
  bytesRead: number
  bytesUploaded: number
  packsWritten: number
  packsRewritten: number
  indexBytes: number
  durationMs: number
}

/** A measured seb command with its parsed summary. */
export interface SebRun<S> {
  wallMs: number
  peakRssKiB: number | null
  summary: S
}

/** lastJsonLine parses the last non-empty stdout line as JSON (seb's summary contract). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.trim())
  const last = lines[lines.length - 1]
  if (!last) throw new Error('seb printed nothing on stdout')
  return JSON.parse(last) as Record<string, unknown>
}

class Seb {
  constructor(
    private readonly bin: string,
    private readonly gpg: GpgHome,
  ) {}

  private async run<S>(args: string[]): Promise<SebRun<S>> {
    const r: Measured = await runMeasured(process.execPath, [...sebNodeArgs(this.bin), ...args], {
      env: this.gpg.env,
    })
    return { wallMs: r.durationMs, peakRssKiB: r.peakRssKiB, summary: lastJsonLine(r.stdout) as S }
  }

  async init(dest: string): Promise<void> {
    await runMeasured(
      process.execPath,
      [...sebNodeArgs(this.bin), 'init', dest, '--recipient', this.gpg.fingerprint],
      {
        env: this.gpg.env,
      },
    )
  }

  backup(src: string, dest: string) {
    return this.run<BackupSummary>(['backup', src, dest, '--json'])
  }

  restore(dest: string, target: string) {
    return this.run<{ filesRestored: number; bytesRestored: number; durationMs: number }>([
      'restore',
      dest,
      target,
      '--json',
    ])
  }

  compact(dest: string) {
    return this.run<Record<string, unknown>>(['compact', dest, '--json'])
  }
}

// ---------------------------------------------------------------------------------------------------
// Comparing a restore with its source

/** How a restored tree differs from its source (lists cut to 10 entries; counts are exact). */
export interface TreeComparison {
  identical: boolean
  files: number
  missing: number
  extra: number
  contentDiffers: number
  mtimeDiffers: number
  examples: string[]
}

async function sameBytes(a: string, b: string, size: number): Promise<boolean> {
  const fa = await open(a)
  const fb = await open(b)
  try {
    const chunk = 1 << 20
    const ba = Buffer.alloc(Math.min(chunk, Math.max(1, size)))
    const bb = Buffer.alloc(ba.length)
    for (let pos = 0; pos < size; pos += chunk) {
      const n = Math.min(chunk, size - pos)
      await fa.read(ba, 0, n, pos)
      await fb.read(bb, 0, n, pos)
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false
    }
    return true
  } finally {
    await fa.close()
    await fb.close()
  }
}

/** compareTrees checks that `restored` holds exactly src's regular files, byte for byte, with their mtimes (1 s). */
export async function compareTrees(src: string, restored: string): Promise<TreeComparison> {
  const a = await walkTree(src)
  const b = new Map((await walkTree(restored)).map((e) => [e.path, e]))
  const res: TreeComparison = {
    identical: true,
    files: a.length,
    missing: 0,
    extra: 0,
    contentDiffers: 0,
    mtimeDiffers: 0,
    examples: [],
  }
  const note = (s: string) => {
    res.identical = false
    if (res.examples.length < 10) res.examples.push(s)
  }
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < a.length) {
        const e = a[next++]!
        const o = b.get(e.path)
        if (!o) {
          res.missing++
          note(`missing: ${e.path}`)
          continue
        }
        b.delete(e.path)
        if (o.size !== e.size || !(await sameBytes(join(src, e.path), join(restored, e.path), e.size))) {
          res.contentDiffers++
          note(`content: ${e.path}`)
        }
        if (Math.floor(o.mtimeMs / 1000) !== Math.floor(e.mtimeMs / 1000)) {
          res.mtimeDiffers++
          note(`mtime: ${e.path}`)
        }
      }
    }),
  )
  for (const p of b.keys()) {
    res.extra++
    note(`extra: ${p}`)
  }
  return res
}

// ---------------------------------------------------------------------------------------------------
// The incremental run (issue 3)

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

function genOpts(a: BenchArgs): GenerateOptions {
  return { scale: a.scale, seed: a.seed, files: a.files, meanSize: a.meanSize }
}

async function runMode(a: BenchArgs, work: string, mode: SelectionMode, gpg: GpgHome): Promise<ModeResult> {
  const src = join(work, `src-${mode}`)
  const dest = join(work, `repo-${mode}`)
  const target = join(work, `restore-${mode}`)
  await rm(src, { recursive: true, force: true })
  log(`${mode}: generating the Maildir (scale ${a.scale})`)
  const gen = await generateMaildir(src, genOpts(a))
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

// ---------------------------------------------------------------------------------------------------
// Peers (issue 6)

/** One tool's row of measurements in the peers table. */
export interface PeerResult {
  tool: string
  available: boolean
  note?: string
  first?: { wallMs: number; peakRssKiB: number | null; bytes: number }
  nothingChanged?: { wallMs: number; bytes: number }
  day?: { wallMs: number; bytes: number }
  restore?: { wallMs: number; peakRssKiB: number | null; identical?: boolean }
}

/** The results of the peers run. */
export interface PeersResult {
  stats: MailboxStats
  readFloor: FloorResult
  statFloor: FloorResult
  dayFloorBytes: number
  day: {
    newFiles: number
    newBytes: number
    flagRenames: number
    moves: number
    deletions: number
    trashEmptied: number
  }
  tools: PeerResult[]
  /** every timed run's wall time in ms, in the order run, by `tool/step` (first, nothing, restore) */
  runs?: Record<string, number[]>
}

/** Run is one timed step of one tool. */
interface Run {
  wallMs: number
  peakRssKiB: number | null
  bytes?: number
  identical?: boolean
}

/** medianRun returns the run with the median wall time (the lower middle one for an even count). */
export function medianRun<R extends { wallMs: number }>(rs: readonly R[]): R | undefined {
  const sorted = [...rs].sort((x, y) => x.wallMs - y.wallMs)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

interface Tool {
  name: string
  available: () => string | null
  init: () => Promise<void>
  backup: (label: string) => Promise<Measured>
  restore: (target: string) => Promise<Measured>
  /** Where the restored tree's copy of src sits inside target. */
  restoredRoot: (target: string) => string
  repo: string
}

async function runPeers(a: BenchArgs, work: string, gpg: GpgHome): Promise<PeersResult> {
  const src = join(work, 'src-peers')
  await rm(src, { recursive: true, force: true })
  log('peers: generating the Maildir')
  const gen = await generateMaildir(src, genOpts(a))
  const tools: Tool[] = []
  const results: PeerResult[] = []
  const env = {
    ...gpg.env,
    RESTIC_PASSWORD: 'bench',
    RESTIC_CACHE_DIR: join(work, 'restic-cache'),
    BORG_PASSPHRASE: 'bench',
    BORG_BASE_DIR: join(work, 'borg-home'),
  }
  if (a.seb) {
    const repo = join(work, 'peer-seb')
    const seb = a.seb
    tools.push({
      name: 'seb',
      repo,
      available: () => (existsSync(seb) ? null : `${seb} not built`),
      init: async () => {
        await runMeasured(
          process.execPath,
          [...sebNodeArgs(seb), 'init', repo, '--recipient', gpg.fingerprint],
          { env },
        )
      },
      backup: () =>
        runMeasured(process.execPath, [...sebNodeArgs(seb), 'backup', src, repo, '--json'], { env }),
      restore: (t) =>
        runMeasured(process.execPath, [...sebNodeArgs(seb), 'restore', repo, t, '--json'], { env }),
      restoredRoot: (t) => t,
    })
  }
  {
    const repo = join(work, 'peer-restic')
    tools.push({
      name: 'restic',
      repo,
      available: () => (which('restic') ? null : 'restic not installed (Debian package `restic`)'),
      init: async () => {
        await runMeasured('restic', ['--repo', repo, 'init'], { env })
      },
      backup: () => runMeasured('restic', ['--repo', repo, 'backup', '--quiet', src], { env }),
      restore: (t) => runMeasured('restic', ['--repo', repo, 'restore', 'latest', '--target', t], { env }),
      restoredRoot: (t) => join(t, src),
    })
  }
  for (const comp of ['lz4', 'zstd,3']) {
    const repo = join(work, `peer-borg-${comp.replace(',', '')}`)
    tools.push({
      name: `borg ${comp}`,
      repo,
      available: () => (which('borg') ? null : 'borg not installed (Debian package `borgbackup`)'),
      init: async () => {
        await runMeasured('borg', ['init', '--encryption', 'repokey-blake2', repo], { env })
      },
      backup: (label) =>
        runMeasured('borg', ['create', '--compression', comp, `${repo}::${label}`, src], { env }),
      restore: async (t) => {
        const list = await runMeasured('borg', ['list', '--short', repo], { env })
        const last = list.stdout.trim().split('\n').pop()!
        return runMeasured('borg', ['extract', `${repo}::${last}`], { env, cwd: t })
      },
      restoredRoot: (t) => join(t, src),
    })
  }
  const live: Tool[] = []
  for (const t of tools) {
    const why = t.available()
    const r: PeerResult = { tool: t.name, available: !why }
    if (why) r.note = why
    results.push(r)
    if (!why) live.push(t)
  }
  const byName = (n: string) => results.find((r) => r.tool === n)!
  const guard = async (t: Tool, what: string, f: () => Promise<void>) => {
    const r = byName(t.name)
    if (!r.available) return
    try {
      await f()
    } catch (e) {
      r.available = false
      r.note = `${what} failed: ${(e as Error).message.slice(0, 300)}`
      log(`peers: ${t.name} ${r.note}`)
    }
  }
  log('peers: floors')
  const sf = await statFloor(src)
  const rf = await readFloor(src)
  const archive = join(work, 'floor.tar.zst.gpg')
  // Each timed step runs a.repeat times, the tools taking turns, and the median run is kept: this VM's
  // speed drifts by 2× within minutes, and alternating spreads the drift over every tool alike.
  const runs = new Map<string, Run[]>()
  const keep = (tool: string, step: string, r: Run) => getOrCreate(runs, `${tool}/${step}`, () => []).push(r)
  const median = (tool: string, step: string) => medianRun(runs.get(`${tool}/${step}`) ?? [])
  const medianFirst = (tool: string) => {
    const r = median(tool, 'first')
    return r && { wallMs: r.wallMs, peakRssKiB: r.peakRssKiB, bytes: r.bytes ?? 0 }
  }
  // One backup run, timed after a sync, with the bytes it added to the repository.
  const measuredBackup = async (t: (typeof live)[number], tag: string, step: string) => {
    const before = await duBytes(t.repo)
    await settle()
    const m = await t.backup(tag)
    keep(t.name, step, {
      wallMs: m.durationMs,
      peakRssKiB: m.peakRssKiB,
      bytes: (await duBytes(t.repo)) - before,
    })
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    await settle()
    const ff = await firstBackupFloor(src, gpg, archive)
    keep('floor', 'first', { wallMs: ff.durationMs, peakRssKiB: ff.peakRssKiB, bytes: ff.bytes })
    for (const t of live) {
      await guard(t, 'first backup', async () => {
        await rm(t.repo, { recursive: true, force: true })
        await t.init()
        log(`peers: ${t.name} first backup${a.repeat > 1 ? ` (${rep + 1}/${a.repeat})` : ''}`)
        await measuredBackup(t, `b1-${rep}`, 'first')
      })
    }
  }
  results.unshift({ tool: 'floor', available: true, first: medianFirst('floor') })
  for (const t of live) if (runs.has(`${t.name}/first`)) byName(t.name).first = medianFirst(t.name)
  for (let rep = 0; rep < a.repeat; rep++) {
    for (const t of live) {
      await guard(t, 'nothing-changed backup', async () => {
        await measuredBackup(t, `b2-${rep}`, 'nothing')
      })
    }
  }
  for (const t of live) {
    const r = median(t.name, 'nothing')
    if (r) byName(t.name).nothingChanged = { wallMs: r.wallMs, bytes: r.bytes ?? 0 }
  }
  log('peers: one day of mail (uniform)')
  const rec = await mutateDay(src, { seed: a.seed, day: 0, mode: 'uniform', scale: a.scale })
  const dayFloorBytes = await dayFloor(src, rec.newMessageFiles)
  for (const t of live) {
    await guard(t, 'day backup', async () => {
      const before = await duBytes(t.repo)
      await settle()
      const m = await t.backup('b3')
      byName(t.name).day = { wallMs: m.durationMs, bytes: (await duBytes(t.repo)) - before }
    })
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    const target = join(a.restoreTo ?? work, 'restore-floor')
    await rm(target, { recursive: true, force: true })
    await mkdir(target, { recursive: true })
    log(`peers: floor restore${a.repeat > 1 ? ` (${rep + 1}/${a.repeat})` : ''}`)
    await settle()
    const fr = await restoreFloor(archive, target, gpg)
    keep('floor', 'restore', { wallMs: fr.durationMs, peakRssKiB: fr.peakRssKiB })
    await rm(target, { recursive: true, force: true })
    for (const t of live) {
      await guard(t, 'restore', async () => {
        const target = join(a.restoreTo ?? work, `restore-${t.name.replace(/[^a-z0-9]/g, '')}`)
        await rm(target, { recursive: true, force: true })
        await mkdir(target, { recursive: true })
        log(`peers: ${t.name} restore`)
        await settle()
        const m = await t.restore(target)
        const cmp = await compareTrees(src, t.restoredRoot(target))
        keep(t.name, 'restore', { wallMs: m.durationMs, peakRssKiB: m.peakRssKiB, identical: cmp.identical })
        await rm(target, { recursive: true, force: true })
      })
    }
  }
  await rm(archive, { force: true })
  byName('floor').restore = median('floor', 'restore')
  for (const t of live) {
    const r = median(t.name, 'restore')
    if (r) {
      const all = runs.get(`${t.name}/restore`) ?? []
      byName(t.name).restore = { ...r, identical: all.every((x) => x.identical) }
    }
    if (!a.keep) await rm(t.repo, { recursive: true, force: true })
  }
  if (!a.keep) await rm(src, { recursive: true, force: true })
  return {
    stats: gen.stats,
    readFloor: rf,
    statFloor: sf,
    dayFloorBytes,
    day: {
      newFiles: rec.newMessageFiles.length,
      newBytes: rec.newBytes,
      flagRenames: rec.flagRenames.length + rec.read.length,
      moves: rec.moves.length,
      deletions: rec.deleted.length + rec.trashed.length,
      trashEmptied: rec.trashEmptied.length,
    },
    tools: results,
    runs: Object.fromEntries([...runs].map(([k, rs]) => [k, rs.map((r) => Math.round(r.wallMs))])),
  }
}

// ---------------------------------------------------------------------------------------------------
// Formatting

/** fmtBytes formats a byte count in binary units (KiB, MiB, GiB). */
export function fmtBytes(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

/** fmtS formats milliseconds as seconds. */
export function fmtS(ms: number | undefined): string {
  if (ms === undefined) return '—'
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`
}

function fmtRss(k: number | null | undefined): string {
  return k === null || k === undefined ? '—' : `${(k / 1024).toFixed(0)} MiB`
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '—'
  return `${(a / b).toFixed(2)}×`
}

/** modeMarkdown renders one mode's results: the summary lines and the per-day table. */
export function modeMarkdown(m: ModeResult): string {
  const L: string[] = []
  const g = m.generator.stats
  L.push(`### Mode \`${m.mode}\`: ${m.days.length} days`)
  L.push('')
  L.push(
    `Tree: ${g.files.toLocaleString('en')} messages, ${fmtBytes(g.bytes)} (min ${g.min} B, max ${fmtBytes(g.max)}, mean ${fmtBytes(g.mean)}), ` +
      `${g.otherFiles} other files; \`tar | zstd -3\` of it: ${fmtBytes(m.liveCompressedStart)}.`,
  )
  L.push('')
  L.push('| run | time | peak RSS | uploaded | notes |')
  L.push('|---|---|---|---|---|')
  if (m.first)
    L.push(
      `| first backup | ${fmtS(m.first.wallMs)} | ${fmtRss(m.first.peakRssKiB)} | ${fmtBytes(m.first.summary.bytesUploaded)} | remote ${fmtBytes(m.first.remoteBytes)} |`,
    )
  if (m.nothingChanged)
    L.push(
      `| nothing changed | ${fmtS(m.nothingChanged.wallMs)} | ${fmtRss(m.nothingChanged.peakRssKiB)} | ${fmtBytes(m.nothingChanged.summary.bytesUploaded)} | |`,
    )
  if (m.compact)
    L.push(
      `| compact | ${fmtS(m.compact.wallMs)} | ${fmtRss(m.compact.peakRssKiB)} | | remote ${fmtBytes(m.compact.remoteBefore)} → ${fmtBytes(m.compact.remoteAfter)} (live compressed ${fmtBytes(m.liveCompressedEnd)}) |`,
    )
  if (m.restore)
    L.push(
      `| full restore | ${fmtS(m.restore.wallMs)} | ${fmtRss(m.restore.peakRssKiB)} | | ${m.restore.comparison.identical ? 'identical to the source (bytes and mtimes)' : `DIFFERS: ${m.restore.comparison.examples.slice(0, 3).join('; ')}`} |`,
    )
  L.push(
    `| seed policy, first run | | | ${fmtBytes(m.seedInitial.bytesUploaded)} | ${m.seedInitial.packs} packs |`,
  )
  L.push('')
  L.push(
    '| day | new msgs | new bytes | renames | moves | deletions + Trash emptied | floor | seb uploaded | seb/floor | index bytes | remote size | seb time | seed uploaded | seed/floor |',
  )
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const d of m.days) {
    L.push(
      `| ${d.day} | ${d.newFiles} | ${fmtBytes(d.newBytes)} | ${d.flagRenames} | ${d.moves} | ${d.deletions} + ${d.trashEmptied} | ${fmtBytes(d.floorBytes)} | ${fmtBytes(d.seb?.bytesUploaded)} | ${d.seb ? `${d.seb.ratio.toFixed(2)}×` : '—'} | ${fmtBytes(d.seb?.indexBytes)} | ${fmtBytes(d.seb?.remoteBytes)} | ${fmtS(d.seb?.wallMs)} | ${fmtBytes(d.seed.bytesUploaded)} | ${d.seed.ratio.toFixed(1)}× |`,
    )
  }
  const t = m.totals
  L.push(
    `| **total** | ${m.days.reduce((s, d) => s + d.newFiles, 0)} | ${fmtBytes(m.days.reduce((s, d) => s + d.newBytes, 0))} | | | | **${fmtBytes(t.floorBytes)}** | **${fmtBytes(t.sebBytes)}** | **${t.sebRatio !== undefined ? `${t.sebRatio.toFixed(2)}×` : '—'}** | | | | **${fmtBytes(t.seedBytes)}** | **${t.seedRatio.toFixed(1)}×** |`,
  )
  if (m.errors.length) {
    L.push('')
    for (const e of m.errors) L.push(`- seb error: ${e}`)
  }
  return L.join('\n')
}

/** peersMarkdown renders the peers table (issue 6's layout) with seb's ratios to the floor, restic and borg. */
/**
 * runsMarkdown lists every run of the repeated steps (wall seconds, in the order run) and seb's ratio to
 * the floor round by round: the spread the medians hide. Empty when nothing ran more than once.
 */
export function runsMarkdown(runs: Record<string, number[]>): string {
  const s = (ms: number) => (ms / 1000).toFixed(2)
  const parts: string[] = []
  for (const [step, label] of [
    ['first', 'first backup'],
    ['nothing', 'nothing changed'],
    ['restore', 'full restore'],
  ] as const) {
    const tools = Object.keys(runs).filter((k) => k.endsWith(`/${step}`) && (runs[k]?.length ?? 0) > 1)
    if (!tools.length) continue
    const list = tools.map((k) => `${k.slice(0, -step.length - 1)} ${runs[k]!.map(s).join(', ')}`).join('; ')
    const seb = runs[`seb/${step}`]
    const floor = runs[`floor/${step}`]
    const rounds =
      seb && floor && seb.length === floor.length
        ? ` (seb/floor round by round: ${seb.map((v, i) => `${(v / floor[i]!).toFixed(2)}×`).join(', ')})`
        : ''
    parts.push(`${label}: ${list}${rounds}`)
  }
  return parts.length ? `Every run, in the order run (s): ${parts.join('. ')}.` : ''
}

export function peersMarkdown(p: PeersResult): string {
  const cols = p.tools
  const get = (n: string) => cols.find((c) => c.tool === n)
  const seb = get('seb')
  const restic = get('restic')
  const borg = get('borg lz4')
  const floor = get('floor')!
  const cell = (c: PeerResult, f: (c: PeerResult) => string | undefined) =>
    c.available ? (f(c) ?? '—') : 'n/a'
  const rows: [string, (c: PeerResult) => string | undefined, (c?: PeerResult) => number | undefined][] = [
    ['first backup', (c) => c.first && fmtS(c.first.wallMs), (c) => c?.first?.wallMs],
    [
      'run with nothing changed',
      (c) => c.nothingChanged && fmtS(c.nothingChanged.wallMs),
      (c) => c?.nothingChanged?.wallMs,
    ],
    [
      'one day of mail: time / bytes written',
      (c) =>
        c.tool === 'floor'
          ? `— / ${fmtBytes(p.dayFloorBytes)} (day floor)`
          : c.day && `${fmtS(c.day.wallMs)} / ${fmtBytes(c.day.bytes)}`,
      (c) => c?.day?.wallMs,
    ],
    [
      'full restore',
      (c) => c.restore && `${fmtS(c.restore.wallMs)}${c.restore.identical === false ? ' (DIFFERS)' : ''}`,
      (c) => c?.restore?.wallMs,
    ],
    [
      'peak RSS, first backup',
      (c) => c.first && fmtRss(c.first.peakRssKiB),
      (c) => c?.first?.peakRssKiB ?? undefined,
    ],
  ]
  const L: string[] = []
  L.push(
    `| work | ${cols.map((c) => (c.tool === 'floor' ? 'tar \\| zstd -3 \\| gpg (the floor)' : c.tool)).join(' | ')} | seb/floor | seb/restic | seb/borg (lz4) |`,
  )
  L.push(`|---|${cols.map(() => '---').join('|')}|---|---|---|`)
  for (const [label, show, num] of rows) {
    const sebV = seb?.available ? num(seb) : undefined
    const floorV = label.startsWith('one day') ? undefined : num(floor)
    const isDay = label.startsWith('one day')
    const vs = (o?: PeerResult) => {
      const t = ratio(sebV, o?.available ? num(o) : undefined)
      return isDay && seb?.day && o?.available && o.day ? `${t} / ${ratio(seb.day.bytes, o.day.bytes)}` : t
    }
    const vsFloor =
      isDay && seb?.available && seb.day
        ? `— / ${ratio(seb.day.bytes, p.dayFloorBytes)}`
        : ratio(sebV, floorV)
    L.push(
      `| ${label} | ${cols.map((c) => cell(c, show)).join(' | ')} | ${vsFloor} | ${vs(restic)} | ${vs(borg)} |`,
    )
  }
  L.push('')
  L.push(
    `Reading the source alone (\`tar -c | cat > /dev/null\`): ${fmtS(p.readFloor.durationMs)}; stat-ing every file (\`find -printf\`): ${fmtS(p.statFloor.durationMs)}. ` +
      `The day: ${p.day.newFiles} new messages (${fmtBytes(p.day.newBytes)}, ${fmtBytes(p.dayFloorBytes)} compressed), ${p.day.flagRenames} renames, ${p.day.moves} moves, ${p.day.deletions} deletions and ${p.day.trashEmptied} messages of an emptied Trash, chosen uniformly over all years.`,
  )
  const spread = runsMarkdown(p.runs ?? {})
  if (spread) L.push('', spread)
  for (const c of cols) if (c.note) L.push(`- ${c.tool}: ${c.note}`)
  return L.join('\n')
}

async function toolVersions(): Promise<Record<string, string>> {
  const v: Record<string, string> = {}
  const first = async (name: string, args: string[]) => {
    if (!which(name)) return
    const r = await runMeasured(name, args, { check: false })
    v[name] = (r.stdout || r.stderr).trim().split('\n')[0] ?? ''
  }
  await first('tar', ['--version'])
  await first('zstd', ['--version'])
  await first('gpg', ['--version'])
  await first('restic', ['version'])
  await first('borg', ['--version'])
  return v
}

/** main runs the benchmark with the given argv and writes Markdown to stdout and JSON to --out. */
export async function main(argv: string[]): Promise<void> {
  const a = parseBenchArgs(argv)
  if (a.seb && !existsSync(a.seb)) {
    log(`seb CLI not found at ${a.seb}: measuring the floors and the seed policy only`)
    a.seb = null
  }
  const work = a.keep ? resolve(a.keep) : await mkdtemp(join(tmpdir(), 'seb-bench-'))
  await mkdir(work, { recursive: true })
  log(`work directory ${work}`)
  const gpg = await makeThrowawayGpg()
  // Every seb run here keeps its local cache in the work folder (removed with it), never in the user's
  // ~/.cache/seb. A restore then finds the cache its backups left, as restic's and borg's do.
  gpg.env.SEB_CACHE_DIR = join(work, 'seb-cache')
  const started = new Date()
  const results: Record<string, unknown> = {
    date: started.toISOString(),
    args: a,
    machine: {
      cpus: cpus().length,
      cpu: cpus()[0]?.model,
      memoryBytes: totalmem(),
      os: `${platform()} ${release()}`,
      node: process.version,
      tools: await toolVersions(),
      rssMeasuredBy: hasGnuTime() ? "GNU time -f '%e %M'" : 'not measured (GNU time absent)',
    },
  }
  const md: string[] = []
  md.push(`## seb benchmark, ${started.toISOString().slice(0, 10)}`)
  md.push('')
  md.push(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmtBytes(totalmem())} RAM, ${platform()} ${release()}, Node ${process.version}. ` +
      `Command: \`node dist/bench/bench.js ${argv.join(' ')}\`.`,
  )
  if (!a.seb) md.push('', '**seb was not run** (CLI not built or --no-seb): seb columns are empty.')
  try {
    const modes: ModeResult[] = []
    for (const mode of a.modes) {
      const m = await runMode(a, work, mode, gpg)
      modes.push(m)
      md.push('', modeMarkdown(m))
    }
    results.modes = modes
    if (a.peers) {
      const p = await runPeers(a, work, gpg)
      results.peers = p
      md.push(
        '',
        `### Against the floor and peers (same tree, same run${a.repeat > 1 ? `, median of ${a.repeat} alternating runs` : ''})`,
        '',
        peersMarkdown(p),
      )
    }
  } finally {
    await gpg.cleanup()
    if (!a.keep) await rm(work, { recursive: true, force: true })
  }
  const text = `${md.join('\n')}\n`
  process.stdout.write(text)
  await mkdir(dirname(a.out), { recursive: true })
  await writeFile(a.out, `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(`${a.out.replace(/\.json$/, '')}.md`, text)
  log(`results written to ${a.out}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`)
    process.exit(1)
  })
}
