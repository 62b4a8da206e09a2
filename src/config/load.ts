// Why: the config file (docs/configuration.md) is written by hand, so every mistake in it must come
// back as one line naming the file, the line and what to do — never a stack trace or a silently
// ignored setting. Parsing and validation are pure (parseConfig); reading the file is the only I/O,
// at the edge (loadConfigFile, loadConfig, checkConfigPaths).
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type * as Yaml from 'yaml'
import type { LineCounter, Node, Pair, YAMLMap } from 'yaml'
import { UsageError } from '../errors.js'
import { parseRate } from '../storage/limit.js'
import {
  ConfigError,
  type ConfigProblem,
  emptyConfig,
  MAX_CONNECTIONS,
  PROFILE_NAME,
  type ProfileConfig,
  type ProfileSettings,
  SETTING_BY_KEY,
  SETTINGS,
  type SebConfig,
  type SettingName,
  type SettingSpec,
} from './schema.js'

/**
 * yaml is loaded on first use: most runs have no config file, and loading the library cost some 20 ms
 * of every run's start (importing seb: 115 ms → 90 ms, mean of 15; a run with nothing changed takes about a second).
 */
let yamlLib: typeof Yaml | null = null
function yaml(): typeof Yaml {
  yamlLib ??= createRequire(import.meta.url)('yaml') as typeof Yaml
  return yamlLib
}
const isAlias = ((n: unknown) => yaml().isAlias(n)) as typeof Yaml.isAlias
const isMap = ((n: unknown) => yaml().isMap(n)) as typeof Yaml.isMap
const isScalar = ((n: unknown) => yaml().isScalar(n)) as typeof Yaml.isScalar
const isSeq = ((n: unknown) => yaml().isSeq(n)) as typeof Yaml.isSeq

/** Env is the part of the environment seb's config reads. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * configPath is where the config file is: $SEB_CONFIG, else $XDG_CONFIG_HOME/seb/config.yaml, else
 * ~/.config/seb/config.yaml.
 */
export function configPath(env: Env, home: string = os.homedir()): string {
  if (env.SEB_CONFIG) return path.resolve(expandHome(env.SEB_CONFIG, home))
  if (env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME))
    return path.join(env.XDG_CONFIG_HOME, 'seb', 'config.yaml')
  return path.join(home, '.config', 'seb', 'config.yaml')
}

/** expandHome turns a leading `~` or `~/` into the home folder; anything else is returned as is. */
export function expandHome(p: string, home: string = os.homedir()): string {
  if (p === '~') return home
  if (p.startsWith('~/')) return path.join(home, p.slice(2))
  return p
}

/** tildePath shows a path under the home folder as `~/…` (for messages). */
export function tildePath(p: string, home: string = os.homedir()): string {
  if (home && home !== '/' && (p === home || p.startsWith(home + path.sep))) return `~${p.slice(home.length)}`
  return p
}

/** LoadOptions tune loadConfigFile. */
export interface LoadOptions {
  /** A missing file is an error (a file given explicitly) rather than an empty config (the default location). */
  readonly required?: boolean
  /** The home folder for `~` (default: os.homedir()). */
  readonly home?: string
}

/**
 * loadConfigFile reads and validates the config file at `file`. A missing file is an empty config
 * unless `required`. Throws ConfigError (a UsageError) naming the file and line of the first problem.
 */
export function loadConfigFile(file: string, options: LoadOptions = {}): SebConfig {
  const home = options.home ?? os.homedir()
  const abs = path.resolve(expandHome(file, home))
  const shown = tildePath(abs, home)
  let text: string
  try {
    text = readFileSync(abs, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !options.required) return { ...emptyConfig(), file: abs, displayFile: shown }
    const why =
      code === 'ENOENT'
        ? 'no such config file (create it as docs/configuration.md shows, or fix --config / SEB_CONFIG)'
        : code === 'EACCES'
          ? 'cannot read the config file: permission denied (check its owner and mode)'
          : code === 'EISDIR'
            ? 'is a folder, not a config file (give the path of config.yaml)'
            : `cannot read the config file (${code ?? String(err)})`
    throw new UsageError(`${shown}: ${why}`)
  }
  return parseConfig(text, { file: abs, home })
}

