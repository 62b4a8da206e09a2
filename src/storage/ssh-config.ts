// Why: rsync.net and other SFTP users already describe their hosts in ~/.ssh/config (aliases, ports,
// users, keys). seb reads the same file, so `seb backup backupbox:mail` means what `scp backupbox:mail`
// means. This is a small parser of the subset that matters for connecting; it follows ssh_config(5):
// the first value obtained for a keyword wins, Host patterns take `*`, `?` and `!negation`.
import { readdirSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** SshHostConfig is what ssh_config says about one host, after aliases and tokens are resolved. */
export interface SshHostConfig {
  /** hostName is the real host to connect to (HostName, or the alias itself). */
  readonly hostName: string
  readonly user?: string
  readonly port?: number
  /** identityFiles lists IdentityFile entries in order, with `~` and `%` tokens expanded. */
  readonly identityFiles: string[]
  /** identityAgent is an IdentityAgent socket path, or 'none'. */
  readonly identityAgent?: string
  /** identitiesOnly mirrors IdentitiesOnly: when true the agent's other keys are not offered. */
  readonly identitiesOnly?: boolean
  /** userKnownHostsFiles lists UserKnownHostsFile entries (expanded). */
  readonly userKnownHostsFiles: string[]
  /** globalKnownHostsFiles lists GlobalKnownHostsFile entries (expanded). */
  readonly globalKnownHostsFiles: string[]
  /** hostKeyAlias mirrors HostKeyAlias: the name to look up in known_hosts instead of the host. */
  readonly hostKeyAlias?: string
  /** connectTimeout mirrors ConnectTimeout, in seconds. */
  readonly connectTimeout?: number
}

interface Entry {
  key: string
  args: string[]
}

interface Block {
  patterns: string[] | 'match'
  entries: Entry[]
}

/** splitArgs splits a config line's arguments, honouring double quotes. */
function splitArgs(rest: string): string[] {
  const out: string[] = []
  const re = /"([^"]*)"|(\S+)/g
  for (let m = re.exec(rest); m; m = re.exec(rest)) out.push(m[1] ?? m[2] ?? '')
  return out
}

function parseText(text: string, depth: number, home: string): Block[] {
  const blocks: Block[] = [{ patterns: ['*'], entries: [] }]
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line)
    if (!m) continue
    const key = m[1]!.toLowerCase()
    const args = splitArgs(m[2] ?? '')
    if (key === 'host') blocks.push({ patterns: args, entries: [] })
    else if (key === 'match') blocks.push({ patterns: 'match', entries: [] })
    else if (key === 'include' && depth < 8) {
      // Include files are spliced in place, inside the current Host block.
      const current = blocks[blocks.length - 1]!
      for (const arg of args) {
        const p = expandHome(arg, home)
        const full = path.isAbsolute(p) ? p : path.join(home, '.ssh', p)
        for (const f of globFiles(full)) {
          const inner = readOptional(f)
          if (inner === undefined) continue
          const sub = parseText(inner, depth + 1, home)
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
    // Synchronous is fine here: ssh config is read once per connection setup.
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

function expandTokens(
  p: string,
  t: { host: string; alias: string; user: string; port: number; home: string },
): string {
  const s = p.replace(/%([%dhnpru])/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%'
      case 'd':
        return t.home
      case 'h':
        return t.host
      case 'n':
        return t.alias
      case 'p':
        return String(t.port)
      case 'r':
        return t.user
      default:
        return os.userInfo().username
    }
  })
  return expandHome(s, t.home)
}

/** SshConfigOptions lets callers (and tests) point at other files than ~/.ssh/config. */
export interface SshConfigOptions {
  /** configPath defaults to ~/.ssh/config; a missing file is not an error. */
  readonly configPath?: string
  readonly home?: string
}

/**
 * resolveSshHost returns the settings ssh would use to reach `alias` (the host as the user wrote it).
 * Match blocks are skipped (seb does not evaluate them); everything else of interest is honoured.
 */
export function resolveSshHost(alias: string, options: SshConfigOptions = {}): SshHostConfig {
  const home = options.home ?? os.homedir()
  const file = options.configPath ?? path.join(home, '.ssh', 'config')
  const text = readOptional(file)
  const blocks = text === undefined ? [] : parseText(text, 0, home)
  const first = new Map<string, string[]>()
  const identityFiles: string[] = []
  const userKnown: string[] = []
  const globalKnown: string[] = []
  for (const b of blocks) {
    if (b.patterns === 'match' || !hostMatches(b.patterns, alias)) continue
    for (const e of b.entries) {
      if (e.key === 'identityfile') identityFiles.push(...e.args)
      else if (e.key === 'userknownhostsfile' && userKnown.length === 0) userKnown.push(...e.args)
      else if (e.key === 'globalknownhostsfile' && globalKnown.length === 0) globalKnown.push(...e.args)
      else if (!first.has(e.key)) first.set(e.key, e.args)
    }
  }
  const get = (k: string): string | undefined => first.get(k)?.[0]
  const hostNameRaw = get('hostname')
  const hostName = hostNameRaw ? hostNameRaw.replace(/%h/g, alias).replace(/%%/g, '%') : alias
  const portRaw = get('port')
  const port = portRaw && /^\d+$/.test(portRaw) ? Number(portRaw) : undefined
  const user = get('user')
  const tokens = { host: hostName, alias, user: user ?? os.userInfo().username, port: port ?? 22, home }
  const expand = (p: string) => expandTokens(p, tokens)
  const agent = get('identityagent')
  const timeout = get('connecttimeout')
  return {
    hostName,
    user,
    port,
    identityFiles: identityFiles.map(expand),
    identityAgent: agent === undefined ? undefined : agent === 'SSH_AUTH_SOCK' ? undefined : expand(agent),
    identitiesOnly: get('identitiesonly')?.toLowerCase() === 'yes',
    userKnownHostsFiles: userKnown.filter((f) => f.toLowerCase() !== 'none').map(expand),
    globalKnownHostsFiles: globalKnown.filter((f) => f.toLowerCase() !== 'none').map(expand),
    hostKeyAlias: get('hostkeyalias'),
    connectTimeout: timeout && /^\d+$/.test(timeout) ? Number(timeout) : undefined,
  }
}
