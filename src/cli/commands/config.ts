// Why: `seb config check`: is the config file right? Every problem with its line, and what the file
// points at (source folders, exclude and passphrase files) — before cron finds out at 3 a.m.
import type { Command } from 'commander'
import { checkConfigPaths, loadConfig } from '../../config/load.js'
import { allProfiles } from '../../config/resolve.js'
import { ConfigError, formatProblem, type SebConfig } from '../../config/schema.js'
import { UsageError } from '../../errors.js'
import { ExitCode } from '../../exit-codes.js'
import { count } from '../format.js'
import type { CliIO } from '../io.js'
import { fromCommandLine, type GlobalOptions } from './context.js'

/** registerConfig adds `seb config` and `seb config check`. */
export function registerConfig(program: Command, io: CliIO, result: { code: number }): void {
  const config = program
    .command('config')
    .description('work with the config file (profiles: docs/configuration.md)')
    .addHelpText('after', '\nExamples:\n  seb config check\n  seb --config ~/seb.yaml config check\n')
  config
    .command('check')
    .description('validate the config file: print OK with the profiles, or every problem with its line')
    .addHelpText(
      'after',
      '\nExamples:\n  seb config check\n  SEB_CONFIG=~/seb.yaml seb config check --json\n\nExit code 0 when the file is right (or there is none at the default place), 2 when it is not.\n',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions
      const json = Boolean(g.json)
      if (g.config === false) throw new UsageError('seb config check: --no-config leaves no file to check')
      let c: SebConfig
      try {
        c = loadConfig({
          configFile: fromCommandLine(cmd, 'config') ? (g.config as string) : undefined,
          env: io.env,
        })
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        for (const p of err.problems) io.err(`seb: ${formatProblem(err.file, p)}\n`)
        if (json)
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'config check', ok: false, file: err.file, problems: err.problems, profiles: [] })}\n`,
          )
        result.code = ExitCode.Usage
        return
      }
      const file = c.displayFile ?? c.file ?? ''
      const problems = c.found ? checkConfigPaths(c) : []
      const profiles = allProfiles(c)
      for (const p of problems) io.err(`seb: ${formatProblem(file, p)}\n`)
      if (json)
        io.out(
          `${JSON.stringify({ type: 'summary', command: 'config check', ok: problems.length === 0, file, problems, profiles })}\n`,
        )
      else if (!g.quiet) {
        if (!c.found)
          io.out(
            `no config file at ${file}: seb runs with command-line settings only (docs/configuration.md shows how to write one)\n`,
          )
        else if (!problems.length) {
          io.out(`${file}: OK, ${count(profiles.length, 'profile')}\n`)
          for (const name of profiles) {
            const s = c.profiles.get(name)!.settings
            io.out(`  ${name}: ${s.source} -> ${s.destination}\n`)
          }
        }
      }
      result.code = problems.length ? ExitCode.Usage : ExitCode.Ok
    })
}