/**
 * loadConfig finds and loads the config file for a run: `configFile` (from --config) or $SEB_CONFIG
 * must exist; the default XDG location may be missing (an empty config).
 */
export function loadConfig(options: { configFile?: string; env: Env; home?: string }): SebConfig {
  const home = options.home ?? os.homedir()
  if (options.configFile) return loadConfigFile(options.configFile, { required: true, home })
  return loadConfigFile(configPath(options.env, home), { required: Boolean(options.env.SEB_CONFIG), home })
}

/** ParseOptions say where the text came from. */
export interface ParseOptions {
  /** The file's absolute path (for messages and SebConfig.file). */
  readonly file: string
  /** The home folder for `~` (default: os.homedir()). */
  readonly home?: string
}

/**
 * parseConfig parses and validates the text of a config file. Pure. Throws ConfigError listing every
 * problem found (its message is the first one, with its line).
 */
export function parseConfig(text: string, options: ParseOptions): SebConfig {
  const home = options.home ?? os.homedir()
  const displayFile = tildePath(options.file, home)
  const { LineCounter, parseDocument } = yaml()
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true })
  const firstError = doc.errors[0]
  if (firstError) {
    // Only the first: later syntax errors are usually echoes of it.
    const line = lc.linePos(firstError.pos[0]).line
    throw new ConfigError(displayFile, [{ line, message: yamlMessage(firstError.code, firstError.message) }])
  }
  const v = new Validator(lc, home, (n) => (isAlias(n) ? (n.resolve(doc) as Node | undefined) : n))
  const config = v.top(doc.contents as Node | null, options.file, displayFile)
  if (v.problems.length) throw new ConfigError(displayFile, sortProblems(v.problems))
  return config
}

function sortProblems(ps: ConfigProblem[]): ConfigProblem[] {
  return ps
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.line - b.p.line || a.i - b.i)
    .map(({ p }) => p)
}

function yamlMessage(code: string, message: string): string {
  switch (code) {
    case 'TAB_AS_INDENT':
      return 'YAML syntax error: a tab is used for indentation; indent with spaces'
    case 'DUPLICATE_KEY':
      return 'YAML syntax error: this key is written twice in the same section; keep one'
    case 'MULTIPLE_DOCS':
      return "YAML syntax error: the file holds more than one document ('---'); keep one"
    case 'MISSING_CHAR':
      return /quote/i.test(message)
        ? 'YAML syntax error: a quote opened on this line or above is never closed'
        : `YAML syntax error: ${message.replace(/\.$/, '')} (a bracket opened on this line or above is not closed)`
    default:
      return `YAML syntax error: ${message.replace(/\.$/, '')} (check the indentation, colons and quotes here)`
  }
}

/** Validator walks the YAML tree, collecting problems with their lines. */
class Validator {
  readonly problems: ConfigProblem[] = []
  constructor(
    private readonly lc: LineCounter,
    private readonly home: string,
    private readonly deref: (n: Node) => Node | undefined,
  ) {}

  private node(n: unknown): Node | undefined {
    if (n === null || n === undefined) return undefined
    return this.deref(n as Node)
  }

  private lineOf(n: unknown, fallback = 0): number {
    const range = (n as Node | null | undefined)?.range
    return range ? this.lc.linePos(range[0]).line : fallback
  }

  private problem(line: number, message: string): void {
    this.problems.push({ line, message })
  }

