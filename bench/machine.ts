// Why: a timing on a shared 2-core VM means little unless we know what else ran meanwhile. The 1-minute
// load average (what `uptime` shows) lags and counts the benchmark's own previous step, so every timed step
// also reads the machine's CPU counters (/proc/stat) before and after: the busy time not spent by the
// measured child is what other processes took, and `steal` is what the hypervisor gave to other guests.
// Before a step the benchmark waits (a bounded time) for the machine to be quiet.

import { readFileSync } from 'node:fs'
import { cpus, loadavg, platform, release, totalmem } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

/** Linux reports /proc/stat in USER_HZ ticks, 100 per second on every architecture Node runs on. */
const TICK_MS = 10

/** The machine's CPU counters at one moment (every core together), ms; null where /proc/stat is absent. */
export interface CpuCounters {
  /** user + nice + system + irq + softirq */
  busyMs: number
  /** time the hypervisor ran other guests while ours wanted to run */
  stealMs: number
}

/** cpuCounters reads the first line of /proc/stat; null when it cannot be read (not Linux). */
export function cpuCounters(): CpuCounters | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f
    return { busyMs: (user + nice + system + irq + softirq) * TICK_MS, stealMs: steal * TICK_MS }
  } catch {
    return null
  }
}

/** load1 is the 1-minute load average, as `uptime` prints it. */
export function load1(): number {
  return loadavg()[0] ?? 0
}

/** What the machine did besides the benchmark over an interval. */
export interface Quiet {
  /** how long waitForQuiet waited, ms */
  waitedMs: number
  /** CPU cores busy in the last sample (0 = idle, 2 = both cores of the VM) */
  busyCores: number
  /** whether the machine was quiet when the wait ended */
  quiet: boolean
}

/**
 * waitForQuiet samples the machine's busy CPU over `sampleMs` until it uses less than `maxCores` cores,
 * for at most `maxWaitMs`. The benchmark itself is idle meanwhile, so what it sees is other work (another
 * engineer's test suite, a build). It never fails: after the longest wait the step runs anyway and the
 * per-step counters record the disturbance.
 */
export async function waitForQuiet(
  o: { maxCores?: number; sampleMs?: number; maxWaitMs?: number } = {},
): Promise<Quiet> {
  const maxCores = o.maxCores ?? 0.3
  const sampleMs = o.sampleMs ?? 2000
  const maxWaitMs = o.maxWaitMs ?? 60_000
  const t0 = performance.now()
  for (;;) {
    const c0 = cpuCounters()
    const s0 = performance.now()
    await sleep(sampleMs)
    const c1 = cpuCounters()
    if (!c0 || !c1) return { waitedMs: 0, busyCores: 0, quiet: true }
    const busyCores = (c1.busyMs - c0.busyMs) / (performance.now() - s0)
    const waitedMs = performance.now() - t0
    if (busyCores < maxCores) return { waitedMs, busyCores, quiet: true }
    if (waitedMs >= maxWaitMs) return { waitedMs, busyCores, quiet: false }
  }
}

/** describeMachine is the machine's CPU, memory, OS and Node, for the results. */
export function describeMachine() {
  return {
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    memoryBytes: totalmem(),
    os: `${platform()} ${release()}`,
    node: process.version,
  }
}
