// Why: what seb needs to know to reach one SSH host — address, user, keys, known_hosts, proxy,
// algorithms, timeouts — as one typed value, built the same way whether `ssh -G` printed the
// effective options or seb's own parser read the files (resolve.ts picks). Pure: no I/O.
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { UsageError } from '../../errors.js'
import {
  changed,
  dumpValue,
  type PolicyInput,
  relaxedHostKeyCheck,
  UnsupportedSshOptionError,
  unusedAuth,
} from './policy.js'

/** JumpSpec is one ProxyJump hop as written: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpSpec {
  readonly user?: string
  readonly host: string
  readonly port?: number
  /** text is the hop as written, for `ssh -J` and messages. */
  readonly text: string
}

/** SshAlgorithms are the algorithm lists the user restricted (undefined: ssh2's defaults). */
export interface SshAlgorithms {
  readonly kex?: string[]
  readonly cipher?: string[]
  readonly hmac?: string[]
  readonly serverHostKey?: string[]
  readonly compress?: string[]
}

/** SshSettings are the effective settings for connecting to one host (one hop of a route). */
export interface SshSettings {
  /** alias is the host as written (destination or ProxyJump hop); ssh's `%n`. */
  readonly alias: string
  /** hostName is the name or address to connect to (HostName, canonicalised by ssh). */
  readonly hostName: string
  readonly port: number
  readonly user: string
  /** identityFiles are the key files to offer, in order, expanded. */
  readonly identityFiles: readonly string[]
  readonly identitiesOnly: boolean
  /** identityAgent is the agent socket, 'none', or undefined for $SSH_AUTH_SOCK. */
  readonly identityAgent?: string
  readonly userKnownHostsFiles: readonly string[]
  readonly globalKnownHostsFiles: readonly string[]
  readonly hostKeyAlias?: string
  /** relaxedHostKeyCheck names an option that would accept keys seb refuses (for messages). */
  readonly relaxedHostKeyCheck?: string
  /** connectTimeout is ConnectTimeout in seconds (undefined: none). */
  readonly connectTimeout?: number
  /** serverAliveInterval is ServerAliveInterval in seconds; 0 when not set. */
  readonly serverAliveInterval: number
  readonly serverAliveCountMax: number
  /** proxyJump lists the ProxyJump hops, first hop first ([] for none). */
  readonly proxyJump: readonly JumpSpec[]
  /** proxyCommand is ProxyCommand with its %-tokens expanded, or undefined. */
  readonly proxyCommand?: string
  readonly algorithms: SshAlgorithms
  readonly addressFamily: 'any' | 'inet' | 'inet6'
  readonly bindAddress?: string
  /** unusedAuth names the login options set for the host that seb does not use. */
  readonly unusedAuth: readonly string[]
  /** jump is the host this one is reached through (the last ProxyJump hop), resolved. */
  readonly jump?: SshSettings
}

interface Ssh2Constants {
  readonly SUPPORTED_KEX: readonly string[]
  readonly SUPPORTED_CIPHER: readonly string[]
  readonly SUPPORTED_MAC: readonly string[]
  readonly SUPPORTED_SERVER_HOST_KEY: readonly string[]
  readonly DEFAULT_KEX: readonly string[]
  readonly DEFAULT_CIPHER: readonly string[]
  readonly DEFAULT_MAC: readonly string[]
  readonly DEFAULT_SERVER_HOST_KEY: readonly string[]
}

let constants: Ssh2Constants | undefined
/** ssh2Constants are the algorithms ssh2 implements (its package has no exports map, so this file is public). */
function ssh2Constants(): Ssh2Constants {
  constants ??= createRequire(import.meta.url)('ssh2/lib/protocol/constants.js') as Ssh2Constants
  return constants
}

const ALGORITHMS = [
  {
    key: 'kexalgorithms',
    name: 'KexAlgorithms',
    field: 'kex',
    supported: 'SUPPORTED_KEX',
    defaults: 'DEFAULT_KEX',
  },
  {
    key: 'ciphers',
    name: 'Ciphers',
    field: 'cipher',
    supported: 'SUPPORTED_CIPHER',
    defaults: 'DEFAULT_CIPHER',
  },
  { key: 'macs', name: 'MACs', field: 'hmac', supported: 'SUPPORTED_MAC', defaults: 'DEFAULT_MAC' },
  {
    key: 'hostkeyalgorithms',
    name: 'HostKeyAlgorithms',
    field: 'serverHostKey',
    supported: 'SUPPORTED_SERVER_HOST_KEY',
    defaults: 'DEFAULT_SERVER_HOST_KEY',
  },
] as const

/**
 * algorithmList applies an ssh_config algorithm value to a default list: a plain list replaces it,
 * `+list` appends, `-list` removes (with `*` and `?` patterns), `^list` puts in front.
 */
