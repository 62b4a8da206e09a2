// Why: the list of commands; each lives in its own file. Also what belongs to the program as a whole
// but not to its error boundary (main.ts): the version, and the handling of mistyped commands.
import type { Command } from 'commander'
import type { CliIO } from '../io.js'
import { catchTypos } from '../typo.js'
import { sebVersion } from '../version.js'
import { registerBackup } from './backup.js'
import { registerCompact } from './compact.js'
import { registerConfig } from './config.js'
import { registerFind } from './find.js'
import { registerInit } from './init.js'
import { registerKey } from './key.js'
import { registerLs } from './ls.js'
import { registerRestore } from './restore.js'
import { registerSnapshots } from './snapshots.js'
import { registerStats } from './stats.js'
import { registerUnlock } from './unlock.js'
import { registerUpgrade } from './upgrade.js'
import { registerVerify } from './verify.js'

/** registerCommands adds every command to the program. */
export function registerCommands(program: Command, io: CliIO, result: { code: number }): void {
  registerInit(program, io, result)
  registerBackup(program, io, result)
  registerRestore(program, io, result)
  registerSnapshots(program, io, result)
  registerLs(program, io, result)
  registerFind(program, io, result)
  registerStats(program, io, result)
  registerCompact(program, io, result)
  registerVerify(program, io, result)
  registerUnlock(program, io, result)
  registerKey(program, io, result)
  registerConfig(program, io, result)
  registerUpgrade(program, io, result)
  const version = `seb ${sebVersion()}`
  program.version(version, '-V, --version', 'print the version')
  program
    .command('version')
    .description('print the version (also: seb --version, seb -V)')
    .action(() => io.out(`${version}\n`))
  catchTypos(program)
}
