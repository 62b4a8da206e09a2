// Why: the config file's I/O, at the edge: where the file is, reading it (a missing default file is
// an empty config, an unreadable one a one-line error), and `seb config check`'s look at the files a
// valid config names. Validation itself is pure and lives in validate.ts.
import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { errnoCode, errnoText } from '../util/errno.js'
import { type ConfigProblem, emptyConfig, type SebConfig, type SettingName } from './schema.js'
import { parseConfig } from './validate.js'
import { type Env, expandHome, tildePath } from './values.js'

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
    const code = errnoCode(err)
    if (code === 'ENOENT' && !options.required) return { ...emptyConfig(), file: abs, displayFile: shown }
    const why =
      code === 'ENOENT'
        ? 'no such config file (create it as docs/configuration.md shows, or fix --config / SEB_CONFIG)'
        : code === 'EISDIR'
          ? 'is a folder, not a config file (give the path of config.yaml)'
          : code === 'EACCES' || code === 'EPERM'
            ? `cannot read the config file: ${errnoText(err)} (check its owner and mode)`
            : `cannot read the config file (${errnoText(err)})`
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
        problems.push({ line: at(name), message: `${label}.${key}: cannot read ${f} (${errnoText(err)})` })
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
