// Why: `seb upgrade DEST`: move a repository made by seb 0.3 (format 1, unsigned) to format 2, in place
// and once, with the owner's secret key (src/engine/upgrade.ts); no pack is uploaded again.
import type { Command } from 'commander'
import { upgrade } from '../../engine/upgrade.js'
import type { CliIO } from '../io.js'
import { commandContext } from './context.js'

/** registerUpgrade adds `seb upgrade`. */
export function registerUpgrade(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('upgrade')
    .description(
      "move a repository made by seb 0.3 (format 1) to format 2, in place, once (needs the owner's secret key)",
    )
    .argument('<dest>', 'the repository')
    .addHelpText(
      'after',
      "\nExample:\n  seb upgrade /mnt/backup/mail\n\nOther machines that back up here then run 'seb key setup DEST' once.\n",
    )
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const reporter = ctx.reporter()
        const s = await upgrade({
          ...ctx.access(storage),
          progress: reporter.sink,
        }).finally(reporter.done)
        if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'upgrade', ...s })}\n`)
        else if (!ctx.mode.quiet)
          io.out(
            `repository ${s.repository} is now format 2: ${s.snapshots} snapshots and ${s.files} files in signed checkpoint ${s.checkpoint}; other machines that back up here: seb key setup ${dest}\n`,
          )
      } finally {
        await storage.close()
      }
    })
}
