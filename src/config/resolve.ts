// Why: one place decides which value wins when the config file, the environment and the command line
// disagree — defaults < profile < environment < command line — so every command applies the same
// rule (docs/configuration.md, "Precedence"). Pure: the environment is passed in.
import os from 'node:os'
import { UsageError } from '../errors.js'
import {
  MAX_CONNECTIONS,
  type ProfileConfig,
  type ProfileSettings,
  type SebConfig,
  type SettingName,
} from './schema.js'
import { type Env, expandHome, isHttpUrl, rate, suggest } from './values.js'

/**
 * Overrides are settings given on the command line, already parsed. `undefined` means "not given";
 * so does an empty `recipients` list. A CLI must pass `defaultExcludes` only when --no-default-excludes
 * was actually typed (commander's default `true` would otherwise override the file). `limitUpload: 0`
 * means "no limit".
 */
export type Overrides = ProfileSettings

/** ResolvedSettings are the effective settings of one run. */
export interface ResolvedSettings {
  /** The profile these came from, if any. */
  readonly profile?: string
  readonly source?: string
  readonly destination?: string
  /** Keys to encrypt to; empty when none was set anywhere. */
  readonly recipients: readonly string[]
  readonly passphraseFile?: string
  /** Exclude globs from every layer, concatenated (defaults, profile, command line). */
  readonly exclude: readonly string[]
  /** Exclude files from every layer, concatenated (defaults, profile, command line). */
  readonly excludeFiles: readonly string[]
  /** Whether the Maildir default excludes apply (true unless turned off). */
  readonly defaultExcludes: boolean
  readonly retentionDays?: number
  /** Upload cap in bytes per second; undefined means no limit. */
  readonly limitUpload?: number
  readonly connections?: number
  readonly s3Endpoint?: string
  readonly s3Region?: string
  readonly s3PathStyle?: boolean
  readonly cacheDir?: string
  /**
   * Where each setting's winning value came from, for messages and `seb config check`: `FILE:LINE`,
   * `FILE:LINE (defaults)`, the environment variable's name, or `command line`.
   */
  readonly origins: Readonly<Partial<Record<SettingName, string>>>
}

/** ResolvedProfile is ResolvedSettings for a named profile, which always has a source and a destination. */
export interface ResolvedProfile extends ResolvedSettings {
  readonly profile: string
  readonly source: string
  readonly destination: string
}

/** ENV_VARS maps each environment variable seb reads to the setting it overrides. */
export const ENV_VARS: Readonly<Record<string, SettingName>> = {
  SEB_RECIPIENT: 'recipients',
  SEB_PASSPHRASE_FILE: 'passphraseFile',
  SEB_LIMIT_UPLOAD: 'limitUpload',
  SEB_CONNECTIONS: 'connections',
  SEB_S3_ENDPOINT: 's3Endpoint',
  SEB_CACHE_DIR: 'cacheDir',
}

/** allProfiles lists the profile names in file order (what `seb backup --all` runs). */
export function allProfiles(config: SebConfig): string[] {
  return [...config.profiles.keys()]
}

/**
 * resolveProfile gives the effective settings of profile `name`: defaults < profile < environment <
 * `overrides` (the command line). An unknown profile is a UsageError listing the ones that exist;
 * a bad environment value is a UsageError naming the variable.
 */
export function resolveProfile(
  config: SebConfig,
  name: string,
  overrides: Overrides = {},
  env: Env = process.env,
  home: string = os.homedir(),
): ResolvedProfile {
  const profile = config.profiles.get(name)
  if (!profile) throw new UsageError(unknownProfile(config, name))
  const r = merge(config, profile, overrides, env, home)
  // The loader guarantees both for every profile; overrides may replace but not remove them.
  return { ...r, profile: name, source: r.source!, destination: r.destination! }
}

/**
 * resolveDefaults gives the effective settings of a run without --profile (`seb backup SRC DEST`):
 * the file's defaults < environment < `overrides`.
 */
export function resolveDefaults(
  config: SebConfig,
  overrides: Overrides = {},
  env: Env = process.env,
  home: string = os.homedir(),
): ResolvedSettings {
  return merge(config, undefined, overrides, env, home)
}

/**
 * resolveAll resolves every profile, in file order, for `--all`. Overrides apply to each; a source or
 * destination override is refused (each profile has its own), and so is a file with no profiles.
 */
export function resolveAll(
  config: SebConfig,
  overrides: Overrides = {},
  env: Env = process.env,
  home: string = os.homedir(),
): ResolvedProfile[] {
  if (overrides.source !== undefined || overrides.destination !== undefined)
    throw new UsageError(
      '--all backs up every profile to its own destination: do not give SRC or DEST with it',
    )
  const names = allProfiles(config)
  if (names.length === 0) throw new UsageError(`--all: ${noProfiles(config)}`)
  return names.map((n) => resolveProfile(config, n, overrides, env, home))
}

