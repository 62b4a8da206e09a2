// Why: what every command needs from the global options and the config file: cache folder,
// passphrase, output mode, and the destination's connection settings, resolved with one precedence
// rule (built-in < config file < environment < command line; docs/configuration.md).
import type { Command } from 'commander'
import { loadConfig } from '../../config/load.js'
import { type Overrides, type ResolvedSettings, resolveDefaults } from '../../config/resolve.js'
import { emptyConfig, type SebConfig } from '../../config/schema.js'
import { rate } from '../../config/values.js'
import { UsageError } from '../../errors.js'
import { cacheBase } from '../../repo/cache.js'
import type { RepoAccess } from '../../repo/repository.js'
import type { Storage } from '../../storage/storage.js'
import { openDestination } from '../destination.js'
import type { CliIO } from '../io.js'
import { makeReporter, type OutputMode } from '../reporter.js'
import { readPassphrase } from '../secrets.js'

/** GlobalOptions are the options every command accepts. */
export interface GlobalOptions {
  /** the config file, or false with --no-config */
  config?: string | false
  cacheDir?: string
  passphraseFile?: string
  passphraseFd?: string
  json?: boolean
  quiet?: boolean
  limitUpload?: string
  connections?: string
  s3Endpoint?: string
  s3Region?: string
  s3PathStyle?: boolean
  acceptRollback?: boolean
}

/** fromCommandLine tells whether option `name` was typed on the command line (not a default or env). */
export function fromCommandLine(cmd: Command, name: string): boolean {
  for (let c: Command | null = cmd; c; c = c.parent) {
    const src = c.getOptionValueSource(name)
    if (src !== undefined) return src === 'cli'
  }
  return false
}

/**
 * globalOverrides turns the global options typed on the command line into config-file overrides
 * (environment variables are read by the resolver itself, so they keep their place in the order).
 */
export function globalOverrides(cmd: Command): Overrides {
  const g = cmd.optsWithGlobals() as GlobalOptions
  const cli = (name: keyof GlobalOptions) => (fromCommandLine(cmd, name) ? g[name] : undefined)
  const o: { -readonly [K in keyof Overrides]: Overrides[K] } = {}
  const cacheDir = cli('cacheDir') as string | undefined
  if (cacheDir) o.cacheDir = cacheDir
  const pf = cli('passphraseFile') as string | undefined
  if (pf) o.passphraseFile = pf
  const lu = cli('limitUpload') as string | undefined
  if (lu !== undefined) {
    const r = rate(lu)
    if (r === undefined)
      throw new UsageError(
        `--limit-upload ${lu}: give bytes per second like 500k, 2M or 1048576, or none for no limit`,
      )
    o.limitUpload = r
  }
  const c = cli('connections') as string | undefined
  if (c !== undefined) {
    const n = /^\d+$/.test(c) ? Number(c) : Number.NaN
    if (!(n >= 1 && n <= 64)) throw new UsageError(`--connections ${c}: give a whole number from 1 to 64`)
    o.connections = n
  }
  const ep = cli('s3Endpoint') as string | undefined
  if (ep) o.s3Endpoint = ep
  const region = cli('s3Region') as string | undefined
  if (region) o.s3Region = region
  if (cli('s3PathStyle')) o.s3PathStyle = true
  return o
}

/** CommandContext is what a command works with. */
export interface CommandContext {
  readonly mode: OutputMode
  /** --accept-rollback: accept a destination older than this machine has seen */
  readonly acceptRollback: boolean
  /** the config file (loaded on first use; an empty config when there is none at the default place) */
  readonly config: () => SebConfig
  /** settings: the file's defaults < environment < command line (what a run without --profile uses) */
  readonly settings: () => ResolvedSettings
  readonly cacheBase: string
  /** passphrase reads the passphrase for `settings` (default: this command's) */
  readonly passphrase: (settings?: ResolvedSettings) => Buffer | undefined
  readonly reporter: () => ReturnType<typeof makeReporter>
  /**
   * access is what an engine needs to open the repository at `storage`: the cache and passphrase of
   * `settings` (default: this command's), --accept-rollback, Ctrl-C, and warnings printed through the
   * command's reporter (so that they do not break its live line)
   */
  readonly access: (storage: Storage, settings?: ResolvedSettings) => RepoAccess
  /** open opens a destination with the connection settings (default: this command's) */
  readonly open: (dest: string, settings?: ResolvedSettings) => ReturnType<typeof openDestination>
}

/** commandContext resolves the global options and config defaults of the running command. */
export function commandContext(cmd: Command, io: CliIO): CommandContext {
  const g = cmd.optsWithGlobals() as GlobalOptions
  const mode: OutputMode = { json: Boolean(g.json), quiet: Boolean(g.quiet) }
  let config: SebConfig | undefined
  let settings: ResolvedSettings | undefined
  let reporter: ReturnType<typeof makeReporter> | undefined
  const getConfig = () => {
    if (g.config === false) config ??= emptyConfig()
    config ??= loadConfig({
      configFile: fromCommandLine(cmd, 'config') ? (g.config as string) : undefined,
      env: io.env,
    })
    return config
  }
  const getSettings = () => {
    settings ??= resolveDefaults(getConfig(), globalOverrides(cmd), io.env)
    return settings
  }
  const ctx: CommandContext = {
    mode,
    acceptRollback: Boolean(g.acceptRollback),
    config: getConfig,
    settings: getSettings,
    get cacheBase() {
      return getSettings().cacheDir ?? cacheBase(io.env)
    },
    passphrase: (s = getSettings()) =>
      readPassphrase({ passphraseFile: s.passphraseFile, passphraseFd: g.passphraseFd }, {}),
    reporter: () => {
      reporter ??= makeReporter(io, mode)
      return reporter
    },
    access: (storage, s = getSettings()) => ({
      storage,
      cacheBase: s.cacheDir ?? cacheBase(io.env),
      passphrase: ctx.passphrase(s),
      acceptRollback: Boolean(g.acceptRollback),
      signal: io.signal,
      warn: (message) => ctx.reporter().sink({ type: 'warning', message }),
    }),
    open: (dest, s = getSettings()) =>
      openDestination(dest, {
        limitUpload: s.limitUpload,
        connections: s.connections,
        s3Endpoint: s.s3Endpoint,
        s3Region: s.s3Region,
        s3PathStyle: s.s3PathStyle,
        onRetry: (message) => {
          if (mode.json) io.out(`${JSON.stringify({ type: 'warning', message })}\n`)
          else if (!mode.quiet) io.err(`seb: note: ${message}\n`)
        },
      }),
  }
  return ctx
}

/** collect is commander's accumulator for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
