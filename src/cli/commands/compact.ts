// Why: `seb compact DEST`: forget snapshots past retention and reclaim the space of deleted mail.
import type { Command } from 'commander'
import { compact } from '../../engine/compact.js'
import { UsageError } from '../../errors.js'
import { count, formatBytes, formatDuration } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** registerCompact adds `seb compact`. */
export function registerCompact(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('compact')
    .description(
      'forget snapshots older than the retention period and rewrite packs that are mostly deleted mail (needs the secret key)',
    )
    .argument('<dest>', 'the repository')
    .option('-n, --dry-run', 'show what would be dropped and rewritten, change nothing')
    .option('--threshold <percent>', 'rewrite packs with at least this much dead content', '10')
    .addHelpText(
      'after',
      '\nExamples:\n  seb compact /mnt/backup/mail --dry-run\n  seb compact /mnt/backup/mail --threshold 25\n',
    )
    .action(async (dest: string, opts: { dryRun?: boolean; threshold: string }, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const pct = Number(opts.threshold)
      if (!Number.isFinite(pct) || pct < 0 || pct > 100)
        throw new UsageError(
          `--threshold ${opts.threshold}: give a percentage between 0 (any dead content) and 100`,
        )
      const storage = await ctx.open(dest)
      try {
        const reporter = ctx.reporter()
        const s = await explainMissingRepository(
          dest,
          compact({
            ...ctx.access(storage),
            dryRun: opts.dryRun,
            threshold: pct / 100,
            progress: reporter.sink,
          }),
        ).finally(reporter.done)
        if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'compact', ...s })}\n`)
        else if (!ctx.mode.quiet) {
          const verb = s.dryRun ? 'would forget' : 'forgot'
          io.out(
            `${verb} ${count(s.snapshotsForgotten, 'snapshot')}; ${s.dryRun ? 'would drop' : 'dropped'} ${count(s.packsDropped, 'pack')} and ${s.dryRun ? 'rewrite' : 'rewrote'} ${s.packsRewritten} (${formatBytes(s.bytesDeleted)} deleted, ${formatBytes(s.bytesUploaded)} uploaded)\n`,
          )
          io.out(
            `content: ${formatBytes(s.liveBytes)} live, ${formatBytes(s.deadBytesBefore)} dead before compaction; ${formatDuration(s.durationMs)}\n`,
          )
        }
      } finally {
        await storage.close()
      }
    })
}