/** envSettings reads the SEB_* environment variables that override the file (ENV_VARS). */
export function envSettings(env: Env, home: string = os.homedir()): ProfileSettings {
  const get = (k: string) => {
    const v = env[k]?.trim()
    return v ? v : undefined
  }
  const out: { -readonly [K in keyof ProfileSettings]: ProfileSettings[K] } = {}
  const recipients = get('SEB_RECIPIENT')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (recipients?.length) out.recipients = recipients
  const pf = get('SEB_PASSPHRASE_FILE')
  if (pf) out.passphraseFile = expandHome(pf, home)
  const lu = get('SEB_LIMIT_UPLOAD')
  if (lu !== undefined) {
    const r = rate(lu)
    if (r === undefined)
      throw new UsageError(
        `SEB_LIMIT_UPLOAD=${lu}: must be bytes per second like 500k, 2M or 1048576, or none for no limit`,
      )
    out.limitUpload = r
  }
  const c = get('SEB_CONNECTIONS')
  if (c !== undefined) {
    const n = /^\d+$/.test(c) ? Number(c) : Number.NaN
    if (!(n >= 1 && n <= MAX_CONNECTIONS))
      throw new UsageError(`SEB_CONNECTIONS=${c}: must be a whole number from 1 to ${MAX_CONNECTIONS}`)
    out.connections = n
  }
  const ep = get('SEB_S3_ENDPOINT')
  if (ep !== undefined) {
    if (!isHttpUrl(ep))
      throw new UsageError(`SEB_S3_ENDPOINT=${ep}: must be a URL like https://s3.example.com`)
    out.s3Endpoint = ep
  }
  const cd = get('SEB_CACHE_DIR')
  if (cd) out.cacheDir = expandHome(cd, home)
  return out
}

interface Layer {
  readonly settings: ProfileSettings
  readonly origin: (name: SettingName) => string
}

function merge(
  config: SebConfig,
  profile: ProfileConfig | undefined,
  overrides: Overrides,
  env: Env,
  home: string,
): ResolvedSettings {
  const file = config.displayFile ?? 'config file'
  const fileLayer = (sec: ProfileConfig, suffix: string): Layer => ({
    settings: sec.settings,
    origin: (n) => `${file}:${sec.lines[n] ?? sec.line}${suffix}`,
  })
  const envOrigin = Object.fromEntries(Object.entries(ENV_VARS).map(([k, v]) => [v, k])) as Partial<
    Record<SettingName, string>
  >
  const cli = { ...overrides, recipients: overrides.recipients?.length ? overrides.recipients : undefined }
  const layers: Layer[] = [
    fileLayer(config.defaults, ' (defaults)'),
    ...(profile ? [fileLayer(profile, '')] : []),
    { settings: envSettings(env, home), origin: (n) => envOrigin[n] ?? 'environment' },
    { settings: cli, origin: () => 'command line' },
  ]

  const out: Record<string, unknown> = {}
  const origins: Partial<Record<SettingName, string>> = {}
  const exclude: string[] = []
  const excludeFiles: string[] = []
  for (const layer of layers) {
    const s = layer.settings
    // recipients and passphrase-file are alternatives: the layer that sets one decides for both.
    if (s.recipients !== undefined || s.passphraseFile !== undefined) {
      out.recipients = undefined
      out.passphraseFile = undefined
      delete origins.recipients
      delete origins.passphraseFile
    }
    for (const [k, v] of Object.entries(s) as [SettingName, unknown][]) {
      if (v === undefined) continue
      if (k === 'exclude') {
        exclude.push(...(v as string[]))
        if ((v as string[]).length) origins.exclude = layer.origin(k)
      } else if (k === 'excludeFile') {
        excludeFiles.push(v as string)
        origins.excludeFile = layer.origin(k)
      } else {
        out[k] = v
        origins[k] = layer.origin(k)
      }
    }
  }
  const limit = out.limitUpload as number | undefined
  return {
    ...(out as ProfileSettings),
    ...(profile ? { profile: profile.name } : {}),
    recipients: (out.recipients as string[] | undefined) ?? [],
    exclude,
    excludeFiles,
    defaultExcludes: (out.defaultExcludes as boolean | undefined) ?? true,
    limitUpload: limit ? limit : undefined,
    origins,
  }
}

function noProfiles(config: SebConfig): string {
  const file = config.displayFile
  if (file === undefined)
    return 'there is no config file; create one with your profiles (see docs/configuration.md)'
  return config.found
    ? `${file} has no profiles; add one under "profiles:" (see docs/configuration.md)`
    : `there is no config file (${file}); create one with your profiles (see docs/configuration.md)`
}

function unknownProfile(config: SebConfig, name: string): string {
  const names = allProfiles(config)
  if (names.length === 0) return `no profile ${JSON.stringify(name)}: ${noProfiles(config)}`
  const s = suggest(name, names)
  const hint = s ? `did you mean ${JSON.stringify(s)}? ` : ''
  return `no profile ${JSON.stringify(name)} in ${config.displayFile ?? 'the config file'} (${hint}profiles: ${names.join(', ')})`
}
