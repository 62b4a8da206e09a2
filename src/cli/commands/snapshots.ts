// Why: `seb snapshots DEST`: list the snapshots (time, files, bytes, bytes uploaded by that run).
import type { Command } from 'commander'
import { listSnapshots } from '../../engine/inspect.js'
import { formatBytes } from '../format.js'
import type { CliIO } from '../io.js'
import { commandContext } from './context.js'

/** registerSnapshots adds `seb snapshots`. */
export function registerSnapshots(program: Command, io: CliIO, _result: { code: number }): void {
  program
    .command('snapshots')
    .description('list the snapshots in DEST')
    .argument('<dest>', 'the repository')
    .addHelpText('after', '\nExample:\n  seb snapshots /mnt/backup/mail\n')
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const snaps = await listSnapshots({
          storage,
          cacheBase: ctx.cacheBase,
          passphrase: ctx.passphrase(),
          signal: io.signal,
        })
        if (ctx.mode.json) {
          for (const s of snaps) io.out(`${JSON.stringify({ type: 'snapshot', ...s })}\n`)
          return
        }
        io.out(
          `${'ID'.padEnd(10)}${'TIME'.padEnd(22)}${'FILES'.padStart(9)}${'SIZE'.padStart(11)}${'UPLOADED'.padStart(11)}  HOST\n`,
        )
        for (const s of snaps) {
          io.out(
            `${s.id.padEnd(10)}${s.time.slice(0, 19).replace('T', ' ').padEnd(22)}${String(s.files).padStart(9)}${formatBytes(s.bytes).padStart(11)}${formatBytes(s.uploaded).padStart(11)}  ${s.host}\n`,
          )
        }
        io.out(`${snaps.length} snapshots\n`)
      } finally {
        await storage.close()
      }
    })
}
