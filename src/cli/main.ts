// Why: the command line. Parses arguments (commander), runs one command, and is the program's single
// error boundary: every failure becomes one line on stderr (and a JSON object with --json) and a
// documented exit code; stack traces only with SEB_DEBUG=1.
import { Command, Option } from 'commander'
import { ExitCode, exitCodeTable } from '../exit-codes.js'
import { registerCommands } from './commands/index.js'
import type { CliIO } from './io.js'
import { reportError } from './report-error.js'
import { commandNames } from './typo.js'

/** CommandResult is what a command returns: its exit code. */
export type CommandResult = number

/** buildProgram makes the commander program; `result` receives the exit code of the command run. */
export function buildProgram(io: CliIO, result: { code: number }): Command {
  const program = new Command('seb')
    .description(
      'Simple Encrypted Backup: encrypted, bandwidth-efficient off-site backup of Maildir folders.\nPacks are gpg-encrypted tar archives: restorable with gpg and tar alone.',
    )
    .usage('<command> [options]   (or: seb SRC DEST, the short form of backup)')
    .addOption(
      new Option('--config <file>', 'config file with profiles (default ~/.config/seb/config.yaml)').env(
        'SEB_CONFIG',
      ),
    )
    .option('--no-config', 'ignore the config file: its defaults and profiles (a plain SRC DEST run)')
    .addOption(
      new Option('--cache-dir <dir>', 'local cache folder (default $XDG_CACHE_HOME/seb or ~/.cache/seb)').env(
        'SEB_CACHE_DIR',
      ),
    )
    .option('--passphrase-file <file>', 'read the repository passphrase from FILE (or SEB_PASSPHRASE_FILE)')
    .option('--passphrase-fd <n>', 'read the repository passphrase from file descriptor N')
    .option('--json', 'print one JSON object per line (progress events, then a summary)')
    .option(
      '--accept-rollback',
      'accept a destination whose history is older than what this machine has seen (a rollback you made on purpose)',
    )
    .option('-q, --quiet', 'print errors only (for cron)')
    .addOption(
      new Option('--limit-upload <rate>', 'cap upload speed, bytes per second (e.g. 500k, 2M)').env(
        'SEB_LIMIT_UPLOAD',
      ),
    )
    .addOption(
      new Option('--connections <n>', 'parallel transfers to the destination (default 4)').env(
        'SEB_CONNECTIONS',
      ),
    )
    .addOption(
      new Option('--s3-endpoint <url>', 'S3-compatible server (MinIO, Ceph, B2, Wasabi…)').env(
        'SEB_S3_ENDPOINT',
      ),
    )
    .option('--s3-region <region>', 'S3 region')
    .option('--s3-path-style', 'address S3 buckets as ENDPOINT/BUCKET (Ceph, MinIO)')
    .showHelpAfterError(false)
    .addHelpText(
      'after',
      `\nExamples:\n  seb init /mnt/backup/mail --recipient alice@example.org\n  seb backup ~/Mail /mnt/backup/mail\n  seb backup --all --quiet                 # every profile of ~/.config/seb/config.yaml (cron)\n  seb restore /mnt/backup/mail ~/Mail-restored\n\nEnvironment: SEB_CONFIG, SEB_CACHE_DIR, SEB_RECIPIENT, SEB_PASSPHRASE_FILE, SEB_LIMIT_UPLOAD, SEB_CONNECTIONS,\nSEB_S3_ENDPOINT, SEB_PROGRESS_INTERVAL (ms between progress updates), SEB_DEBUG=1 (stack traces).\n\n${exitCodeTable}\n`,
    )
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: () => {} })
  registerCommands(program, io, result)
  return program
}

/** run executes seb with `argv` (without node and script) and returns the exit code. */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const result = { code: ExitCode.Ok as number }
  const program = buildProgram(io, result)
  const args = shortForm(argv, commandNames(program))
  try {
    await program.parseAsync(args, { from: 'user' })
    return result.code
  } catch (err) {
    return reportError(err, io, args.includes('--json'))
  }
}

/** shortForm rewrites the seed's `seb SRC DEST` into `seb backup SRC DEST --init-if-missing`. */
export function shortForm(argv: readonly string[], commands: readonly string[]): string[] {
  const positional = argv.filter((a) => !a.startsWith('-'))
  const first = argv[0]
  if (first && !first.startsWith('-') && !commands.includes(first) && positional.length >= 2)
    return ['backup', ...argv, '--init-if-missing']
  return [...argv]
}
