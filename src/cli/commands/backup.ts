// Why: `seb backup SRC DEST` (and the short form `seb SRC DEST`): one backup run, its summary, and
// exit code 3 when some source files could not be read.
import { readFileSync } from 'node:fs'
import { type Command, Option } from 'commander'
import { type BackupSummary, backup } from '../../engine/backup.js'
import { init } from '../../engine/init.js'
import { DEFAULT_EXCLUDES } from '../../core/excludes.js'
import { RepositoryNotFoundError, UsageError } from '../../errors.js'
import { readConfig } from '../../repo/config.js'
import { displayPath } from '../../core/path-bytes.js'
import { ExitCode } from '../exit-codes.js'
import { formatBytes, formatDuration } from '../format.js'
import type { CliIO } from '../io.js'
import { collect, commandContext } from './context.js'

interface BackupFlags {
  exclude: string[]
  excludeFile?: string
  defaultExcludes: boolean
  dryRun?: boolean
  initIfMissing?: boolean
  recipient: string[]
}

/** registerBackup adds `seb backup`. */
export function registerBackup(program: Command, io: CliIO, result: { code: number }): void {
  program
    .command('backup')
    .description('back up the folder SRC into the repository DEST: only what changed is uploaded')
    .argument('<src>', 'the mail folder (Maildir tree) to back up')
    .argument('<dest>', 'the repository')
    .option('-e, --exclude <glob>', 'leave out paths matching GLOB (relative to SRC; repeatable)', collect, [])
    .option('--exclude-file <file>', 'read exclude globs from FILE, one per line (# comments)')
    .option('--no-default-excludes', `do not apply the Maildir defaults: ${DEFAULT_EXCLUDES.join(' ')}`)
    .option('-n, --dry-run', 'show what would be uploaded, write nothing')
    .option('-r, --recipient <key>', 'with the short form on first use: key to initialise the repository with', collect, [])
    .addOption(new Option('--init-if-missing').hideHelp())
    .addHelpText('after', '\nExamples:\n  seb backup ~/Mail /mnt/backup/mail\n  seb backup ~/Mail /mnt/backup/mail --exclude "Junk/**" --json\n  seb ~/Mail /mnt/backup/mail            # short form\n')
    .action(async (src: string, dest: string, opts: BackupFlags, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const passphrase = ctx.passphrase()
        if (opts.initIfMissing) {
          const exists = await readConfig(storage).then(() => true, (err: unknown) => {
            if (err instanceof RepositoryNotFoundError) return false
            throw err
          })
          if (!exists) {
            const recipients = opts.recipient.length ? opts.recipient : (io.env.SEB_RECIPIENT?.split(',').filter(Boolean) ?? [])
            if (!recipients.length && !passphrase) throw new UsageError(`${dest}: no repository yet; on first use give --recipient KEY (or SEB_RECIPIENT), or run 'seb init ${dest}'`)
            await init(storage, { recipients, passphrase: recipients.length ? undefined : passphrase })
          }
        }
        const excludes = [...opts.exclude, ...readExcludeFile(opts.excludeFile)]
        const reporter = ctx.reporter()
        let summary: BackupSummary
        try {
          summary = await backup({ source: src, storage, cacheBase: ctx.cacheBase, passphrase, excludes, defaultExcludes: opts.defaultExcludes, dryRun: opts.dryRun, progress: reporter.sink, signal: io.signal })
        } finally {
          reporter.done()
        }
        printSummary(io, ctx.mode, summary)
        result.code = summary.unreadable.length ? ExitCode.PartialSource : ExitCode.Ok
      } finally {
        await storage.close()
      }
    })
}

function readExcludeFile(file?: string): string[] {
  if (!file) return []
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`${file}: cannot read the exclude file (${(err as NodeJS.ErrnoException).code})`)
  }
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
}

function printSummary(io: CliIO, mode: { json: boolean; quiet: boolean }, s: BackupSummary): void {
  if (mode.json) {
    io.out(`${JSON.stringify({ type: 'summary', command: 'backup', ...s })}\n`)
    return
  }
  for (const u of s.unreadable) io.err(`seb: ${displayPath(u.path)}: not backed up (${u.reason})\n`)
  if (mode.quiet) return
  for (const k of s.skipped) io.out(`note: ${displayPath(k.path)}: skipped (${k.reason})\n`)
  const head = s.dryRun ? `dry run: nothing written; would store ${formatBytes(s.bytesNew)} of new content (before compression)` : `snapshot ${s.snapshot} saved: ${s.files} files, ${formatBytes(s.bytes)}`
  io.out(`${head}\n`)
  io.out(`files: ${s.filesAdded} added, ${s.filesChanged} changed, ${s.filesRenamed} renamed, ${s.filesDeleted} deleted, ${s.filesUnchanged} unchanged\n`)
  if (!s.dryRun) io.out(`read ${formatBytes(s.bytesRead)}, uploaded ${formatBytes(s.bytesUploaded)} (${s.packsWritten} packs written, ${s.packsRewritten} rewritten, index ${formatBytes(s.indexBytes)}) in ${formatDuration(s.durationMs)}\n`)
  if (s.unreadable.length) io.out(`${s.unreadable.length} files could not be read (listed above): exit code 3\n`)
}