export function algorithmList(value: string, defaults: readonly string[]): string[] {
  const op = value[0]
  const names = (op === '+' || op === '-' || op === '^' ? value.slice(1) : value).split(',').filter(Boolean)
  if (op === '+') return [...defaults, ...names.filter((n) => !defaults.includes(n))]
  if (op === '^') return [...names, ...defaults.filter((d) => !names.includes(d))]
  if (op === '-') {
    const res = names.map(
      (n) =>
        new RegExp(
          `^${n
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')
            .replace(/\?/g, '.')}$`,
        ),
    )
    return defaults.filter((d) => !res.some((r) => r.test(d)))
  }
  return names
}

/** parseJumpSpec reads one ProxyJump hop. */
export function parseJumpSpec(text: string, host: string): JumpSpec {
  const t = text.trim()
  const m = /^(?:ssh:\/\/)?(?:([^@/]+)@)?(\[[0-9a-fA-F:.]+\]|[^:/@[\]]+)(?::(\d+))?\/?$/.exec(t)
  if (!m || m[2]!.startsWith('-'))
    throw new UsageError(
      `${host}: ProxyJump hop ${JSON.stringify(t)} is not [user@]host[:port]: fix ProxyJump for this host`,
    )
  const port = m[3] === undefined ? undefined : Number(m[3])
  if (port !== undefined && (port < 1 || port > 65535))
    throw new UsageError(`${host}: ProxyJump hop ${JSON.stringify(t)} has an invalid port`)
  return { user: m[1], host: m[2]!.replace(/^\[|\]$/g, ''), port, text: t }
}

/** Tokens are the values of ssh_config's %-tokens for one host. */
export interface Tokens {
  readonly alias: string
  readonly hostName: string
  readonly port: number
  readonly user: string
  readonly home: string
  readonly hostKeyAlias?: string
  readonly proxyJump?: string
}

/**
 * expandTokens expands ssh_config's %-tokens (%% %C %d %h %i %j %k %L %l %n %p %r %u), `${VAR}` and a
 * leading `~` as ssh does for IdentityFile, CertificateFile, IdentityAgent and known_hosts files.
 */
export function expandTokens(p: string, t: Tokens, env: NodeJS.ProcessEnv): string {
  const local = os.hostname()
  const withEnv = p.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => env[name] ?? '')
  const s = withEnv.replace(/%([%CdhijkLlnpru])/g, (_m, c: string) => {
    switch (c) {
      case '%':
        return '%'
      case 'C':
        return createHash('sha1')
          .update(`${local}${t.hostName}${t.port}${t.user}${t.proxyJump ?? ''}`)
          .digest('hex')
      case 'd':
        return t.home
      case 'h':
        return t.hostName
      case 'i':
        return String(process.getuid?.() ?? '')
      case 'j':
        return t.proxyJump ?? ''
      case 'k':
        return t.hostKeyAlias ?? t.hostName
      case 'L':
        return local.split('.')[0] ?? local
      case 'l':
        return local
      case 'n':
        return t.alias
      case 'p':
        return String(t.port)
      case 'r':
        return t.user
      default:
        return localUser()
    }
  })
  if (s === '~') return t.home
  if (s.startsWith('~/')) return path.join(t.home, s.slice(2))
  return s
}

/** localUser is the name of the user running seb (what ssh uses when no User is set). */
export function localUser(): string {
  try {
    return os.userInfo().username
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root'
  }
}

/** BuildContext says how to read a dump: the host written, the home folder, the environment. */
export interface BuildContext {
  readonly alias: string
  /** home is seb's home folder ($HOME), used for `~` and %d. */
  readonly home: string
  /**
   * passwdHome is the home folder of the passwd entry, which ssh uses for `~`; when it differs from
   * `home`, paths ssh expanded under it are moved under `home`, as if ssh had followed $HOME.
   */
  readonly passwdHome?: string
  readonly env: NodeJS.ProcessEnv
  /** expanded: ssh already expanded the known_hosts and agent paths (true for `ssh -G`). */
  readonly expanded: boolean
  readonly policy: PolicyInput
}

function first(v: readonly string[] | undefined): string | undefined {
  return v?.[0]?.split(/\s+/)[0]
}

