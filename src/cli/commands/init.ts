// Why: `seb init DEST`: create a repository encrypted to GnuPG recipients or a passphrase.
import type { Command } from 'commander'
import { init } from '../../engine/init.js'
import type { CliIO } from '../io.js'
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
        if (ctx.mode.json)
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'init', id: config.id, location: storage.location, encryption: config.encryption })}\n`,
          )
        else if (!ctx.mode.quiet) {
          const who =
            config.encryption.type === 'recipients'
              ? `to ${config.encryption.recipients.join(', ')}`
              : 'with a passphrase'
          io.out(`created seb repository ${config.id} at ${storage.location}, encrypted ${who}\n`)
        }
      } finally {
        await storage.close()
      }
    })
}
