// Why: issue 20 asks how seb's memory grows with the number of files, against restic's: at 100,000, 300,000
// and 1,000,000 small messages (mean 2,000 B) each tool makes a first backup, a run with nothing changed
// and a full restore, and the peak RSS, wall and CPU time of each are recorded; the growth per file is the
// difference in peak RSS between sizes divided by the difference in files. Each size's tree is generated
// once, used by every tool and round, then deleted with the repositories before the next size, so the disk
// (or tmpfs) holds one size at a time.

import { readFileSync, statfsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GpgHome } from './gpg-home.js'
import { log } from './log.js'
import type { MailboxStats } from './maildir/read.js'
import { generateMaildir } from './maildir/write.js'
import type { BenchArgs } from './options.js'
import { makeTools, roundOrder, SEB, SEB_BASELINE, type Tool } from './peer-tools.js'
import { Rounds, type Run, type StepSummary } from './rounds.js'
import { timingOf } from './run.js'
import { everyRound, noWorse, type Verdict } from './targets.js'
import { compareTrees } from './trees.js'

/** The steps of the series, in the order they run on each size. */
export const SCALING_STEPS = ['first', 'nothing', 'restore'] as const

/** One tool at one size: the medians of its rounds. */
export interface ScalingTool {
  tool: string
  available: boolean
  note?: string
  first?: StepSummary
  nothing?: StepSummary
  restore?: StepSummary
}

/** One size of the series. */
export interface ScalingSize {
  files: number
  stats: MailboxStats
  generateMs: number
  tools: ScalingTool[]
  /** every run by `tool/step` */
  rounds: Record<string, Run[]>
  /** runs measured again because the machine was busy, by `tool/step` */
  setAside: Record<string, Run[]>
  targets: Verdict[]
}

/** How a tool's peak RSS grew between two sizes. */
export interface Growth {
  tool: string
  step: (typeof SCALING_STEPS)[number]
  from: number
  to: number
  /** (peak RSS at `to` − peak RSS at `from`) / (to − from), bytes per file; null when a number is missing */
  bytesPerFile: number | null
}

/** The memory-scaling results. */
export interface ScalingResult {
  meanSize: number
  workDir: string
  /** why the work folder was chosen (tmpfs when the largest size fits in memory) */
  workDirWhy: string
  sizes: ScalingSize[]
  growth: Growth[]
}

const GiB = 1024 ** 3

/**
 * scalingWorkDir picks the folder the series works in (in a new folder of its own, removed afterwards):
 * --work-dir when given, else /dev/shm when the largest size
 * fits there with room to spare, else the temp dir. On tmpfs a tree costs at least a 4 KiB page per file
 * plus its inode and dentry (about 1 KiB), and the restore needs as much again; each tool's repository and
 * cache at most the raw tree (about half of it in practice). "Fits" means tmpfs has 1.2× that free and the
 * machine has it available plus 6 GiB for the tools themselves (seb and restic peak at 1-2 GiB each at
 * 1 M files) and whatever else runs.
 */
export function scalingWorkDir(a: BenchArgs, tools: number): { parent: string; why: string } {
  if (a.workDir) return { parent: a.workDir, why: '--work-dir' }
  const files = Math.max(...a.scalingFiles)
  const tree = files * (Math.max(4096, Math.ceil(a.scalingMeanSize / 4096) * 4096) + 1024)
  const need = 2 * tree + tools * files * a.scalingMeanSize
  const shmFree = freeBytes('/dev/shm')
  const available = memAvailable()
  const estimate = `needs about ${(need / GiB).toFixed(1)} GiB; /dev/shm has ${(shmFree / GiB).toFixed(1)} GiB free, the machine ${(available / GiB).toFixed(1)} GiB available`
  if (shmFree >= need * 1.2 && available >= need + 6 * GiB)
    return { parent: '/dev/shm', why: `tmpfs: the largest size ${estimate}` }
  return { parent: tmpdir(), why: `the temp dir, not tmpfs: the largest size ${estimate}` }
}

