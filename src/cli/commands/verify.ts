// Why: `seb verify DEST`: check the repository (quick, or reading data) and compare with the source.
// Exit 0 when all is well, 13 when damage is found, 14 when objects the repository did not write are
// found, 1 (or 12 for keys) when it could not check.
import type { Command } from 'commander'
import { displayPath } from '../../core/path-bytes.js'
import { CHECKS, parseSubset, verify } from '../../engine/verify.js'
import { ExitCode } from '../../exit-codes.js'
import { safeText } from '../../util/terminal-text.js'
import { count } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { collect, commandContext } from './context.js'

/** registerVerify adds `seb verify`. */
export function registerVerify(program: Command, io: CliIO, result: { code: number }): void {
  program
    .command('verify')
    .description(
      'check the repository: index readable and every pack present with its size; with --read-data, every file decrypted and hashed',
    )
    .argument('<dest>', 'the repository')
    .option('--read-data', 'download, decrypt and hash every stored file (needs the secret key)')
    .option(
      '--read-data-subset <n/m>',
      'read only share N of M of the packs (a weekly cron covers all in M weeks)',
    )
    .option('--against <src>', 'list how the folder SRC differs from the latest snapshot')
    .option('-e, --exclude <glob>', 'with --against: paths to leave out, as for backup', collect, [])
    .addHelpText(
      'after',
      '\nExamples:\n  seb verify /mnt/backup/mail\n  seb verify /mnt/backup/mail --read-data-subset "$(( $(date +%V) % 4 + 1 ))/4"\n  seb verify /mnt/backup/mail --against ~/Mail\n',
    )
    .action(
      async (
        dest: string,
        opts: { readData?: boolean; readDataSubset?: string; against?: string; exclude: string[] },
        cmd: Command,
      ) => {
        const ctx = commandContext(cmd, io)
        const subset = opts.readDataSubset ? parseSubset(opts.readDataSubset) : undefined
        const storage = await ctx.open(dest)
        try {
          const reporter = ctx.reporter()
          const r = await explainMissingRepository(
            dest,
            verify({
              ...ctx.access(storage),
              readData: opts.readData,
              subset,
              against: opts.against,
              excludes: opts.exclude,
              progress: reporter.sink,
            }),
          ).finally(reporter.done)
          if (ctx.mode.json)
            io.out(
              `${JSON.stringify({ type: 'summary', command: 'verify', ok: r.problems.length === 0, ...r })}\n`,
            )
          else {
            for (const p of r.problems) {
              io.err(`seb: ${p.kind}: ${safeText(p.message)}\n`)
              for (const f of p.files.slice(0, 20)) io.err(`  affects ${displayPath(f)}\n`)
              if (p.files.length > 20)
                io.err(`  … and ${count(p.files.length - 20, 'more file', 'more files')}\n`)
            }
            for (const d of r.differences) io.out(`${d.change.padEnd(8)} ${displayPath(d.path)}\n`)
            if (!ctx.mode.quiet) {
              // What could not be checked is said as plainly as what was.
              for (const s of r.skipped)
                if (!s.reason.startsWith('not asked'))
                  io.out(
                    `not checked: ${CHECKS[s.check as keyof typeof CHECKS] ?? s.check}: ${safeText(s.reason)}\n`,
                  )
              const read = r.packsRead
                ? `, ${r.packsRead} read and ${count(r.filesChecked, 'file')} hashed`
                : ''
              io.out(
                `${r.problems.length ? `${count(r.problems.length, 'problem')} found` : 'no problems found'}: ${count(r.snapshots, 'snapshot')}, ${count(r.packsChecked, 'pack')} checked${read}${opts.against ? `, ${count(r.differences.length, 'difference')} from ${opts.against}` : ''}\n`,
              )
            }
          }
          const dataAsked = Boolean(opts.readData || opts.readDataSubset)
          result.code = r.problems.some((p) => p.kind === 'untrusted')
            ? ExitCode.Untrusted
            : r.problems.length
              ? ExitCode.Damaged
              : dataAsked && r.skipped.some((s) => s.check === 'data')
                ? ExitCode.Key
                : ExitCode.Ok
          if (result.code === ExitCode.Key && !ctx.mode.json)
            io.err(
              'seb: --read-data: this machine cannot decrypt the packs (no secret key or passphrase); every check that needs no decryption passed\n',
            )
        } finally {
          await storage.close()
        }
      },
    )
}
