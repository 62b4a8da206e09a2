// Why: the config file (docs/configuration.md) is written by hand, so every mistake in it must come
// back as one line naming the file, the line and what to do — never a stack trace or a silently
// ignored setting. This is the validator: YAML text in, a checked SebConfig or a ConfigError listing
// every problem out. Pure: reading the file is load.ts's job.
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type * as Yaml from 'yaml'
import type { LineCounter, Node, Pair, YAMLMap } from 'yaml'
import { type Destination, parseDestination } from '../storage/destination.js'
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
import { expandHome, isHttpUrl, rate, suggest, tildePath } from './values.js'

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

  private path(written: string, line: number, label: string, remoteAllowed: boolean): string | undefined {
    let s = written
    if (remoteAllowed) {
      // storage/destination.ts decides what is remote, for the config file as for the command line.
      let d: Destination
      try {
        d = parseDestination(s)
      } catch (err) {
        this.problem(line, `${label}: ${(err as Error).message}`)
        return undefined
      }
      if (d.kind !== 'local') return s
      s = d.path
    }
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
