// Why: `seb restore DEST TARGET [GLOB…]`: restore a snapshot (the latest, --snapshot ID or --as-of DATE),
// all of it or the matching paths; lists what could not be restored and exits 13 then. The target is
// checked first (an existing file, a path under a file, /proc: one line, exit 2, nothing read or written),
// and globs that match nothing are answered with the globs probably meant.
import path from 'node:path'
import type { Command } from 'commander'
import { displayPath } from '../../core/path-bytes.js'
import { restoreIntoMaildir } from '../../engine/into-maildir.js'
import { type RestoreSummary, restore } from '../../engine/restore.js'
import { UsageError } from '../../errors.js'
import { ExitCode } from '../../exit-codes.js'
import { count, formatBytes, formatDuration } from '../format.js'
import { noMatchHint } from '../glob-hint.js'
import type { CliIO } from '../io.js'
import { checkRestoreTarget, explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** registerRestore adds `seb restore`. */
export function registerRestore(program: Command, io: CliIO, result: { code: number }): void {
  program
    .command('restore')
    .description('restore a snapshot from DEST into the folder TARGET (all files, or those matching GLOBs)')
    .argument('<dest>', 'the repository')
    .argument('[target]', 'folder to restore into: new, empty, or holding none of the files restored')
    .argument('[globs...]', 'only paths matching these globs (a folder match takes all below it)')
    .option(
      '--message-id <id>',
      'restore only the message with this Message-ID (repeatable); by default from the newest snapshot holding it',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--into-maildir <dir>',
      'with --message-id: deliver the messages into this live Maildir folder (cur/, a new unique name, their flags) instead of TARGET',
    )
    .option('-s, --snapshot <id>', 'restore this snapshot (see seb snapshots); default: the latest')
    .option('--as-of <date>', 'restore the latest snapshot taken at or before DATE (e.g. 2026-11-20)')
    .option('--overwrite', 'replace files of TARGET that the snapshot also has')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  seb restore /mnt/backup/mail ~/Mail-restored',
        '  seb restore /mnt/backup/mail /tmp/r "work/INBOX/**" --as-of 2026-11-01',
        '  seb restore /mnt/backup/mail /tmp/r --message-id 20261003.1234@mail.example.org',
        '  seb restore /mnt/backup/mail --message-id 20261003.1234@mail.example.org --into-maildir ~/Mail/INBOX',
        '',
        'seb find DEST --subject WORDS --from SENDER shows the Message-ID of a message. An unknown',
        'Message-ID stops the restore with exit code 1, before anything is written.',
        '',
        'A non-empty TARGET is accepted when nothing in it would be overwritten: the files restored are',
        'added beside those already there. If any file to restore already exists in TARGET, restore stops',
        'before writing anything and names it; --overwrite replaces such files instead.',
        '',
      ].join('\n'),
    )
    .action(
      async (
        dest: string,
        target: string,
        globs: string[],
        opts: {
          snapshot?: string
          asOf?: string
          overwrite?: boolean
          messageId?: string[]
          intoMaildir?: string
        },
        cmd: Command,
      ) => {
        const ctx = commandContext(cmd, io)
        if (opts.intoMaildir !== undefined) {
          if (!opts.messageId?.length)
            throw new UsageError(
              '--into-maildir needs --message-id ID: it delivers chosen messages, not a snapshot',
            )
          // With --into-maildir there is no TARGET: what looks like one is a glob.
          if (target !== undefined) globs = [target, ...globs]
          if (globs.length)
            throw new UsageError(
              `--into-maildir takes no TARGET or glob (got ${globs[0]}); the messages go into ${opts.intoMaildir}`,
            )
        } else {
          if (opts.messageId?.length && globs.length)
            throw new UsageError(`--message-id restores whole messages: give no glob (got ${globs[0]})`)
          if (target === undefined)
            throw new UsageError('restore needs a TARGET folder (or --message-id ID --into-maildir DIR)')
          await checkRestoreTarget(target)
        }
        const storage = await ctx.open(dest)
        try {
          const reporter = ctx.reporter()
          // The engine reports no phase of its own yet: the live line says "restoring" from the start
          // (reading the index included), and rates count from there.
          reporter.sink({ type: 'phase', phase: 'restore' })
          const o = {
            ...ctx.access(storage),
            target: target ?? '',
            cacheBase: ctx.cacheBase,
            passphrase: ctx.passphrase(),
            snapshot: opts.snapshot,
            asOf: opts.asOf,
            patterns: globs,
            overwrite: opts.overwrite,
            progress: reporter.sink,
            messageIds: opts.messageId,
          }
          const s: RestoreSummary & { delivered?: string[] } = await explainMissingRepository(
            dest,
            opts.intoMaildir !== undefined ? restoreIntoMaildir({ ...o, dir: opts.intoMaildir }) : restore(o),
          )
            .catch((err: unknown) => {
              throw withGlobHint(err, globs)
            })
            .finally(reporter.done)
          if (ctx.mode.json)
            io.out(
              `${JSON.stringify({ type: 'summary', command: 'restore', ...s, delivered: s.delivered ?? [] })}\n`,
            )
          else {
            for (const f of s.failed) io.err(`seb: ${displayPath(f.path)}: not restored: ${f.reason}\n`)
            for (const d of s.delivered ?? [])
              if (!ctx.mode.quiet) io.out(`delivered ${path.join(opts.intoMaildir!, d)}\n`)
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

/**
 * withGlobHint adds the globs probably meant to the engine's "nothing in snapshot ID matches GLOBS"
 * (still a usage error, exit 2); other errors pass unchanged.
 */
function withGlobHint(err: unknown, globs: readonly string[]): unknown {
  const m =
    err instanceof UsageError && globs.length ? /^nothing in snapshot (\S+) matches /.exec(err.message) : null
  const hint = m ? noMatchHint(globs, `in snapshot ${m[1]}`) : null
  return hint ? new UsageError(hint) : err
}
