// Why: seb lets OpenSSH itself evaluate the user's ssh configuration (`ssh -G`, resolve.ts). On a
// machine without the `ssh` program this parser reads ~/.ssh/config and /etc/ssh/ssh_config instead,
// following ssh_config(5) — Host patterns with `*`, `?` and `!negation`, the first value wins, Include
// — and produces the same option dump `ssh -G` prints, so one builder and one policy serve both. What
// it cannot evaluate it refuses: a Match block is an error naming its line, never skipped.
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { UsageError } from '../../errors.js'
import { type SshSettings, settingsFromDump } from './host-settings.js'
import { checkOptions } from './policy.js'

interface Entry {
  readonly key: string
  readonly args: string[]
}

interface Block {
  readonly patterns: string[] | 'match'
  /** where is `file:line` of the Host or Match line. */
  readonly where: string
  readonly entries: Entry[]
}

/** splitArgs splits a config line's arguments, honouring double quotes. */
function splitArgs(rest: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  for (let m = re.exec(rest); m; m = re.exec(rest)) out.push(m[1] ?? m[2] ?? '')
  return out
}

function parseText(text: string, file: string, depth: number, home: string, base: string): Block[] {
  const blocks: Block[] = [{ patterns: ['*'], where: `${file}:1`, entries: [] }]
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line)
    if (!m) continue
    const key = m[1]!.toLowerCase()
    const args = splitArgs(m[2] ?? '')
    const where = `${file}:${i + 1}`
    if (key === 'host') blocks.push({ patterns: args, where, entries: [] })
    else if (key === 'match') blocks.push({ patterns: 'match', where, entries: [] })
    else if (key === 'include' && depth < 8) {
      // Include files are spliced in place, inside the current Host block.
      const current = blocks[blocks.length - 1]!
      for (const arg of args) {
        const p = expandHome(arg, home)
        const full = path.isAbsolute(p) ? p : path.join(base, p)
        for (const f of globFiles(full)) {
          const inner = readOptional(f)
          if (inner === undefined) continue
          const sub = parseText(inner, f, depth + 1, home, base)
          current.entries.push(...sub[0]!.entries)
          blocks.push(...sub.slice(1))
        }
      }
    } else blocks[blocks.length - 1]!.entries.push({ key, args })
  }
  return blocks
}