/** settingsFromDump builds a host's SshSettings from its effective options (the jump is added by resolve.ts). */
export function settingsFromDump(ctx: BuildContext): SshSettings {
  const d = ctx.policy.dump
  const host = ctx.alias
  const rehome = (p: string): string => {
    const pw = ctx.passwdHome
    if (!pw || pw === ctx.home || pw === '/') return p
    if (p === pw) return ctx.home
    return p.startsWith(`${pw}/`) ? path.join(ctx.home, p.slice(pw.length + 1)) : p
  }
  const hostName = first(d.get('hostname')) ?? host
  const portText = first(d.get('port')) ?? '22'
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new UsageError(
      `${host}: Port ${JSON.stringify(portText)} is not a port number: fix it for this host`,
    )
  const user = first(d.get('user')) ?? localUser()
  const hostKeyAlias = first(d.get('hostkeyalias'))
  const proxyJumpText = dumpValue(d, 'proxyjump')
  const tokens: Tokens = {
    alias: host,
    hostName,
    port,
    user,
    home: ctx.home,
    hostKeyAlias,
    proxyJump: proxyJumpText,
  }
  const expand = (p: string) => (ctx.expanded ? rehome(p) : expandTokens(p, tokens, ctx.env))
  const files = (key: string) =>
    (d.get(key) ?? [])
      .flatMap((line) => line.split(/\s+/))
      .filter((f) => f && f.toLowerCase() !== 'none')
      .map(expand)
  // ssh -G prints IdentityFile as written (tokens unexpanded), unlike the known_hosts files.
  const identityFiles = (d.get('identityfile') ?? [])
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandTokens(f, tokens, ctx.env))
  const agentRaw = dumpValue(d, 'identityagent')
  const identityAgent =
    agentRaw === undefined || agentRaw === 'SSH_AUTH_SOCK'
      ? undefined
      : agentRaw.toLowerCase() === 'none'
        ? 'none'
        : agentRaw.startsWith('$')
          ? ctx.env[agentRaw.slice(1).replace(/^\{|\}$/g, '')]
          : expand(agentRaw)
  const timeout = first(d.get('connecttimeout'))
  const proxyJump =
    proxyJumpText === undefined || proxyJumpText.toLowerCase() === 'none'
      ? []
      : proxyJumpText.split(',').map((t) => parseJumpSpec(t, host))
  const commandRaw = dumpValue(d, 'proxycommand')
  const proxyCommand =
    commandRaw === undefined || commandRaw.toLowerCase() === 'none'
      ? undefined
      : commandRaw.replace(/%([%hnpr])/g, (_m, c: string) =>
          c === '%' ? '%' : c === 'h' ? hostName : c === 'n' ? host : c === 'p' ? String(port) : user,
        )
  const family = first(d.get('addressfamily'))?.toLowerCase()
  const bind = first(d.get('bindaddress'))
  return {
    alias: host,
    hostName,
    port,
    user,
    identityFiles,
    identitiesOnly: /^(yes|true)$/i.test(first(d.get('identitiesonly')) ?? ''),
    identityAgent,
    userKnownHostsFiles: files('userknownhostsfile'),
    globalKnownHostsFiles: files('globalknownhostsfile'),
    hostKeyAlias,
    relaxedHostKeyCheck: relaxedHostKeyCheck(ctx.policy),
    connectTimeout: timeout && /^\d+$/.test(timeout) && timeout !== '0' ? Number(timeout) : undefined,
    serverAliveInterval: Number(first(d.get('serveraliveinterval')) ?? 0) || 0,
    serverAliveCountMax: Number(first(d.get('serveralivecountmax')) ?? 3) || 3,
    proxyJump,
    proxyCommand,
    algorithms: algorithms(ctx.policy, host),
    addressFamily: family === 'inet' || family === 'inet6' ? family : 'any',
    bindAddress: bind && bind.toLowerCase() !== 'none' ? bind : undefined,
    unusedAuth: unusedAuth(ctx.policy),
  }
}

/**
 * algorithms maps the algorithm lists the user changed onto what ssh2 implements, in the user's
 * order. An algorithm ssh2 lacks is left out (never one the user excluded is added); a list left empty
 * is an error, since no connection could satisfy it.
 */
function algorithms(p: PolicyInput, host: string): SshAlgorithms {
  const out: { -readonly [K in keyof SshAlgorithms]: SshAlgorithms[K] } = {}
  const c = ssh2Constants()
  for (const a of ALGORITHMS) {
    if (!changed(p, a.key)) continue
    const value = dumpValue(p.dump, a.key)!
    // `ssh -G` prints the resolved list; seb's own parser passes +,-,^ forms through to be applied here.
    const wanted = p.baseline ? value.split(',') : algorithmList(value, c[a.defaults])
    const usable = wanted.filter((n) => c[a.supported].includes(n))
    if (usable.length === 0)
      throw new UnsupportedSshOptionError(
        host,
        a.name,
        `${host}: none of the ${a.name} set for this host (${wanted.join(',')}) is implemented by seb's SSH client: allow one of ${c[a.supported].join(',')} for this host and run seb again`,
      )
    out[a.field] = usable
  }
  const compression = dumpValue(p.dump, 'compression')?.toLowerCase()
  if (compression === 'yes' || compression === 'true' || compression === 'delayed')
    out.compress = ['zlib@openssh.com', 'zlib', 'none']
  return out
}
