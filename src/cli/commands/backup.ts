// Why: `seb backup SRC DEST`, `seb backup --profile NAME`, `seb backup --all` (and the short form
// `seb SRC DEST`): resolve the settings (config file < environment < command line), run one backup per
// profile, print its summary, and exit 3 when some source files could not be read. With --all, a
// failing profile does not stop the others; the exit code is the worst one.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { type Command, Option } from 'commander'
import {
  type Overrides,
  type ResolvedSettings,
  resolveAll,
  resolveDefaults,
  resolveProfile,
} from '../../config/resolve.js'
import { SETTING_BY_NAME, type SettingName } from '../../config/schema.js'
import { DEFAULT_EXCLUDES } from '../../core/excludes.js'
import { displayPath } from '../../core/path-bytes.js'
import { resolveRecipients } from '../../crypto/keyring.js'
import { type BackupSummary, backup } from '../../engine/backup/index.js'
import { init } from '../../engine/init.js'
import { RepositoryNotFoundError, UsageError } from '../../errors.js'
import { ExitCode, worstExitCode } from '../../exit-codes.js'
import { cacheBase } from '../../repo/cache.js'
import { type Manifest, parseManifest, readConfigObject } from '../../repo/config.js'
import type { Storage } from '../../storage/storage.js'
import { count, formatBytes, formatDuration, plural } from '../format.js'
import type { CliIO } from '../io.js'
import { checkBackupArguments, localPath, missingRepository } from '../locations.js'
import { reportError } from '../report-error.js'
import { makeReporter } from '../reporter.js'
import { type CommandContext, collect, commandContext, fromCommandLine, globalOverrides } from './context.js'
import { printCreated } from './init.js'

interface BackupFlags {
  profile?: string
  all?: boolean
  exclude: string[]
  excludeFile?: string
  defaultExcludes: boolean
  dryRun?: boolean
  allowNewSource?: boolean
  initIfMissing?: boolean
  recipient: string[]
}

/** Job is one backup to run: settings with a source and a destination. */
type Job = ResolvedSettings & { readonly source: string; readonly destination: string }

/** registerBackup adds `seb backup`. */
export function registerBackup(program: Command, io: CliIO, result: { code: number }): void {
  program
    .command('backup')
    .description(
      'back up the folder SRC into the repository DEST (or the profiles of the config file): only what changed is uploaded',
    )
    .argument('[src]', 'the mail folder (Maildir tree) to back up')
    .argument('[dest]', 'the repository')
    .option(
      '-p, --profile <name>',
      'back up profile NAME of the config file (source, destination, keys, excludes…)',
    )
    .option('-a, --all', 'back up every profile of the config file, in turn; exit with the worst exit code')
    .option(
      '-e, --exclude <glob>',
      "leave out paths matching GLOB (repeatable): with a '/' anchored at SRC's top, without one a name at any depth (docs/configuration.md, Patterns)",
      collect,
      [],
    )
    .option('--exclude-file <file>', 'read exclude globs from FILE, one per line (# comments)')
    .option('--no-default-excludes', `do not apply the Maildir defaults: ${DEFAULT_EXCLUDES.join(' ')}`)
    .option('-n, --dry-run', 'show what would be uploaded, write nothing')
    .option(
      '--allow-new-source',
      'back up a folder other than the one the repository holds (a Maildir moved on purpose)',
    )
    .option(
      '-r, --recipient <key>',
      'for a repository that does not exist yet: key to initialise it with (repeatable)',
      collect,
      [],
    )
    .addOption(new Option('--init-if-missing').hideHelp())
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  seb backup ~/Mail /mnt/backup/mail',
        '  seb backup ~/Mail /mnt/backup/mail --exclude "Junk/**" --json',
        '  seb backup --profile work             # settings from ~/.config/seb/config.yaml',
        '  seb backup --all --quiet              # every profile (cron, offlineimap postsynchook)',
        '  seb ~/Mail /mnt/backup/mail           # short form (initialises the repository on first use)',
        '',
        "With --profile or --all, a repository that does not exist yet is created with the profile's",
        'recipients (or passphrase file) and retention-days. Options and SEB_* variables override the file.',
        '',
      ].join('\n'),
    )
    .action(async (src: string | undefined, dest: string | undefined, opts: BackupFlags, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const overrides: Overrides = {
        ...globalOverrides(cmd),
        recipients: opts.recipient,
        exclude: opts.exclude,
        excludeFile: opts.excludeFile,
        defaultExcludes: fromCommandLine(cmd, 'defaultExcludes') ? opts.defaultExcludes : undefined,
      }
      if (opts.all && opts.profile) throw new UsageError('give either --profile NAME or --all, not both')
      if ((opts.all || opts.profile) && (src !== undefined || dest !== undefined)) {
        throw new UsageError(
          `give either SRC DEST or ${opts.all ? '--all' : '--profile NAME'}: the profile says where from and where to`,
        )
      }
      if (opts.all) {
        result.code = await runAll(io, ctx, resolveAll(ctx.config(), overrides, io.env), opts)
        return
      }
      let job: Job
      if (opts.profile) job = resolveProfile(ctx.config(), opts.profile, overrides, io.env)
      else {
        if (src === undefined || dest === undefined)
          throw new UsageError(
            "backup needs SRC and DEST (or --profile NAME, or --all): e.g. 'seb backup ~/Mail /mnt/backup/mail'",
          )
        job = { ...resolveDefaults(ctx.config(), overrides, io.env), source: src, destination: dest }
        noteConfigDefaults(io, ctx, job)
      }
      result.code = await runOne(io, ctx, job, opts, Boolean(opts.profile || opts.initIfMissing))
    })
}