  top(contents: Node | null, file: string, displayFile: string): SebConfig {
    const empty = emptyConfig()
    const root = this.node(contents)
    if (!root || (isScalar(root) && root.value === null)) return { ...empty, file, displayFile, found: true }
    if (!isMap(root)) {
      this.problem(
        this.lineOf(root, 1),
        'the file must be a mapping with "defaults:" and "profiles:" sections (see docs/configuration.md)',
      )
      return empty
    }
    let defaults: ProfileConfig = empty.defaults
    const profiles = new Map<string, ProfileConfig>()
    for (const pair of root.items) {
      const key = this.keyOf(pair, 'top-level key')
      if (key === undefined) continue
      const keyLine = this.lineOf(pair.key)
      const value = this.node(pair.value)
      if (key.text === 'defaults') {
        defaults = this.section(value, 'defaults', keyLine, true)
      } else if (key.text === 'profiles') {
        this.profiles(value, keyLine, profiles)
      } else {
        this.problem(keyLine, unknownTopLevel(key.text, value))
      }
    }
    return { file, displayFile, found: true, defaults, profiles }
  }

  private profiles(value: Node | undefined, line: number, into: Map<string, ProfileConfig>): void {
    if (!value || (isScalar(value) && value.value === null)) return
    if (!isMap(value)) {
      this.problem(
        line,
        `profiles: must be a mapping of profile names to their settings (got ${got(value)}); indent each profile under "profiles:"`,
      )
      return
    }
    let previous: string | undefined
    for (const pair of value.items) {
      const key = this.keyOf(pair, 'profile name')
      if (key === undefined) continue
      const keyLine = this.lineOf(pair.key)
      const v = this.node(pair.value)
      if (SETTING_BY_KEY.has(key.text) && !isMap(v)) {
        // `source:` indented like a profile name: it belongs to the profile above.
        const to = previous ? `under "${previous}:"` : 'under its profile'
        this.problem(keyLine, `"${key.text}" is a setting, not a profile: indent it ${to}`)
        if (previous) {
          const missing = `profile "${previous}" has no ${key.text}:`
          const i = this.problems.findIndex((p) => p.message.startsWith(missing))
          if (i >= 0) this.problems.splice(i, 1)
        }
        continue
      }
      previous = key.text
      if (!PROFILE_NAME.test(key.text)) {
        this.problem(
          keyLine,
          `profile name ${JSON.stringify(key.text)}: use only letters, digits, ".", "_" and "-" (it is typed as --profile NAME)`,
        )
        continue
      }
      into.set(key.text, this.section(v, key.text, keyLine, false))
    }
  }

  /** section reads the settings of `defaults:` or of one profile. */
  private section(value: Node | undefined, name: string, line: number, isDefaults: boolean): ProfileConfig {
    const label = isDefaults ? 'defaults' : `profiles.${name}`
    const where = isDefaults ? 'in "defaults"' : `in profile "${name}"`
    const settings: Record<string, unknown> = {}
    const lines: Partial<Record<SettingName, number>> = {}
    const suggested = new Set<string>() // settings an unknown key was taken for: not also "missing"
    const result: ProfileConfig = { name, line, settings: settings as ProfileSettings, lines }
    if (value && !(isScalar(value) && value.value === null)) {
      if (!isMap(value)) {
        this.problem(
          this.lineOf(value, line),
          `${label}: must be a mapping of settings like "source: ~/Mail" (got ${got(value)})`,
        )
        return result
      }
      for (const pair of value.items) {
        const key = this.keyOf(pair, 'setting name')
        if (key === undefined) continue
        const keyLine = this.lineOf(pair.key)
        const spec = SETTING_BY_KEY.get(key.text)
        if (!spec) {
          const meant = suggest(
            key.text,
            SETTINGS.map((x) => x.key),
          )
          if (meant) suggested.add(meant)
          this.problem(keyLine, unknownSetting(key.text, where, meant))
          continue
        }
        if (isDefaults && !spec.inDefaults) {
          this.problem(
            keyLine,
            `defaults.${spec.key}: ${spec.key} cannot be a default, each profile has its own; move it into the profiles`,
          )
          continue
        }
        const v = this.value(spec, this.node(pair.value), keyLine, `${label}.${spec.key}`)
        if (v !== undefined) {
          settings[spec.name] = v
          lines[spec.name] = keyLine
        }
      }
    }
    if (!isDefaults) {
      if (settings.source === undefined && !this.written(value, 'source') && !suggested.has('source'))
        this.problem(
          line,
          `profile "${name}" has no source: add "source: ~/Mail/${name}" (the Maildir folder to back up)`,
        )
      if (
        settings.destination === undefined &&
        !this.written(value, 'destination') &&
        !suggested.has('destination')
      )
        this.problem(
          line,
          `profile "${name}" has no destination: add "destination: PATH-OR-URL" (the repository to back up to)`,
        )
    }
    if (settings.recipients !== undefined && settings.passphraseFile !== undefined) {
      const at = Math.max(lines.recipients ?? 0, lines.passphraseFile ?? 0)
      this.problem(
        at,
        `${label}: sets both recipients and passphrase-file; keep one (recipients for GnuPG keys, passphrase-file for a passphrase)`,
      )
    }
    return result
  }

