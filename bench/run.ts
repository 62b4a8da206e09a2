// Why: every timed step of the benchmark (seb, the floor pipelines, restic, borg) must be measured the same
// way: wall time, CPU time and peak RSS of the child, taken by GNU time (`/usr/bin/time -f '%e %U %S %M'`,
// Debian package `time`) when it is installed; without it only wall time is recorded and CPU and RSS are
// reported as unknown.
//
// What GNU time sees: it waits for its child with wait4(), whose rusage covers the child and every
// descendant the child itself waited for. So `%U` + `%S` include seb's worker threads and the gpg
// processes it spawns and reaps, and for a pipeline run as one `bash -c` every stage (tar, zstd, gpg);
// not included is a daemon that is never waited for (gpg-agent, started before any timed step). `%M` is
// the peak RSS of the largest single process of that tree (threads share their process's RSS), not a sum:
// for a pipeline it is its largest stage, for seb its node process (the gpg children are a few MB each).

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { log } from './log.js'
import { cpuCounters, load1, waitForQuiet } from './machine.js'

const GNU_TIME = '/usr/bin/time'

/** The result of one measured child process. */
export interface Measured {
  code: number
  stdout: string
  stderr: string
  /** Wall time measured in this process around spawn → exit. */
  durationMs: number
  /** Peak resident set of the child (largest process of its tree that was waited for), KiB; null if unknown. */
  peakRssKiB: number | null
  /** User and system CPU time of the child and every descendant it waited for, ms; null if unknown. */
  userMs: number | null
  sysMs: number | null
  /** 1-minute load average when the child started (`uptime`). */
  load1: number
  /** CPU time other processes used on the machine while the child ran, ms; null if unknown. */
  otherCpuMs: number | null
  /** CPU time the hypervisor gave to other guests while the child ran, ms; null if unknown. */
  stealMs: number | null
}

/** The numbers of one timed step, as the results keep them. */
export interface Timing {
  wallMs: number
  userMs: number | null
  sysMs: number | null
  /** user + sys */
  cpuMs: number | null
  peakRssKiB: number | null
  load1: number
  otherCpuMs: number | null
  stealMs: number | null
}

/** timingOf keeps the numbers of a measured child. */
export function timingOf(m: Measured): Timing {
  return {
    wallMs: m.durationMs,
    userMs: m.userMs,
    sysMs: m.sysMs,
    cpuMs: m.userMs === null || m.sysMs === null ? null : m.userMs + m.sysMs,
    peakRssKiB: m.peakRssKiB,
    load1: m.load1,
    otherCpuMs: m.otherCpuMs,
    stealMs: m.stealMs,
  }
}

/** Options of runMeasured. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  input?: string
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean
}

/** hasGnuTime tells whether CPU time and peak RSS can be measured with GNU time. */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME)
}

/**
 * runMeasured runs cmd with args under GNU time (when present) and returns its output, wall time, CPU time
 * and peak RSS, with what the rest of the machine did meanwhile.
 */
export async function runMeasured(cmd: string, args: string[], opts: RunOptions = {}): Promise<Measured> {
  const timeDir = hasGnuTime() ? await mkdtemp(join(tmpdir(), 'seb-bench-time-')) : null
  const timeFile = timeDir ? join(timeDir, 'time') : null
  const argv = timeFile ? [GNU_TIME, '-f', '%e %U %S %M', '-o', timeFile, cmd, ...args] : [cmd, ...args]
  const startLoad = load1()
  const c0 = cpuCounters()
  const t0 = performance.now()
  const child = spawn(argv[0]!, argv.slice(1), {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => err.push(b))
  // A child that exits before reading its stdin makes the write fail with EPIPE: its exit code says
  // what happened, so the write error is not a crash.
  child.stdin.on('error', () => {})
  child.stdin.end(opts.input ?? '')
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c) => resolve(c ?? 1))
  })
  const durationMs = performance.now() - t0
  const c1 = cpuCounters()
  let peakRssKiB: number | null = null
  let userMs: number | null = null
  let sysMs: number | null = null
  if (timeFile && timeDir) {
    // GNU time writes "Command exited with non-zero status N" first when the child fails.
    const t = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? ''
    const m = /^([\d.]+) ([\d.]+) ([\d.]+) (\d+)$/.exec(t)
    if (m) {
      userMs = Number(m[2]) * 1000
      sysMs = Number(m[3]) * 1000
      peakRssKiB = Number(m[4])
    }
    await rm(timeDir, { recursive: true, force: true })
  }
  const busyMs = c0 && c1 ? c1.busyMs - c0.busyMs : null
  const res: Measured = {
    code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    durationMs,
    peakRssKiB,
    userMs,
    sysMs,
    load1: startLoad,
    otherCpuMs:
      busyMs === null || userMs === null || sysMs === null ? null : Math.max(0, busyMs - userMs - sysMs),
    stealMs: c0 && c1 ? c1.stealMs - c0.stealMs : null,
  }
  if ((opts.check ?? true) && code !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${code}: ${res.stderr.trim().split('\n').slice(-5).join(' | ')}`,
    )
  return res
}

/** sh runs a bash pipeline (with pipefail) under runMeasured. */
export function sh(script: string, opts: RunOptions = {}): Promise<Measured> {
  return runMeasured('bash', ['-c', `set -euo pipefail; ${script}`], opts)
}

/** q quotes a string for bash. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** which returns the path of an executable on PATH, or null. */
export function which(name: string): string | null {
  for (const d of (process.env.PATH ?? '').split(':')) {
    if (d && existsSync(join(d, name))) return join(d, name)
  }
  return null
}

/**
 * settle prepares a timed step: it flushes dirty pages, so that one tool's writeback is not billed to the
 * next (on this VM's disk a restore's writeback alone moved the next timing by 2-5×), then waits up to
 * `maxWaitMs` (--quiet-wait) for other work on the machine to stop (waitForQuiet), logging when it waited.
 */
export async function settle(maxWaitMs = 60_000): Promise<void> {
  await runMeasured('sync', [], { check: false })
  const q = await waitForQuiet({ maxWaitMs })
  if (q.waitedMs > 3000)
    log(
      `waited ${(q.waitedMs / 1000).toFixed(0)} s for a quiet machine` +
        (q.quiet ? '' : `; still ${q.busyCores.toFixed(2)} cores busy, measuring anyway`),
    )
}
