// Why: `seb restore DEST TARGET [GLOB…]`: restore a snapshot (the latest, --snapshot ID or --as-of DATE),
// all of it or the matching paths; lists what could not be restored and exits 13 then.
import type { Command } from 'commander'
import { displayPath } from '../../core/path-bytes.js'
import { restore } from '../../engine/restore.js'
import { ExitCode } from '../../exit-codes.js'
import { count, formatBytes, formatDuration } from '../format.js'
import type { CliIO } from '../io.js'
import { commandContext } from './context.js'

/** registerRestore adds `seb restore`. */
export function registerRestore(program: Command, io: CliIO, result: { code: number }): void {
  program
    .command('restore')
    .description('restore a snapshot from DEST into the folder TARGET (all files, or those matching GLOBs)')
    .argument('<dest>', 'the repository')
    .argument('<target>', 'folder to restore into (new or empty, unless --overwrite)')
    .argument('[globs...]', 'only paths matching these globs (a folder match takes all below it)')
    .option('-s, --snapshot <id>', 'restore this snapshot (see seb snapshots); default: the latest')
    .option('--as-of <date>', 'restore the latest snapshot taken at or before DATE (e.g. 2026-11-20)')
    .option('--overwrite', 'replace files that already exist in TARGET')
    .addHelpText(
      'after',
      '\nExamples:\n  seb restore /mnt/backup/mail ~/Mail-restored\n  seb restore /mnt/backup/mail /tmp/r "work/INBOX/**" --as-of 2026-11-01\n',
    )
    .action(
      async (
        dest: string,
        target: string,
        globs: string[],
        opts: { snapshot?: string; asOf?: string; overwrite?: boolean },
        cmd: Command,
      ) => {
        const ctx = commandContext(cmd, io)
        const storage = await ctx.open(dest)
        try {
          const reporter = ctx.reporter()
          const s = await restore({
            storage,
            target,
            cacheBase: ctx.cacheBase,
            passphrase: ctx.passphrase(),
            snapshot: opts.snapshot,
            asOf: opts.asOf,
            patterns: globs,
            overwrite: opts.overwrite,
            progress: reporter.sink,
            signal: io.signal,
          }).finally(reporter.done)
          if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'restore', ...s })}\n`)
          else {
            for (const f of s.failed) io.err(`seb: ${displayPath(f.path)}: not restored: ${f.reason}\n`)
            if (!ctx.mode.quiet)
              io.out(
                `restored snapshot ${s.snapshot}: ${count(s.filesRestored, 'file')}, ${formatBytes(s.bytesRestored)} in ${formatDuration(s.durationMs)}\n`,
              )
            if (s.failed.length)
              io.err(
                `seb: ${count(s.failed.length, 'file')} could not be restored (listed above); everything else was\n`,
              )
            for (const d of s.damagedIndex)
              io.err(`seb: damaged index: ${d}; restored the newest readable snapshot\n`)
          }
          result.code = s.failed.length || s.damagedIndex.length ? ExitCode.Damaged : ExitCode.Ok
        } finally {
          await storage.close()
        }
      },
    )
}