  /** written tells whether `key` is in the section (a rejected value is reported once, not also as missing). */
  private written(value: Node | undefined, key: string): boolean {
    if (!value || !isMap(value)) return false
    return (value as YAMLMap).items.some((p) => {
      const k = this.node(p.key)
      return isScalar(k) && String(k.value) === key
    })
  }

  private keyOf(pair: Pair, what: string): { text: string } | undefined {
    const k = this.node(pair.key)
    if (isScalar(k) && k.value !== null && typeof k.value !== 'object') {
      return { text: typeof k.value === 'string' ? k.value : (k.source ?? String(k.value)) }
    }
    this.problem(
      this.lineOf(pair.key, this.lineOf(pair.value)),
      `a ${what} must be plain text (got ${got(k)})`,
    )
    return undefined
  }

  /** value reads one setting's value, or reports why it cannot and returns undefined. */
  private value(spec: SettingSpec, node: Node | undefined, keyLine: number, label: string): unknown {
    const bad = (what: string, n: Node | undefined = node, line = keyLine): undefined => {
      this.problem(line, `${label}: ${what} (got ${got(n)})`)
      return undefined
    }
    switch (spec.kind) {
      case 'path': {
        const s = text(node)
        if (s === undefined) return bad('must be a path')
        return this.path(s, keyLine, label, false)
      }
      case 'destination': {
        const s = text(node)
        if (s === undefined)
          return bad('must be a path or a URL like sftp://user@host/path or s3://bucket/prefix')
        return this.path(s, keyLine, label, true)
      }
      case 'string': {
        const s = text(node)
        if (s === undefined) return bad('must be text')
        return s
      }
      case 'url': {
        const s = text(node)
        if (s === undefined || !isHttpUrl(s)) return bad('must be a URL like https://s3.example.com')
        return s
      }
      case 'strings': {
        const what =
          spec.name === 'recipients'
            ? 'must be a list of GnuPG keys like [alice@example.org] (fingerprint, key id or e-mail)'
            : 'must be a list of globs like ["Junk/**", "Trash/**"]'
        if (node && isSeq(node)) {
          const out: string[] = []
          let ok = true
          for (const item of node.items) {
            const n = this.node(item)
            const s = text(n)
            if (s === undefined) {
              bad(
                `every item ${what.replace(/^must be a list of /, 'must be one of ')}`,
                n,
                this.lineOf(n, keyLine),
              )
              ok = false
            } else out.push(s)
          }
          if (!ok) return undefined
          if (spec.name === 'recipients' && out.length === 0)
            return bad('must list at least one key (or remove the setting)')
          return out
        }
        const s = text(node)
        if (s === undefined) return bad(what)
        return [s]
      }
      case 'bool': {
        const b = bool(node)
        if (b === undefined) return bad('must be true or false')
        return b
      }
      case 'days': {
        const n = wholeNumber(node)
        if (n === undefined || n < 0) return bad('must be a whole number of days')
        return n
      }
      case 'connections': {
        const n = wholeNumber(node)
        if (n === undefined || n < 1 || n > MAX_CONNECTIONS)
          return bad(`must be a whole number from 1 to ${MAX_CONNECTIONS}`)
        return n
      }
      case 'rate': {
        const r = node && isScalar(node) ? rate(node.value) : undefined
        if (r === undefined)
          return bad('must be bytes per second like 500k, 2M or 1048576, or none for no limit')
        return r
      }
    }
  }

