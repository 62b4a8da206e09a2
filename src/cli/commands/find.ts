// Why: `seb find DEST PATTERN`: which snapshots hold a file — the question before restoring a message
// deleted some days ago ("when did I still have it, and under what name?"). A pattern that matches
// nothing is answered with the one probably meant; a bare name that matches nothing exits 1.
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

/** registerFind adds `seb find`. */
export function registerFind(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('find')
    .description('list the snapshots that hold a path matching PATTERN (a glob): snapshot, time, path')
    .argument('<dest>', 'the repository')
    .argument(
      '<pattern>',
      'a glob: without "/" it matches a name at any depth ("*pineapple*"), with "/" the whole path',
    )
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  seb find /mnt/backup/mail "1700000000.M1P2Q3*"',
        '  seb find /mnt/backup/mail "work/INBOX/cur/*" --json',
        '',
        'A pattern without wildcards is a whole name. Exit code 0 also when nothing matches a glob (the',
        'last line says so, with the glob probably meant); 1 when a plain name matches nothing ("did you',
        "mean '*NAME*'?\": a message id is part of a file name).",
        '',
      ].join('\n'),
    )
    .action(async (dest: string, pattern: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
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
