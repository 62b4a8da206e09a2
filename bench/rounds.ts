// Why: on this VM one run's timing moves by 10-20 % from minute to minute, so a timed step runs in rounds
// (--repeat), the tools taking turns, and every round is kept: the tables show medians, the targets are
// checked round by round, and the listing shows the spread the medians hide.

import { getOrCreate } from '../src/core/maps.js'
import { log } from './log.js'
import { settle, type Timing } from './run.js'

/** Run is one timed step of one tool in one round. */
export interface Run extends Timing {
  /** 0-based round */
  round: number
  /** what the step added to the repository (backups), bytes */
  bytes?: number
  /** restores: whether the restored tree is identical to the source */
  identical?: boolean
}

/** The medians of a step's rounds, each number taken on its own. */
export interface StepSummary {
  wallMs: number
  cpuMs: number | null
  userMs: number | null
  sysMs: number | null
  peakRssKiB: number | null
  bytes?: number
  /** restores: every round identical */
  identical?: boolean
  rounds: number
}

/** medianRun returns the run with the median wall time (the lower middle one for an even count). */
export function medianRun<R extends { wallMs: number }>(rs: readonly R[]): R | undefined {
  const sorted = [...rs].sort((x, y) => x.wallMs - y.wallMs)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/** median returns the median of the known values (the lower middle one for an even count), or null. */
export function median(values: readonly (number | null | undefined)[]): number | null {
  const known = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (!known.length) return null
  known.sort((x, y) => x - y)
  return known[Math.floor((known.length - 1) / 2)]!
}

/** summarize takes the median of each number of a step's runs; undefined when the step never ran. */
export function summarize(runs: readonly Run[]): StepSummary | undefined {
  if (!runs.length) return undefined
  const s: StepSummary = {
    wallMs: median(runs.map((r) => r.wallMs))!,
    cpuMs: median(runs.map((r) => r.cpuMs)),
    userMs: median(runs.map((r) => r.userMs)),
    sysMs: median(runs.map((r) => r.sysMs)),
    peakRssKiB: median(runs.map((r) => r.peakRssKiB)),
    rounds: runs.length,
  }
  const bytes = median(runs.map((r) => r.bytes))
  if (bytes !== null) s.bytes = bytes
  if (runs.some((r) => r.identical !== undefined)) s.identical = runs.every((r) => r.identical)
  return s
}

/**
 * When a run is measured again: other processes took more than `redoAbove` cores on average while it ran
 * (another engineer's build or tests on the shared machine), at most `maxRedos` times; before each attempt
 * the harness waits up to `quietWaitMs` for a quiet machine.
 */
export interface RedoPolicy {
  quietWaitMs: number
  redoAbove: number
  maxRedos: number
}

/** A step to measure: what to do untimed before it, then the timed run itself. */
export interface Step {
  prepare?: () => Promise<void>
  run: () => Promise<Omit<Run, 'round'>>
}

/** Rounds keeps every run of every tool and step, in the order run, and the runs measured again. */
export class Rounds {
  private readonly runs = new Map<string, Run[]>()
  private readonly discarded = new Map<string, Run[]>()

  /**
   * measure prepares, settles (sync, wait for a quiet machine) and runs one step of `tool` in `round`, and
   * keeps the run; a run the machine disturbed (RedoPolicy) is set aside and the step measured again.
   */
  async measure(tool: string, step: string, round: number, policy: RedoPolicy, s: Step): Promise<Run> {
    for (let attempt = 0; ; attempt++) {
      await s.prepare?.()
      await settle(policy.quietWaitMs)
      const run: Run = { ...(await s.run()), round }
      const others = run.otherCpuMs === null ? 0 : run.otherCpuMs / Math.max(1, run.wallMs)
      if (others <= policy.redoAbove || attempt >= policy.maxRedos) {
        this.keep(tool, step, run)
        return run
      }
      log(`${tool} ${step}: other processes took ${others.toFixed(2)} cores meanwhile; measuring it again`)
      getOrCreate(this.discarded, `${tool}/${step}`, () => []).push(run)
    }
  }

  /** keep records one run of `tool`'s `step`. */
  keep(tool: string, step: string, run: Run): void {
    getOrCreate(this.runs, `${tool}/${step}`, () => []).push(run)
  }

  /** of lists the runs of `tool`'s `step`, in the order run. */
  of(tool: string, step: string): Run[] {
    return this.runs.get(`${tool}/${step}`) ?? []
  }

  /** summary is the medians of `tool`'s `step`, or undefined when it never ran. */
  summary(tool: string, step: string): StepSummary | undefined {
    return summarize(this.of(tool, step))
  }

  /** walls is every run's wall time in ms, rounded, by `tool/step` (the JSON's `runs`). */
  walls(): Record<string, number[]> {
    return Object.fromEntries([...this.runs].map(([k, rs]) => [k, rs.map((r) => Math.round(r.wallMs))]))
  }

  /** all is every run by `tool/step` (the JSON's `rounds`). */
  all(): Record<string, Run[]> {
    return Object.fromEntries(this.runs)
  }

  /** setAside is every run measured again because the machine was busy, by `tool/step`. */
  setAside(): Record<string, Run[]> {
    return Object.fromEntries(this.discarded)
  }
}
