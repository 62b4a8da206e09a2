// Why: `seb init DEST`: create a repository encrypted to GnuPG recipients or a passphrase.
import type { Command } from 'commander'
import { init } from '../../engine/init.js'
import type { RepoConfig } from '../../repo/config.js'
import type { CliIO } from '../io.js'
import type { OutputMode } from '../reporter.js'
import { collect, commandContext } from './context.js'

/** registerInit adds `seb init`. */
export function registerInit(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('init')
    .description('create a repository at DEST (a folder; later also sftp://, user@host:path, s3://, rclone:)')
    .argument('<dest>', 'where the backup goes')
    .option(
      '-r, --recipient <key>',
      'GnuPG key (fingerprint, id or e-mail) to encrypt to; repeatable',
      collect,
      [],
    )
    .option('--retention-days <days>', 'keep deleted mail this many days before compaction may drop it', '30')
    .addHelpText(
      'after',
      '\nExamples:\n  seb init /mnt/backup/mail --recipient alice@example.org\n  seb init /mnt/backup/mail --passphrase-file ~/.config/seb/passphrase\n',
    )
    .action(async (dest: string, opts: { recipient: string[]; retentionDays: string }, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const config = await init(storage, {
          recipients: opts.recipient,
          passphrase: ctx.passphrase(),
          retentionDays: Number(opts.retentionDays),
        })
        printCreated(io, ctx.mode, storage.location, config)
      } finally {
        await storage.close()
      }
    })
}

/**
 * printCreated says that a repository was created and how it is encrypted: after `seb init`, and when
 * a backup creates one (the short form, a profile's first run) — the line to check the keys by. A
 * backup writes it on stderr, before its progress: its stdout stays the backup's summary.
 */
export function printCreated(
  io: CliIO,
  mode: OutputMode,
  location: string,
  config: RepoConfig,
  profile?: string,
  write: (text: string) => void = io.out,
): void {
  if (mode.json) {
    io.out(
      `${JSON.stringify({ type: 'summary', command: 'init', id: config.id, location, encryption: config.encryption, ...(profile ? { profile } : {}) })}\n`,
    )
    return
  }
  if (mode.quiet) return
  const who =
    config.encryption.type === 'recipients'
      ? `to ${config.encryption.recipients.join(', ')}`
      : 'with a passphrase'
  write(
    `${profile ? `${profile}: ` : ''}created seb repository ${config.id} at ${location}, encrypted ${who}\n`,
  )
}
