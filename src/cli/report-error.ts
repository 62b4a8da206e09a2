// Why: how a failure reaches the user: one line on stderr (and a JSON object with --json) and a
// documented exit code; stack traces only with SEB_DEBUG=1. cli/main.ts is the program's error
// boundary and calls this; `seb backup --all` calls it too for each profile that fails, so that one
// failing profile is reported the same way and the others still run.
import { CommanderError } from 'commander'
import { SebError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'
import type { CliIO } from './io.js'

/**
 * reportError turns a failure into one line on stderr (and a JSON object with --json) and returns its
 * exit code. `profile` names the profile of `seb backup --all`, which reports each profile's failure
 * and goes on with the next.
 */
export function reportError(err: unknown, io: CliIO, json: boolean, profile?: string): number {
  const where = profile ? `${profile}: ` : ''
  const extra = profile ? { profile } : {}
  if (err instanceof CommanderError) {
    if (
      err.code === 'commander.helpDisplayed' ||
      err.code === 'commander.version' ||
      err.code === 'commander.help'
    )
      return ExitCode.Ok
    const message = err.message.replace(/^error: /, '')
    io.err(`seb: ${message} (see seb --help)\n`)
    if (json)
      io.out(`${JSON.stringify({ type: 'error', code: 'usage', message, exitCode: ExitCode.Usage })}\n`)
    return ExitCode.Usage
  }
  if (err instanceof SebError) {
    io.err(`seb: ${where}${err.message}\n`)
    if (json)
      io.out(
        `${JSON.stringify({ type: 'error', code: err.code, message: err.message, exitCode: err.exitCode, ...extra })}\n`,
      )
    if (io.env.SEB_DEBUG) io.err(`${err.stack}\n`)
    return err.exitCode
  }
  const e = err as Error
  if (e?.name === 'AbortError') {
    if (json)
      io.out(
        `${JSON.stringify({ type: 'error', code: 'interrupted', message: 'interrupted', exitCode: ExitCode.Interrupted, ...extra })}\n`,
      )
    io.err('seb: interrupted: the repository is consistent; run the same command again to finish\n')
    return ExitCode.Interrupted
  }
  io.err(
    `seb: ${where}unexpected error: ${e?.message ?? String(err)} (run with SEB_DEBUG=1 for details and please report it)\n`,
  )
  if (json)
    io.out(
      `${JSON.stringify({ type: 'error', code: 'internal', message: e?.message ?? String(err), exitCode: ExitCode.Error, ...extra })}\n`,
    )
  if (io.env.SEB_DEBUG) io.err(`${e?.stack}\n`)
  return ExitCode.Error
}
