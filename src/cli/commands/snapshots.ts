// Why: `seb snapshots DEST`: list the snapshots (time, files, bytes, bytes uploaded by that run).
// UPLOADED is what the run sent: its packs (recorded in the snapshot) plus its commit object, whose
// size the destination's listing gives while that object is there; once a later checkpoint has made
// it unnecessary and it was removed, only the packs are known, and the column says so.
import type { Command } from 'commander'
import { listSnapshots } from '../../engine/inspect.js'
import { listCommitObjects } from '../../repo/commit-writer.js'
import { safeText } from '../../util/terminal-text.js'
import { count, formatBytes } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** PACKS_ONLY marks an UPLOADED value that lacks the run's commit object (no longer on the destination). */
const PACKS_ONLY = '*'

/** registerSnapshots adds `seb snapshots`. */
export function registerSnapshots(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('snapshots')
    .description('list the snapshots in DEST')
    .argument('<dest>', 'the repository')
    .addHelpText(
      'after',
      `\nExample:\n  seb snapshots /mnt/backup/mail\n\nUPLOADED is what that run sent: its packs and its commit object (${PACKS_ONLY}: packs only, the commit\nobject has since been superseded by a checkpoint and removed).\n`,
    )
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const snaps = await explainMissingRepository(
          dest,
          listSnapshots({
            ...ctx.access(storage),
          }),
        )
        const commitBytes = new Map((await listCommitObjects(storage, io.signal)).map((c) => [c.seq, c.size]))
        if (ctx.mode.json) {
          for (const s of snaps)
            io.out(
              `${JSON.stringify({ type: 'snapshot', ...s, indexBytes: commitBytes.get(s.seq) ?? null })}\n`,
            )
          return
        }
        io.out(
          `${'ID'.padEnd(10)}${'TIME'.padEnd(22)}${'FILES'.padStart(9)}${'SIZE'.padStart(11)}${'UPLOADED'.padStart(12)}  HOST\n`,
        )
        let packsOnly = 0
        for (const s of snaps) {
          const index = commitBytes.get(s.seq)
          if (index === undefined) packsOnly++
          const uploaded =
            index === undefined
              ? `${formatBytes(s.uploaded)}${PACKS_ONLY}`
              : `${formatBytes(s.uploaded + index)} `
          io.out(
            `${s.id.padEnd(10)}${s.time.slice(0, 19).replace('T', ' ').padEnd(22)}${String(s.files).padStart(9)}${formatBytes(s.bytes).padStart(11)}${uploaded.padStart(12)}  ${safeText(s.host)}\n`,
          )
        }
        io.out(`${count(snaps.length, 'snapshot')}\n`)
        if (packsOnly)
          io.out(
            `${PACKS_ONLY} packs only: that run's commit object was superseded by a later checkpoint and removed\n`,
          )
      } finally {
        await storage.close()
      }
    })
}
