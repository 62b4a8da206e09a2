// Why: every timed step of the benchmark (seb, the floor pipelines, restic, borg) must be measured the same
// way: wall time and peak RSS of the child, taken by GNU time (`/usr/bin/time -f '%e %M'`, Debian package
// `time`) when it is installed; without it only wall time is recorded and RSS is reported as unknown.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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
}

/** Options of runMeasured. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  input?: string
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean
}

/** hasGnuTime tells whether peak RSS can be measured with GNU time. */
export function hasGnuTime(): boolean {
  return existsSync(GNU_TIME)
}

/** runMeasured runs cmd with args under GNU time (when present) and returns output, wall time, peak RSS. */
export async function runMeasured(cmd: string, args: string[], opts: RunOptions = {}): Promise<Measured> {
  const timeDir = hasGnuTime() ? await mkdtemp(join(tmpdir(), 'seb-bench-time-')) : null
  const timeFile = timeDir ? join(timeDir, 'time') : null
  const argv = timeFile ? [GNU_TIME, '-f', '%e %M', '-o', timeFile, cmd, ...args] : [cmd, ...args]
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
  let peakRssKiB: number | null = null
  if (timeFile && timeDir) {
    const t = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n').pop() ?? ''
    const m = /^([\d.]+) (\d+)$/.exec(t)
    if (m) peakRssKiB = Number(m[2])
    await rm(timeDir, { recursive: true, force: true })
  }
  const res: Measured = {
    code,
    stdout: Buffer.concat(out).toString('utf8'),
    stderr: Buffer.concat(err).toString('utf8'),
    durationMs,
    peakRssKiB,
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
 * settle flushes dirty pages before a timed step, so that one tool's writeback is not billed to the next
 * (on this VM's disk a restore's writeback alone moved the next timing by 2-5×).
 */
export async function settle(): Promise<void> {
  await runMeasured('sync', [], { check: false })
}
