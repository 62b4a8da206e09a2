// Why: `seb find DEST [PATTERN] [--subject …]`: which snapshots hold a file — the question before
// restoring a message deleted some days ago ("when did I still have it, and under what name?"). By
// name: a pattern that matches nothing is answered with the one probably meant; a bare name that
// matches nothing exits 1. By what a person remembers (subject, sender, recipient, date, Message-ID):
// a line per message with its date, sender, subject, folder, path and the first and last snapshot
// holding it.
import type { Command } from 'commander'
import { displayPath } from '../../core/path-bytes.js'
import { findFiles } from '../../engine/inspect.js'
import { SebError } from '../../errors.js'
import { ExitCode } from '../../exit-codes.js'
import { count, formatBytes } from '../format.js'
import { isBareName, noMatchHint } from '../glob-hint.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'
import { type HeaderOptions, hasHeaderQuery, runMessageFind } from './find-mail.js'

/** registerFind adds `seb find`. */
export function registerFind(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('find')
    .description(
      'list the snapshots that hold a path matching PATTERN (a glob), or the messages whose headers match --subject, --from, --to, --message-id, --since, --until',
    )
    .argument('<dest>', 'the repository')
    .argument(
      '[pattern]',
      'a glob: without "/" it matches a name at any depth ("*pineapple*"), with "/" the whole path',
    )
    .option('--subject <text>', 'messages whose Subject holds these words (any case, any order of terms)')
    .option('--from <text>', 'messages whose From holds these words, or this address')
    .option('--to <text>', 'messages whose To holds these words, or this address')
    .option('--message-id <id>', 'the message with this Message-ID (with or without <>)')
    .option('--since <date>', 'messages dated on or after DATE (2026-10-01, or 2026-10-01T08:00)')
    .option('--until <date>', 'messages dated on or before DATE (a day: to its end)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  seb find /mnt/backup/mail "1700000000.M1P2Q3*"',
        '  seb find /mnt/backup/mail "work/INBOX/cur/*" --json',
        '  seb find /mnt/backup/mail --subject "rent october" --from landlord@example.org',
        '  seb find /mnt/backup/mail --since 2026-10-01 --until 2026-10-31 --from example.org',
        '',
        'A pattern without wildcards is a whole name. Exit code 0 also when nothing matches a glob (the',
        'last line says so, with the glob probably meant); 1 when a plain name matches nothing ("did you',
        "mean '*NAME*'?\": a message id is part of a file name).",
        '',
        'With header options, PATTERN (optional) narrows the messages by path. Words match whole words of',
        'the decoded header, in any case; every term must match. Exit code 1 when --message-id matches',
        'no message; 2 for a malformed date.',
        '',
      ].join('\n'),
    )
    .action(async (dest: string, pattern: string | undefined, opts: HeaderOptions, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      if (hasHeaderQuery(opts)) {
        await runMessageFind(ctx, io, dest, pattern, opts)
        return
      }
      if (pattern === undefined)
        throw new SebError(
          'usage',
          'find needs a PATTERN or a header option (--subject, --from, --to, --message-id, --since, --until)',
          ExitCode.Usage,
        )
      const storage = await ctx.open(dest)
      try {
        const { matches, snapshots } = await explainMissingRepository(
          dest,
          findFiles({
            ...ctx.access(storage),
            patterns: [pattern],
          }),
        )
        // A plain name (a message id) is looked for as a whole name: matching nothing, it was most likely
        // meant as part of one, and the run fails (exit 1) saying so; for other patterns the hint is a note.
        const hint = matches.length ? null : noMatchHint([pattern])
        const failed = hint !== null && isBareName(pattern)
        if (ctx.mode.json) {
          for (const m of matches)
            io.out(
              `${JSON.stringify({ type: 'match', snapshot: m.snapshot, seq: m.seq, time: m.time, path: m.path, kind: m.kind, size: m.size, mtime: new Date(m.mtimeMs).toISOString() })}\n`,
            )
          if (hint && !failed) io.out(`${JSON.stringify({ type: 'warning', message: hint })}\n`)
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'find', pattern, matches: matches.length, snapshots })}\n`,
          )
        } else if (!ctx.mode.quiet) {
          for (const m of matches) {
            io.out(
              `${m.snapshot.padEnd(10)}${m.time.slice(0, 19).replace('T', ' ').padEnd(21)}${(m.kind === 'f' ? formatBytes(m.size) : m.kind === 'd' ? 'folder' : 'link').padStart(10)}  ${displayPath(m.path)}\n`,
            )
          }
          io.out(
            matches.length
              ? `${count(matches.length, 'match', 'matches')} in ${count(snapshots, 'snapshot')}\n`
              : `nothing matches ${pattern} in any snapshot\n`,
          )
          if (hint && !failed) io.err(`seb: note: ${hint}\n`)
        }
        if (failed) throw new SebError('no-match', hint, ExitCode.Error)
      } finally {
        await storage.close()
      }
    })
}
