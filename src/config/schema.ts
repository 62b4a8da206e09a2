// Why: the shape of seb's config file (docs/configuration.md) in one place. The table of settings
// drives validation, "did you mean" suggestions and the docs, so a new setting is added here once.
// Pure: no I/O.
import { UsageError } from '../errors.js'

/** ProfileSettings are the settings a profile (or the `defaults:` section) may hold, camel-cased. */
export interface ProfileSettings {
  /** The Maildir folder to back up (absolute, `~` expanded). */
  readonly source?: string
  /** The repository: a local path (absolute, `~` expanded), `sftp://…`, `user@host:path`, `s3://…`, `rclone:…`. */
  readonly destination?: string
  /** GnuPG keys (fingerprint, key id or e-mail) the repository is encrypted to. */
  readonly recipients?: readonly string[]
  /** A file holding the repository passphrase (the alternative to recipients). */
  readonly passphraseFile?: string
  /** Extra exclude globs, relative to the source. */
  readonly exclude?: readonly string[]
  /** A file of exclude globs, one per line. */
  readonly excludeFile?: string
  /** Whether the Maildir default excludes apply (src/core/excludes.ts). */
  readonly defaultExcludes?: boolean
  /** How many days deleted mail stays in the repository before compaction may drop it. */
  readonly retentionDays?: number
  /** Upload cap in bytes per second; 0 means "no limit" (written `none`, `off` or `0` in the file). */
  readonly limitUpload?: number
  /** Parallel transfers (1..64). */
  readonly connections?: number
  /** S3 endpoint URL (Ceph, MinIO, B2, Wasabi…). */
  readonly s3Endpoint?: string
  /** S3 region. */
  readonly s3Region?: string
  /** Path-style S3 addressing (Ceph, MinIO). */
  readonly s3PathStyle?: boolean
  /** The local cache folder (absolute, `~` expanded). */
  readonly cacheDir?: string
}

/** SettingName is the camel-cased name of one setting. */
export type SettingName = keyof ProfileSettings

/** SettingKind says how a setting's value is read and checked. */
export type SettingKind =
  | 'path' // a local path: string, ~ expanded, must be absolute
  | 'destination' // a repository location: a local path (as 'path') or a remote URL/scp form
  | 'string'
  | 'strings' // a list of strings (a single string is a list of one)
  | 'bool'
  | 'days' // whole number >= 0
  | 'rate' // bytes per second: 2M, 500k, 1048576; none/off/0 for no limit
  | 'connections' // whole number 1..64
  | 'url' // http(s) URL

/** SettingSpec describes one setting of the file. */
export interface SettingSpec {
  /** The key as written in the file (kebab-case). */
  readonly key: string
  /** The property in ProfileSettings. */
  readonly name: SettingName
  readonly kind: SettingKind
  /** Whether the setting may appear under `defaults:` (source and destination are per profile). */
  readonly inDefaults: boolean
  /** One line for docs and `seb config check`. */
  readonly help: string
}

/** SETTINGS lists every setting, in the order the docs show them. */
export const SETTINGS: readonly SettingSpec[] = [
  { key: 'source', name: 'source', kind: 'path', inDefaults: false, help: 'the Maildir folder to back up' },
  {
    key: 'destination',
    name: 'destination',
    kind: 'destination',
    inDefaults: false,
    help: 'the repository: a path, sftp://user@host/path, user@host:path, s3://bucket/prefix or rclone:remote:path',
  },
  {
    key: 'recipients',
    name: 'recipients',
    kind: 'strings',
    inDefaults: true,
    help: 'GnuPG keys to encrypt to (fingerprint, key id or e-mail)',
  },
  {
    key: 'passphrase-file',
    name: 'passphraseFile',
    kind: 'path',
    inDefaults: true,
    help: 'a file holding the repository passphrase (instead of recipients)',
  },
  {
    key: 'exclude',
    name: 'exclude',
    kind: 'strings',
    inDefaults: true,
    help: 'globs to leave out, relative to the source',
  },
  {
    key: 'exclude-file',
    name: 'excludeFile',
    kind: 'path',
    inDefaults: true,
    help: 'a file of globs, one per line',
  },
  {
    key: 'default-excludes',
    name: 'defaultExcludes',
    kind: 'bool',
    inDefaults: true,
    help: 'apply the Maildir default excludes (true unless set to false)',
  },
  {
    key: 'retention-days',
    name: 'retentionDays',
    kind: 'days',
    inDefaults: true,
    help: 'days deleted mail is kept before compaction may drop it',
  },
  {
    key: 'limit-upload',
    name: 'limitUpload',
    kind: 'rate',
    inDefaults: true,
    help: 'upload cap in bytes per second: 500k, 2M, 1048576; none for no limit',
  },
  {
    key: 'connections',
    name: 'connections',
    kind: 'connections',
    inDefaults: true,
    help: 'parallel transfers, 1 to 64',
  },
  {
    key: 's3-endpoint',
    name: 's3Endpoint',
    kind: 'url',
    inDefaults: true,
    help: 'S3 endpoint URL (Ceph, MinIO, B2…)',
  },
  { key: 's3-region', name: 's3Region', kind: 'string', inDefaults: true, help: 'S3 region' },
  {
    key: 's3-path-style',
    name: 's3PathStyle',
    kind: 'bool',
    inDefaults: true,
    help: 'path-style S3 addressing',
  },
  { key: 'cache-dir', name: 'cacheDir', kind: 'path', inDefaults: true, help: 'the local cache folder' },
]