  private path(s: string, line: number, label: string, remoteAllowed: boolean): string | undefined {
    if (remoteAllowed && isRemote(s)) return s
    if (/^~[^/]/.test(s)) {
      this.problem(line, `${label}: ${JSON.stringify(s)}: only ~ and ~/ are expanded; write the full path`)
      return undefined
    }
    const p = expandHome(s, this.home)
    if (!path.isAbsolute(p)) {
      this.problem(
        line,
        `${label}: ${JSON.stringify(s)} is a relative path; write an absolute path or one starting with ~/` +
          (remoteAllowed ? ' (or a remote like user@host:path)' : ''),
      )
      return undefined
    }
    return path.normalize(p)
  }
}

/** isRemote tells whether a destination is a URL, an rclone remote or the scp form user@host:path. */
export function isRemote(dest: string): boolean {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(dest)) return true
  if (dest.startsWith('rclone:')) return true
  const colon = dest.indexOf(':')
  const slash = dest.indexOf('/')
  return colon > 0 && (slash < 0 || colon < slash) && !dest.startsWith('~')
}

/** isHttpUrl tells whether s is an http(s) URL. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:'
  } catch {
    return false
  }
}

/** text is a scalar as text: numbers and booleans as written (a key id 0x1234ABCD stays text). */
function text(n: Node | undefined): string | undefined {
  if (!n || !isScalar(n) || n.value === null || typeof n.value === 'object') return undefined
  const s = typeof n.value === 'string' ? n.value : (n.source ?? String(n.value))
  return s.trim() === '' ? undefined : s.trim()
}

function bool(n: Node | undefined): boolean | undefined {
  if (!n || !isScalar(n)) return undefined
  if (typeof n.value === 'boolean') return n.value
  if (typeof n.value !== 'string') return undefined
  const s = n.value.toLowerCase()
  if (s === 'yes' || s === 'on' || s === 'true') return true
  if (s === 'no' || s === 'off' || s === 'false') return false
  return undefined
}

function wholeNumber(n: Node | undefined): number | undefined {
  if (!n || !isScalar(n)) return undefined
  if (typeof n.value === 'number') return Number.isSafeInteger(n.value) ? n.value : undefined
  if (typeof n.value === 'string' && /^\s*\d+\s*$/.test(n.value)) return Number(n.value)
  return undefined
}

/**
 * rate reads an upload limit: a number of bytes per second, a size with a unit (500k, 2M), or
 * none/off/unlimited/0 for no limit (returned as 0). Undefined when it is none of these.
 */
export function rate(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined
  if (typeof value !== 'string') return undefined
  const s = value.trim().toLowerCase()
  if (s === 'none' || s === 'off' || s === 'unlimited' || s === 'no' || /^0+$/.test(s)) return 0
  try {
    return parseRate(s)
  } catch {
    return undefined
  }
}

/** got describes a value for "(got …)" in messages. */
function got(n: Node | undefined | null): string {
  if (!n) return 'nothing'
  if (isScalar(n)) {
    if (n.value === null) return 'nothing'
    if (typeof n.value === 'string') return JSON.stringify(n.value)
    return n.source ?? String(n.value)
  }
  if (isSeq(n)) return 'a list'
  if (isMap(n)) return 'a mapping'
  return 'something else'
}

function unknownSetting(key: string, where: string, s: string | undefined): string {
  return s
    ? `unknown setting ${JSON.stringify(key)} ${where} (did you mean ${JSON.stringify(s)}?)`
    : `unknown setting ${JSON.stringify(key)} ${where} (known: ${SETTINGS.map((x) => x.key).join(', ')})`
}

