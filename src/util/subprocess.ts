// Why: seb runs a few programs (gpg, mkfifo, rclone, ssh) and must report their failures as one clear
// line. Every child is started here and ends in one result shape (execa's model): the command, its exit
// code or signal, whether seb cancelled it, and the tail of what it said on stderr. Deciding what a
// failure means (a key problem, damage, a missing program) is then a pure function of that result,
// written once per program (crypto/gpg.ts, storage/rclone.ts), never regular expressions scattered
// over messages.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process'

/** ProcessResult is how a child ended. `failed` is true unless it exited 0 (and was not cancelled). */
export interface ProcessResult {
  /** the program and its arguments, for messages (never holds a secret: seb passes those on pipes) */
  readonly command: string
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  /** seb stopped it (abort signal, or kill()) */
  readonly cancelled: boolean
  /** the program could not be started: ENOENT when it is not installed */
  readonly spawnError: NodeJS.ErrnoException | null
  /** the last lines it wrote on stderr (status lines a caller consumed are not kept) */
  readonly stderrLines: readonly string[]
  readonly failed: boolean
}

/** STDERR_LINES is how many of a child's last stderr lines a result keeps. */
export const STDERR_LINES = 20

/** StartOptions configure a child. */
export interface StartOptions {
  readonly stdio?: StdioOptions
  readonly signal?: AbortSignal
  /**
   * onStderrLine sees every stderr line as it comes; returning true consumes it (gpg's status lines),
   * so that it is not kept in stderrLines.
   */
  readonly onStderrLine?: (line: string) => boolean
  readonly env?: NodeJS.ProcessEnv
}

/** Running is a started child: the process, a kill, and its result (the promise never rejects). */
export interface Running {
  readonly child: ChildProcess
  readonly result: Promise<ProcessResult>
  kill(): void
}

/** start starts `cmd` with `args`. stderr is always a pipe, read line by line. */
export function start(cmd: string, args: readonly string[], o: StartOptions = {}): Running {
  const stdio = [...((o.stdio as unknown[] | undefined) ?? ['ignore', 'pipe', 'pipe'])]
  stdio[2] = 'pipe'
  const child = spawn(cmd, args, { stdio: stdio as StdioOptions, env: o.env })
  const command = [cmd, ...args].join(' ')
  let cancelled = false
  const kill = () => {
    cancelled = true
    child.kill('SIGKILL')
  }
  const lines: string[] = []
  let partial = ''
  const take = (line: string) => {
    if (o.onStderrLine?.(line)) return
    lines.push(line)
    if (lines.length > STDERR_LINES) lines.shift()
  }
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => {
    const parts = (partial + d).split('\n')
    partial = parts.pop()!
    for (const p of parts) take(p)
    if (partial.length > 64 * 1024) partial = partial.slice(-4096)
  })
  const onAbort = () => kill()
  o.signal?.addEventListener('abort', onAbort, { once: true })
  const result = new Promise<ProcessResult>((resolve) => {
    let spawnError: NodeJS.ErrnoException | null = null
    child.on('error', (err: NodeJS.ErrnoException) => {
      spawnError ??= err
    })
    child.on('close', (exitCode, signal) => {
      o.signal?.removeEventListener('abort', onAbort)
      if (partial) take(partial)
      resolve({
        command,
        exitCode,
        signal,
        cancelled,
        spawnError,
        stderrLines: lines,
        failed: cancelled || spawnError !== null || exitCode !== 0,
      })
    })
  })
  return { child, result, kill }
}

/** run runs a short command to its end, feeding `input`, and returns its result and stdout. */
export async function run(
  cmd: string,
  args: readonly string[],
  o: { input?: Buffer | string; signal?: AbortSignal; onStderrLine?: (line: string) => boolean } = {},
): Promise<ProcessResult & { stdout: string }> {
  const r = start(cmd, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    signal: o.signal,
    onStderrLine: o.onStderrLine,
  })
  let stdout = ''
  r.child.stdout!.setEncoding('utf8')
  r.child.stdout!.on('data', (d: string) => {
    stdout += d
  })
  r.child.stdin!.on('error', () => {})
  r.child.stdin!.end(o.input)
  return { ...(await r.result), stdout }
}

/**
 * shortMessage says in a few words how a child ended, in execa's order of precedence: cancelled, not
 * started, killed by a signal, exit code; with the stderr line that names the cause (`cause` picks
 * it, else the last).
 */
export function shortMessage(
  r: ProcessResult,
  cause?: (line: string) => boolean,
  program = r.command.split(' ')[0],
): string {
  if (r.cancelled) return `${program} was stopped`
  if (r.spawnError)
    return `${program}: ${r.spawnError.code === 'ENOENT' ? 'command not found' : r.spawnError.message}`
  const line = (cause && r.stderrLines.find(cause)) || r.stderrLines.filter((l) => l.trim()).pop() || ''
  const how = r.signal ? `was killed by ${r.signal}` : `failed (exit ${r.exitCode})`
  return `${program} ${how}${line ? `: ${line.trim()}` : ''}`
}
