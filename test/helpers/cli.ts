// Why: run the built `seb` exactly as a user does (a child process) and capture what it prints.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sebNodeArgs, sebNodeEnv } from '../../bench/seb-cli.js'

export { sebNodeArgs }

/** SEB_BIN is the built CLI entry point. */
export const SEB_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/bin.js')

/** SebRun is the outcome of one seb invocation. */
export interface SebRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** StartedSeb is a running `seb`: its process, what it printed so far, and its outcome once it ends. */
export interface StartedSeb {
  readonly child: ChildProcessWithoutNullStreams
  readonly stdout: () => string
  readonly stderr: () => string
  readonly done: Promise<SebRun>
}

/** startSeb starts `seb args…` with extra environment variables, for tests that act while it runs. */
export function startSeb(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { input?: string; cwd?: string; uid?: number } = {},
): StartedSeb {
  const child = spawn(process.execPath, [...sebNodeArgs(SEB_BIN), ...args], {
    env: { ...process.env, ...sebNodeEnv(SEB_BIN), ...env },
    cwd: options.cwd,
    uid: options.uid,
    gid: options.uid,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const done = new Promise<SebRun>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  child.stdin.end(options.input ?? '')
  return { child, stdout: () => stdout, stderr: () => stderr, done }
}

/** runSeb runs `seb args…` with extra environment variables and waits for it. */
export function runSeb(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { input?: string; cwd?: string; uid?: number } = {},
): Promise<SebRun> {
  return startSeb(args, env, options).done
}