function unknownTopLevel(key: string, value: Node | undefined): string {
  const s = suggest(key, ['defaults', 'profiles'])
  if (s) return `unknown section ${JSON.stringify(key)} (did you mean ${JSON.stringify(s)}?)`
  if (
    SETTING_BY_KEY.has(key) ||
    suggest(
      key,
      SETTINGS.map((x) => x.key),
    )
  )
    return `${JSON.stringify(key)} is a setting: put it under "defaults:" (for every profile) or under a profile in "profiles:"`
  if (value && isMap(value))
    return `unknown section ${JSON.stringify(key)}: if it is a profile, indent it under a "profiles:" line`
  return `unknown section ${JSON.stringify(key)}: the file has only "defaults:" and "profiles:" (see docs/configuration.md)`
}

const ALIASES: Readonly<Record<string, string>> = {
  src: 'source',
  maildir: 'source',
  dest: 'destination',
  target: 'destination',
  repo: 'destination',
  repository: 'destination',
  recipient: 'recipients',
  key: 'recipients',
  keys: 'recipients',
  excludes: 'exclude',
  retention: 'retention-days',
  passphrase: 'passphrase-file',
  endpoint: 's3-endpoint',
  region: 's3-region',
  profile: 'profiles',
  default: 'defaults',
}

/** suggest finds the known word a mistyped one most likely meant, or undefined. */
export function suggest(word: string, known: readonly string[]): string | undefined {
  const w = word.toLowerCase().replace(/[_ ]/g, '-')
  const alias = ALIASES[w]
  if (alias && known.includes(alias)) return alias
  if (known.includes(w)) return w
  let best: string | undefined
  let bestD = Number.POSITIVE_INFINITY
  for (const k of known) {
    const d = distance(w, k)
    if (d < bestD) {
      best = k
      bestD = d
    }
  }
  if (best !== undefined && bestD <= Math.max(1, Math.floor(w.length / 3))) return best
  if (w.length >= 4) return known.find((k) => k.startsWith(w) || k.replace(/-/g, '') === w.replace(/-/g, ''))
  return undefined
}

/** distance is the optimal-string-alignment edit distance (a swap of two letters counts as one). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...Array<number>(b.length).fill(0),
  ])
  for (let j = 0; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/**
 * checkConfigPaths looks at the files a valid config names — does each source folder exist, can the
 * exclude and passphrase files be read, is a passphrase file private — for `seb config check`.
 * Returns the problems found (with their lines); never throws for a missing file.
 */
export function checkConfigPaths(config: SebConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const sections = [config.defaults, ...config.profiles.values()]
  for (const sec of sections) {
    const label = sec === config.defaults ? 'defaults' : `profiles.${sec.name}`
    const s = sec.settings
    const at = (name: SettingName) => sec.lines[name] ?? sec.line
    if (s.source !== undefined) {
      const st = statOrUndefined(s.source)
      if (!st) problems.push({ line: at('source'), message: `${label}.source: ${s.source} does not exist` })
      else if (!st.isDirectory())
        problems.push({ line: at('source'), message: `${label}.source: ${s.source} is not a folder` })
    }
    for (const name of ['excludeFile', 'passphraseFile'] as const) {
      const f = s[name]
      if (f === undefined) continue
      const key = name === 'excludeFile' ? 'exclude-file' : 'passphrase-file'
      try {
        accessSync(f, fsConstants.R_OK)
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        problems.push({
          line: at(name),
          message: `${label}.${key}: cannot read ${f} (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code})`,
        })
        continue
      }
      if (name === 'passphraseFile') {
        const st = statOrUndefined(f)
        if (st && (st.mode & 0o077) !== 0)
          problems.push({
            line: at(name),
            message: `${label}.${key}: ${f} can be read by other users; run chmod 600 ${f}`,
          })
      }
    }
  }
  return problems.sort((a, b) => a.line - b.line)
}

function statOrUndefined(p: string) {
  try {
    return statSync(p)
  } catch {
    return undefined
  }
}
