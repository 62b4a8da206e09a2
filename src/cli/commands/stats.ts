// Why: `seb stats DEST`: how big the repository is and why — files and bytes backed up, packs and
// their bytes on the destination, dead space waiting for compaction, and what compression saves.
import type { Command } from 'commander'
import { repoStats } from '../../engine/inspect.js'
import { formatBytes, formatCount, plural } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** registerStats adds `seb stats`. */
export function registerStats(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('stats')
    .description(
      'show the size of the repository: files, bytes, packs, dead space, compression ratio, snapshots',
    )
    .argument('<dest>', 'the repository')
    .addHelpText('after', '\nExamples:\n  seb stats /mnt/backup/mail\n  seb stats /mnt/backup/mail --json\n')
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const s = await explainMissingRepository(
          dest,
          repoStats({
            ...ctx.access(storage),
          }),
        )
        if (ctx.mode.json) {
          io.out(`${JSON.stringify({ type: 'summary', command: 'stats', ...s })}\n`)
          return
        }
        if (ctx.mode.quiet) return
        const pct = (n: number, of: number) => (of ? ` (${((100 * n) / of).toFixed(1)}%)` : '')
        const rows: [string, string][] = [
          ['snapshots', formatCount(s.snapshots)],
          ['files', `${formatCount(s.files)} (latest snapshot)`],
          ['bytes', `${formatBytes(s.bytes)} (latest snapshot)`],
          ['stored content', `${formatBytes(s.contentBytes)} before compression`],
          ['packs', `${formatCount(s.packs)}, ${formatBytes(s.packBytes)} on the destination`],
          [
            'compression ratio',
            s.packBytes ? `${s.compressionRatio.toFixed(2)}x (content bytes / pack bytes)` : '-',
          ],
          [
            'dead space',
            `${formatBytes(s.deadBytes)}${pct(s.deadBytes, s.contentBytes)} of content no snapshot needs (seb compact)`,
          ],
          ['index', `${plural(s.indexObjects, 'commit')}, ${formatBytes(s.indexBytes)}`],
        ]
        if (s.unreferencedPacks)
          rows.push([
            'unreferenced packs',
            `${s.unreferencedPacks} (left by interrupted runs; the next backup removes them)`,
          ])
        for (const [k, v] of rows) io.out(`${`${k}:`.padEnd(20)}${v}\n`)
      } finally {
        await storage.close()
      }
    })
}