function freeBytes(path: string): number {
  try {
    const s = statfsSync(path)
    return s.bavail * s.bsize
  } catch {
    return 0
  }
}

function memAvailable(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'))
    return m ? Number(m[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** runMemoryScaling runs the series at every size of --scaling-files, smallest first. */
export async function runMemoryScaling(a: BenchArgs, gpg: GpgHome): Promise<ScalingResult> {
  const toolCount = 1 + (a.sebBaseline ? 1 : 0) + 1
  const { parent, why } = scalingWorkDir(a, toolCount)
  const base = await mkdtemp(join(parent, 'seb-bench-scaling-'))
  log(`scaling: working in ${base} (${why})`)
  const sizes: ScalingSize[] = []
  try {
    for (const files of [...a.scalingFiles].sort((x, y) => x - y))
      sizes.push(await runSize(a, gpg, base, files))
  } finally {
    await rm(base, { recursive: true, force: true })
  }
  return { meanSize: a.scalingMeanSize, workDir: base, workDirWhy: why, sizes, growth: growthOf(sizes) }
}

async function runSize(a: BenchArgs, gpg: GpgHome, base: string, files: number): Promise<ScalingSize> {
  const dir = join(base, `files-${files}`)
  const src = join(dir, 'src')
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const n = files.toLocaleString('en')
  log(`scaling: generating ${n} messages of ${a.scalingMeanSize} B mean`)
  const gen = await generateMaildir(src, { files, meanSize: a.scalingMeanSize, seed: a.seed })
  log(`scaling: ${n}: generated in ${(gen.durationMs / 1000).toFixed(0)} s`)
  const tools = makeTools({ work: dir, src, gpg, seb: a.seb, sebBaseline: a.sebBaseline, borg: false })
  const results: ScalingTool[] = []
  const live: Tool[] = []
  for (const t of tools) {
    const note = t.available()
    results.push(note ? { tool: t.name, available: false, note } : { tool: t.name, available: true })
    if (!note) live.push(t)
  }
  const rounds = new Rounds()
  const failed = new Set<string>()
  const step = async (t: Tool, what: string, rep: number, f: () => Promise<void>) => {
    if (failed.has(t.name)) return
    log(`scaling: ${n}: ${t.name} ${what}${a.repeat > 1 ? ` (${rep + 1}/${a.repeat})` : ''}`)
    try {
      await f()
    } catch (e) {
      failed.add(t.name)
      const r = results.find((x) => x.tool === t.name)!
      r.available = false
      r.note = `${what} failed: ${(e as Error).message.slice(0, 300)}`
      log(`scaling: ${n}: ${t.name} ${r.note}`)
    }
  }
  const took = (t: Tool, s: string) => {
    const last = rounds.of(t.name, s).at(-1)
    if (last) log(`scaling: ${n}: ${t.name} ${s}: ${fmtRun(last)}`)
  }
  const policy = { quietWaitMs: a.quietWaitMs, redoAbove: a.redoAbove, maxRedos: a.maxRedos }
  for (let rep = 0; rep < a.repeat; rep++)
    for (const t of roundOrder(live, rep))
      await step(t, 'first backup', rep, async () => {
        await rounds.measure(t.name, 'first', rep, policy, {
          prepare: async () => {
            await rm(t.repo, { recursive: true, force: true })
            await t.init()
          },
          run: async () => timingOf(await t.backup(`b1-${rep}`)),
        })
        took(t, 'first')
      })
  for (let rep = 0; rep < a.repeat; rep++)
    for (const t of roundOrder(live, rep))
      await step(t, 'nothing changed', rep, async () => {
        await rounds.measure(t.name, 'nothing', rep, policy, {
          run: async () => timingOf(await t.backup(`b2-${rep}`)),
        })
        took(t, 'nothing')
      })
  const target = join(dir, 'restore')
  for (let rep = 0; rep < a.repeat; rep++)
    for (const t of roundOrder(live, rep))
      await step(t, 'restore', rep, async () => {
        await rounds.measure(t.name, 'restore', rep, policy, {
          prepare: async () => {
            await rm(target, { recursive: true, force: true })
            await mkdir(target, { recursive: true })
          },
          run: async () => {
            const m = await t.restore(target)
            const cmp = await compareTrees(src, t.restoredRoot(target))
            if (!cmp.identical)
              log(`scaling: ${n}: ${t.name} restore DIFFERS: ${cmp.examples.slice(0, 3).join('; ')}`)
            return { ...timingOf(m), identical: cmp.identical }
          },
        })
        took(t, 'restore')
        await rm(target, { recursive: true, force: true })
      })
  for (const r of results)
    for (const s of SCALING_STEPS) {
      const sum = rounds.summary(r.tool, s)
      if (sum) r[s] = sum
    }
  log(`scaling: ${n}: removing the tree and repositories`)
  await rm(dir, { recursive: true, force: true })
  return {
    files,
    stats: gen.stats,
    generateMs: gen.durationMs,
    tools: results,
    rounds: rounds.all(),
    setAside: rounds.setAside(),
    targets: scalingTargets(rounds, files),
  }
}

function fmtRun(r: Run): string {
  const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`)
  const rss = r.peakRssKiB === null ? '—' : `${(r.peakRssKiB / 1024).toFixed(0)} MiB`
  return `${s(r.wallMs)}, CPU ${s(r.cpuMs)}, peak ${rss}, load ${r.load1.toFixed(2)}`
}

/**
 * scalingTargets checks, at one size, that seb's peak RSS is at most restic's in every round of each
 * step, and with a baseline build that seb's time against restic's is no worse than the baseline's.
 */
export function scalingTargets(r: Rounds, files: number): Verdict[] {
  const at = `at ${files.toLocaleString('en')} files`
  const v: Verdict[] = []
  if (!r.of(SEB, 'first').length || !r.of('restic', 'first').length) return v
  const label = { first: 'first backup', nothing: 'nothing changed', restore: 'full restore' }
  for (const s of SCALING_STEPS)
    v.push(
      everyRound(
        `${at}, ${label[s]}, peak RSS: seb / restic`,
        'peakRssKiB',
        1,
        r.of(SEB, s),
        r.of('restic', s),
        r.of(SEB_BASELINE, s),
      ),
    )
  if (r.of(SEB_BASELINE, 'first').length)
    for (const s of SCALING_STEPS)
      v.push(
        noWorse(
          `${at}, ${label[s]}, wall: seb / restic`,
          'wallMs',
          r.of(SEB, s),
          r.of(SEB_BASELINE, s),
          r.of('restic', s),
        ),
      )
  return v
}

/**
 * growthOf is each tool's growth of peak RSS per file for each step: between consecutive sizes and from
 * the smallest to the largest, from the medians of each size's rounds.
 */
export function growthOf(sizes: readonly ScalingSize[]): Growth[] {
  const out: Growth[] = []
  const sorted = [...sizes].sort((x, y) => x.files - y.files)
  const pairs: [ScalingSize, ScalingSize][] = []
  for (let i = 1; i < sorted.length; i++) pairs.push([sorted[i - 1]!, sorted[i]!])
  if (sorted.length > 2) pairs.push([sorted[0]!, sorted[sorted.length - 1]!])
  const tools = [...new Set(sorted.flatMap((s) => s.tools.map((t) => t.tool)))]
  for (const tool of tools)
    for (const step of SCALING_STEPS)
      for (const [lo, hi] of pairs) {
        const a = lo.tools.find((t) => t.tool === tool)?.[step]?.peakRssKiB
        const b = hi.tools.find((t) => t.tool === tool)?.[step]?.peakRssKiB
        out.push({
          tool,
          step,
          from: lo.files,
          to: hi.files,
          bytesPerFile:
            a === null || a === undefined || b === null || b === undefined
              ? null
              : ((b - a) * 1024) / (hi.files - lo.files),
        })
      }
  return out
}
