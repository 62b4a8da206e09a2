// Why: run the built `seb` exactly as a user does (a child process) and capture what it prints.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** SEB_BIN is the built CLI entry point. */
export const SEB_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/bin.js')

/** SebRun is the outcome of one seb invocation. */
export interface SebRun {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** runSeb runs `seb args…` with extra environment variables. */
export function runSeb(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { input?: string; cwd?: string; uid?: number } = {},
): Promise<SebRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SEB_BIN, ...args], {
      env: { ...process.env, ...env },
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
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}
