// Why: `seb ls DEST [GLOB…]`: what a snapshot holds — each path with its size and date — before
// restoring any of it.
import type { Command } from 'commander'
import { displayPath } from '../../core/path-bytes.js'
import { listFiles } from '../../engine/inspect.js'
import { count, formatBytes } from '../format.js'
import { noMatchHint } from '../glob-hint.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** registerLs adds `seb ls`. */
export function registerLs(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('ls')
    .description(
      'list the files of a snapshot (the latest, or --snapshot ID) with size and date; GLOBs filter',
    )
    .argument('<dest>', 'the repository')
    .argument(
      '[globs...]',
      'only paths matching these globs (without "/": a name at any depth; a folder match lists all below it)',
    )
    .option('-s, --snapshot <id>', 'list this snapshot (see seb snapshots); default: the latest')
    .addHelpText(
      'after',
      '\nExamples:\n  seb ls /mnt/backup/mail\n  seb ls /mnt/backup/mail "work/INBOX/**" --snapshot 3f9a1c2e\n  seb ls /mnt/backup/mail "*,S" --json       # every message marked seen\n',
    )
    .action(async (dest: string, globs: string[], opts: { snapshot?: string }, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const { snapshot, entries } = await explainMissingRepository(
          dest,
          listFiles({
            ...ctx.access(storage),
            snapshot: opts.snapshot,
            patterns: globs,
          }),
        )
        const files = entries.filter((e) => e.kind === 'f')
        const bytes = files.reduce((n, e) => n + e.size, 0)
        const hint = globs.length && !entries.length ? noMatchHint(globs) : null
        if (ctx.mode.json) {
          if (hint) io.out(`${JSON.stringify({ type: 'warning', message: hint })}\n`)
          for (const e of entries)
            io.out(
              `${JSON.stringify({ type: 'file', path: e.path, kind: e.kind, size: e.size, mtime: new Date(e.mtimeMs).toISOString(), mode: e.mode, target: e.target })}\n`,
            )
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'ls', snapshot: snapshot.id, time: snapshot.time, entries: entries.length, files: files.length, bytes })}\n`,
          )
          return
        }
        if (ctx.mode.quiet) return
        for (const e of entries) {
          const size = e.kind === 'f' ? formatBytes(e.size) : e.kind === 'd' ? 'folder' : 'link'
          const date = new Date(e.mtimeMs).toISOString().slice(0, 16).replace('T', ' ')
          const name =
            displayPath(e.path) +
            (e.kind === 'd' ? '/' : e.kind === 'l' ? ` -> ${displayPath(e.target)}` : '')
          io.out(`${size.padStart(10)}  ${date}  ${name}\n`)
        }
        io.out(
          `snapshot ${snapshot.id} (${snapshot.time.slice(0, 19).replace('T', ' ')}): ${count(files.length, 'file')}, ${formatBytes(bytes)}${globs.length ? ` matching ${globs.join(' ')}` : ''}\n`,
        )
        if (hint) io.err(`seb: note: ${hint}\n`)
      } finally {
        await storage.close()
      }
    })
}
