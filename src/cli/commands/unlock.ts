// Why: `seb unlock DEST`: remove locks left by runs that died (stale: their process is gone on this
// host, or their heartbeat is older than 30 minutes); with --force, every lock, saying what it removed.
import type { Command } from 'commander'
import { readConfig } from '../../repo/config.js'
import { removeLocks } from '../../repo/lock.js'
import { count } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** registerUnlock adds `seb unlock`. */
export function registerUnlock(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('unlock')
    .description('remove stale locks (left by runs that died); --force removes all locks')
    .argument('<dest>', 'the repository')
    .option('--force', 'remove every lock, even of runs that may still be going (make sure none is)')
    .addHelpText(
      'after',
      '\nExamples:\n  seb unlock /mnt/backup/mail\n  seb unlock /mnt/backup/mail --force\n',
    )
    .action(async (dest: string, opts: { force?: boolean }, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        await explainMissingRepository(dest, readConfig(storage))
        const removed = await removeLocks(storage, Boolean(opts.force))
        if (ctx.mode.json) {
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'unlock', removed: removed.map((l) => ({ name: l.name, ...l.info })) })}\n`,
          )
          return
        }
        for (const l of removed) {
          const who = l.info
            ? `${l.info.command}, pid ${l.info.pid} on ${l.info.host}, since ${l.info.created}`
            : 'unreadable lock'
          io.out(`removed lock ${l.name} (${who})\n`)
        }
        if (!ctx.mode.quiet) io.out(`${count(removed.length, 'lock')} removed\n`)
      } finally {
        await storage.close()
      }
    })
}