/**
 * noteConfigDefaults says so when the config file's `defaults:` change a plain `seb backup SRC DEST`:
 * excludes, retention or any other setting applied from a file must never be a surprise.
 */
function noteConfigDefaults(io: CliIO, ctx: CommandContext, job: Job): void {
  const fromFile = Object.entries(job.origins).filter(([, origin]) => origin?.endsWith('(defaults)'))
  if (!fromFile.length || ctx.mode.quiet) return
  const file = ctx.config().displayFile
  const names = fromFile.map(([name]) => SETTING_BY_NAME.get(name as SettingName)?.key ?? name)
  const message = `applying the defaults of ${file}: ${names.join(', ')} (--no-config ignores the file)`
  if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'warning', message })}\n`)
  else io.err(`seb: note: ${message}\n`)
}

/** runAll backs up every profile in turn; one failing profile does not stop the others. */
async function runAll(
  io: CliIO,
  ctx: CommandContext,
  jobs: readonly Job[],
  opts: BackupFlags,
): Promise<number> {
  const codes: { profile: string; exitCode: number }[] = []
  for (const job of jobs) {
    if (io.signal?.aborted) break
    let code: number
    try {
      code = await runOne(io, ctx, job, opts, true)
    } catch (err) {
      code = reportError(err, io, ctx.mode.json, job.profile)
    }
    codes.push({ profile: job.profile!, exitCode: code })
    if (code === ExitCode.Interrupted) break
  }
  const exitCode = worstExitCode(codes.map((c) => c.exitCode))
  if (ctx.mode.json)
    io.out(`${JSON.stringify({ type: 'summary', command: 'backup-all', profiles: codes, exitCode })}\n`)
  else if (!ctx.mode.quiet) {
    const failed = codes.filter((c) => c.exitCode !== ExitCode.Ok)
    const detail = failed.length ? `: ${failed.map((c) => `${c.profile} exit ${c.exitCode}`).join(', ')}` : ''
    io.out(
      `${codes.length} of ${count(jobs.length, 'profile')} run, ${codes.length - failed.length} ok${detail}\n`,
    )
  }
  return exitCode
}

/** runOne runs one backup job and prints its summary; it returns the exit code. */
async function runOne(
  io: CliIO,
  ctx: CommandContext,
  job: Job,
  opts: BackupFlags,
  initIfMissing: boolean,
): Promise<number> {
  checkBackupArguments(job.source, job.destination)
  const local = localPath(job.destination)
  // A local destination whose parent folder is missing: a mistyped path or a disk not mounted. Creating
  // a repository there is not the fix, so neither a profile nor the advice creates one.
  const parentMissing = local !== null && !existsSync(path.dirname(local))
  const storage = await ctx.open(job.destination, job)
  try {
    const passphrase = ctx.passphrase(job)
    const existing = initIfMissing || opts.recipient.length ? await readManifestOrNull(storage) : undefined
    if (initIfMissing && !existing) {
      if (job.profile && parentMissing) throw missingRepository(job.destination)
      if (!job.recipients.length && !passphrase) {
        throw new UsageError(
          `${job.destination}: no repository yet; on first use give --recipient KEY (or SEB_RECIPIENT, or recipients: in the profile), or run 'seb init ${job.destination}'`,
        )
      }
      const config = await init(storage, {
        recipients: job.recipients,
        passphrase: job.recipients.length ? undefined : passphrase,
        retentionDays: job.retentionDays,
      })
      printCreated(io, ctx.mode, storage.location, config, job.profile, io.err)
    } else if (existing && opts.recipient.length)
      await warnIgnoredRecipients(io, ctx, job, existing, opts.recipient)
    const excludes = [...job.exclude, ...job.excludeFiles.flatMap(readExcludeFile)]
    const reporter = makeReporter(io, ctx.mode, { profile: job.profile })
    let summary: BackupSummary
    try {
      summary = await backup({
        source: job.source,
        storage,
        cacheBase: job.cacheDir ?? cacheBase(io.env),
        passphrase,
        excludes,
        defaultExcludes: job.defaultExcludes,
        dryRun: opts.dryRun,
        allowNewSource: opts.allowNewSource,
        acceptRollback: ctx.acceptRollback,
        progress: reporter.sink,
        signal: io.signal,
      })
    } catch (err) {
      if (err instanceof RepositoryNotFoundError && parentMissing) throw missingRepository(job.destination)
      throw err
    } finally {
      reporter.done()
    }
    printSummary(io, ctx.mode, summary, job.profile)
    return summary.unreadable.length ? ExitCode.PartialSource : ExitCode.Ok
  } finally {
    await storage.close()
  }
}

/**
 * readManifestOrNull reads the repository's settings, or null when there is no repository yet. They are
 * not authenticated here (the backup does that before using them): they only word a warning.
 */
async function readManifestOrNull(storage: Storage): Promise<Manifest | null> {
  const obj = await readConfigObject(storage).catch((err: unknown) => {
    if (err instanceof RepositoryNotFoundError) return null
    throw err
  })
  return obj && (parseManifest(obj.manifestText) ?? null)
}

/**
 * warnIgnoredRecipients says so when --recipient, which only chooses the keys of a new repository, is
 * given for one that exists and is not encrypted to those keys: the user may believe the backup is
 * readable with them. Keys that already are recipients need no word (a short form kept in a cron line).
 */
async function warnIgnoredRecipients(
  io: CliIO,
  ctx: CommandContext,
  job: Job,
  config: Manifest,
  given: readonly string[],
): Promise<void> {
  const enc = config.encryption
  let message: string
  if (enc.type === 'recipients') {
    const have = new Set(enc.recipients)
    const missing: string[] = []
    for (const id of given) {
      const keys = await resolveRecipients([id]).catch(() => [])
      if (!keys.length || !have.has(keys[0]!.fingerprint)) missing.push(id)
    }
    if (!missing.length) return
    message = `--recipient ${missing.join(', ')} ignored: the repository exists and is not encrypted to ${missing.length === 1 ? 'that key' : 'those keys'}; add ${missing.length === 1 ? 'it' : 'each'} with 'seb key add ${job.destination} ${missing[0]}'`
  } else
    message = `--recipient ${given.join(', ')} ignored: the repository exists and is encrypted with a passphrase, not to keys`
  const p = job.profile ? `${job.profile}: ` : ''
  if (ctx.mode.json)
    io.out(
      `${JSON.stringify({ type: 'warning', message, ...(job.profile ? { profile: job.profile } : {}) })}\n`,
    )
  else io.err(`seb: warning: ${p}${message}\n`)
}

function readExcludeFile(file: string): string[] {
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

/**
 * unchangedFiles counts the files of the new snapshot that this run did not add, change or rename. The
 * engine's filesUnchanged counts unchanged folders and symlinks too (2,140 "unchanged" for 2,004
 * files); the snapshot's file count gives the files alone. A dry run commits no snapshot, so it has no
 * such count: null (the line then leaves "unchanged" out).
 */
function unchangedFiles(s: BackupSummary): number | null {
  if (s.dryRun) return null
  return Math.max(0, s.files - s.filesAdded - s.filesChanged - s.filesRenamed)
}

function printSummary(
  io: CliIO,
  mode: { json: boolean; quiet: boolean },
  s: BackupSummary,
  profile?: string,
): void {
  const unchanged = unchangedFiles(s)
  if (mode.json) {
    const fixed = unchanged === null ? s : { ...s, filesUnchanged: unchanged }
    io.out(
      `${JSON.stringify({ type: 'summary', command: 'backup', ...(profile ? { profile } : {}), ...fixed })}\n`,
    )
    return
  }
  const p = profile ? `${profile}: ` : ''
  for (const u of s.unreadable) io.err(`seb: ${p}${displayPath(u.path)}: not backed up (${u.reason})\n`)
  if (mode.quiet) return
  for (const k of s.skipped) io.out(`${p}note: ${displayPath(k.path)}: skipped (${k.reason})\n`)
  const head = s.dryRun
    ? `dry run: nothing written; would store ${formatBytes(s.bytesNew)} of new content (before compression)`
    : `snapshot ${s.snapshot} saved: ${count(s.files, 'file')}, ${formatBytes(s.bytes)}`
  io.out(`${p}${head}\n`)
  io.out(
    `${p}files: ${s.filesAdded} added, ${s.filesChanged} changed, ${s.filesRenamed} renamed, ${s.filesDeleted} deleted${unchanged === null ? '' : `, ${unchanged} unchanged`}\n`,
  )
  const excluded = s.excluded.filter((e) => e.files > 0)
  if (excluded.length) {
    const total = excluded.reduce((n, e) => n + e.files, 0)
    const each = excluded.map((e) => `${e.files} by ${JSON.stringify(e.pattern)}`).join(', ')
    io.out(`${p}excluded: ${plural(total, 'file')} left out (${each})\n`)
  }
  if (s.dryRun) {
    for (const e of s.excludedPaths) io.out(`${p}  excluded: ${displayPath(e)}\n`)
    io.out(`${p}would read ${formatBytes(s.bytesRead)} and write about ${count(s.packsWritten, 'pack')}\n`)
  } else
    io.out(
      `${p}read ${formatBytes(s.bytesRead)}, uploaded ${formatBytes(s.bytesUploaded)} (${count(s.packsWritten, 'pack')} written, ${s.packsRewritten} rewritten, index ${formatBytes(s.indexBytes)}) in ${formatDuration(s.durationMs)}\n`,
    )
  if (s.unreadable.length)
    io.out(`${p}${count(s.unreadable.length, 'file')} could not be read (listed above): exit code 3\n`)
}
