// Why: `seb find DEST PATTERN`: which snapshots hold a file — the question before restoring a message
// deleted some days ago ("when did I still have it, and under what name?").
import type { Command } from 'commander'
import { displayPath } from '../../core/path-bytes.js'
import { findFiles } from '../../engine/inspect.js'
import { count, formatBytes } from '../format.js'
import type { CliIO } from '../io.js'
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
      '\nExamples:\n  seb find /mnt/backup/mail "1700000000.M1P2Q3*"\n  seb find /mnt/backup/mail "work/INBOX/cur/*" --json\n\nExit code 0 also when nothing matches (the last line says so).\n',
    )
    .action(async (dest: string, pattern: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const { matches, snapshots } = await findFiles({
          storage,
          cacheBase: ctx.cacheBase,
          passphrase: ctx.passphrase(),
          signal: io.signal,
          patterns: [pattern],
        })
        if (ctx.mode.json) {
          for (const m of matches)
            io.out(
              `${JSON.stringify({ type: 'match', snapshot: m.snapshot, seq: m.seq, time: m.time, path: m.path, kind: m.kind, size: m.size, mtime: new Date(m.mtimeMs).toISOString() })}\n`,
            )
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'find', pattern, matches: matches.length, snapshots })}\n`,
          )
          return
        }
        if (ctx.mode.quiet) return
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
      } finally {
        await storage.close()
      }
    })
}