function globFiles(p: string): string[] {
  if (!/[*?]/.test(path.basename(p))) return [p]
  const dir = path.dirname(p)
  const re = patternToRegExp(path.basename(p))
  try {
    // Synchronous is fine here: ssh config is read once per destination.
    return readdirSync(dir)
      .filter((n) => re.test(n))
      .sort()
      .map((n) => path.join(dir, n))
  } catch {
    return []
  }
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function patternToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${body}$`, 'i')
}

/** hostMatches applies ssh_config Host pattern-list rules (any positive match, no negated match). */
export function hostMatches(patterns: string[], host: string): boolean {
  let matched = false
  for (const p of patterns) {
    const negated = p.startsWith('!')
    const re = patternToRegExp(negated ? p.slice(1) : p)
    if (re.test(host)) {
      if (negated) return false
      matched = true
    }
  }
  return matched
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home
  if (p.startsWith('~/')) return path.join(home, p.slice(2))
  return p
}

/** Keywords whose every occurrence counts (the others: the first value obtained wins). */
const ACCUMULATE = new Set([
  'identityfile',
  'certificatefile',
  'localforward',
  'remoteforward',
  'dynamicforward',
  'sendenv',
])

/** SshConfigOptions say which files to read, and what the command line would add. */
export interface SshConfigOptions {
  /** configPath replaces ~/.ssh/config and /etc/ssh/ssh_config (as `ssh -F`); a missing file is empty. */
  readonly configPath?: string
  readonly home?: string
  readonly env?: NodeJS.ProcessEnv
  /** user, port and jump are given as ssh's -l, -p and -J would: they win over the files. */
  readonly user?: string
  readonly port?: number
  readonly jump?: string
}

/** SshConfigDump is what the files say about one host, in `ssh -G`'s shape. */
export interface SshConfigDump {
  readonly dump: Map<string, string[]>
  /** files lists the files read, for messages. */
  readonly files: readonly string[]
  /** match is `file:line` of the first Match block, which this parser cannot evaluate. */
  readonly match?: string
}

/** readSshConfig collects the options the config files give `alias`, plus ssh's defaults for the rest. */
export function readSshConfig(alias: string, options: SshConfigOptions = {}): SshConfigDump {
  const home = options.home ?? os.homedir()
  const files = options.configPath
    ? [options.configPath]
    : [path.join(home, '.ssh', 'config'), '/etc/ssh/ssh_config']
  const blocks: Block[] = []
  for (const f of files) {
    const text = readOptional(f)
    if (text === undefined) continue
    const base = f === '/etc/ssh/ssh_config' ? '/etc/ssh' : path.join(home, '.ssh')
    blocks.push(...parseText(text, f, 0, home, base))
  }
  const dump = new Map<string, string[]>()
  const set = (key: string, value: string) => {
    if (ACCUMULATE.has(key)) dump.set(key, [...(dump.get(key) ?? []), value])
    // ProxyJump and ProxyCommand: whichever is obtained first wins (ssh_config(5)).
    else if (key === 'proxyjump' && dump.has('proxycommand')) return
    else if (key === 'proxycommand' && dump.has('proxyjump')) return
    else if (!dump.has(key)) dump.set(key, [value])
  }
  if (options.user) set('user', options.user)
  if (options.port) set('port', String(options.port))
  if (options.jump) set('proxyjump', options.jump)
  let match: string | undefined
  for (const b of blocks) {
    if (b.patterns === 'match') {
      match ??= b.where
      continue
    }
    if (!hostMatches(b.patterns, alias)) continue
    for (const e of b.entries) {
      if (e.key === 'identityfile' || e.key === 'certificatefile') set(e.key, e.args[0] ?? '')
      else set(e.key, e.args.join(' '))
    }
  }
  // HostName takes %h (the alias) and %%.
  const hn = dump.get('hostname')?.[0]
  dump.set('hostname', [hn ? hn.replace(/%(%|h)/g, (_m, c: string) => (c === '%' ? '%' : alias)) : alias])
  const defaults: Record<string, string[]> = {
    port: ['22'],
    identityfile: ['rsa', 'ecdsa', 'ecdsa_sk', 'ed25519', 'ed25519_sk', 'xmss', 'dsa'].map(
      (k) => `~/.ssh/id_${k}`,
    ),
    userknownhostsfile: ['~/.ssh/known_hosts ~/.ssh/known_hosts2'],
    globalknownhostsfile: ['/etc/ssh/ssh_known_hosts /etc/ssh/ssh_known_hosts2'],
  }
  for (const [k, v] of Object.entries(defaults)) if (!dump.has(k)) dump.set(k, v)
  return { dump, files, match }
}

/**
 * resolveSshHost returns the settings ssh would use to reach `alias` (the host as the user wrote it),
 * read by this parser (without the jump host's own settings: resolve.ts adds them). A Match block is
 * a UsageError (only OpenSSH can evaluate it), and so is any option the policy refuses.
 */
export function resolveSshHost(alias: string, options: SshConfigOptions = {}): SshSettings {
  const home = options.home ?? os.homedir()
  const read = readSshConfig(alias, options)
  if (read.match)
    throw new UsageError(
      `${alias}: ${read.match}: a Match block needs OpenSSH's ssh to be evaluated, and the ssh program is not installed: install it (Debian package 'openssh-client'; seb runs 'ssh -G' to read your configuration) or remove the Match block`,
    )
  const policy = {
    host: alias,
    dump: read.dump,
    how: `read from ${read.files.join(' and ')} by seb, as the ssh program is not installed`,
  }
  checkOptions(policy)
  return settingsFromDump({
    alias,
    home,
    env: options.env ?? process.env,
    expanded: false,
    policy,
  })
}