/** SETTING_BY_KEY finds a setting by its file key. */
export const SETTING_BY_KEY: ReadonlyMap<string, SettingSpec> = new Map(SETTINGS.map((s) => [s.key, s]))

/** SETTING_BY_NAME finds a setting by its camel-cased name. */
export const SETTING_BY_NAME: ReadonlyMap<SettingName, SettingSpec> = new Map(
  SETTINGS.map((s) => [s.name, s]),
)

/** PROFILE_NAME is what a profile name may be made of. */
export const PROFILE_NAME = /^[A-Za-z0-9_.-]+$/

/** MAX_CONNECTIONS bounds `connections`. */
export const MAX_CONNECTIONS = 64

/** ProfileConfig is one section of the file: a profile, or the `defaults:` section. */
export interface ProfileConfig {
  /** The profile's name ('defaults' for the defaults section). */
  readonly name: string
  /** The line of the profile's name in the file (1-based; 0 when there is no file). */
  readonly line: number
  readonly settings: ProfileSettings
  /** The line each setting was written on. */
  readonly lines: Readonly<Partial<Record<SettingName, number>>>
}

/** SebConfig is a parsed and validated config file. */
export interface SebConfig {
  /** The file it was read from, or looked for (absolute); undefined when no file was involved. */
  readonly file?: string
  /** The file as shown in messages (the home folder written as ~). */
  readonly displayFile?: string
  /** Whether the file existed (false: the default location held no file, and this is an empty config). */
  readonly found: boolean
  /** The `defaults:` section (empty settings when absent). */
  readonly defaults: ProfileConfig
  /** The profiles, in file order. */
  readonly profiles: ReadonlyMap<string, ProfileConfig>
}

/** emptyConfig is the config when there is no file. */
export function emptyConfig(): SebConfig {
  return {
    found: false,
    defaults: { name: 'defaults', line: 0, settings: {}, lines: {} },
    profiles: new Map(),
  }
}

/** ConfigProblem is one thing wrong with a config file. */
export interface ConfigProblem {
  /** 1-based line in the file; 0 when the problem is with the file as a whole. */
  readonly line: number
  /** What is wrong and what to do, without the file and line prefix. */
  readonly message: string
}

/**
 * ConfigError is a config file that cannot be used. Its message is one line — the first problem as
 * `FILE:LINE: what is wrong and what to do` — and `problems` holds all of them for `seb config check`.
 */
export class ConfigError extends UsageError {
  readonly file: string
  readonly problems: readonly ConfigProblem[]
  constructor(file: string, problems: readonly ConfigProblem[]) {
    const first = problems[0] ?? { line: 0, message: 'invalid config file' }
    const more =
      problems.length > 1 ? ` (+${problems.length - 1} more: 'seb config check' lists them all)` : ''
    super(`${formatProblem(file, first)}${more}`)
    this.file = file
    this.problems = problems
  }
}
ConfigError.prototype.name = 'ConfigError'

/** formatProblem renders one problem as `FILE:LINE: message` (no line when it is 0). */
export function formatProblem(file: string, p: ConfigProblem): string {
  return p.line > 0 ? `${file}:${p.line}: ${p.message}` : `${file}: ${p.message}`
}
