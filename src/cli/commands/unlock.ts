// Why: `seb unlock DEST`: remove locks left by runs that died (engine/unlock.ts says when a lock is
// stale); with --force, every lock, saying what it removed.
import type { Command } from 'commander'
import { unlock } from '../../engine/unlock.js'
import { safeText } from '../../util/terminal-text.js'
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
        const removed = await explainMissingRepository(dest, unlock(storage, { force: opts.force }))
        if (ctx.mode.json) {
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'unlock', removed: removed.map((l) => ({ name: l.name, ...l.info })) })}\n`,
          )
          return
        }
        for (const l of removed) {
          const who = l.info
            ? safeText(`${l.info.command}, pid ${l.info.pid} on ${l.info.host}, since ${l.info.created}`)
            : 'unreadable lock'
          io.out(`removed lock ${l.name} (${who})\n`)
        }
        if (!ctx.mode.quiet) io.out(`${count(removed.length, 'lock')} removed\n`)
      } finally {
        await storage.close()
      }
    })
}
