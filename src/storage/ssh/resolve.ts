// Why: the user's ssh configuration is honoured fully by letting OpenSSH itself evaluate it: `ssh -G`
// applies Host and Match blocks, Include, CanonicalizeHostname and the defaults, and prints the
// effective options (issue 15). seb reads them, refuses what it cannot honour (policy.ts), and
// resolves each ProxyJump hop the same way ssh does, as its own host. Without the ssh program, seb's
// own parser (ssh-config.ts) stands in and refuses what it cannot evaluate.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { UsageError } from '../../errors.js'
import { type SshSettings, settingsFromDump } from './host-settings.js'
import { checkOptions, type SshDump } from './policy.js'
import { resolveSshHost } from './ssh-config.js'

/** ResolveOptions say which ssh and which files describe the hosts. */
export interface ResolveOptions {
  /** configFile replaces ~/.ssh/config and /etc/ssh/ssh_config, as `ssh -F` (tests). */
  readonly configFile?: string
  /** home is the home folder for `~` (default $HOME). */
  readonly home?: string
  /** sshBinary is the ssh program (default `ssh` on PATH); false uses seb's own parser. */
  readonly sshBinary?: string | false
  readonly env?: NodeJS.ProcessEnv
}

/** HostRequest is a host as a destination names it; user and port win over the configuration. */
export interface HostRequest {
  readonly alias: string
  readonly user?: string
  readonly port?: number
}

/** MAX_HOPS bounds a ProxyJump chain (a host that jumps through itself would never end). */
const MAX_HOPS = 8
const SSH_G_TIMEOUT_MS = 10_000

interface SshRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** runSsh runs the ssh program to completion; undefined when it is not installed. */
function runSsh(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<SshRun | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 16 * 1024) stderr += d.toString()
    })
    // A Match exec command that hangs must not hang seb.
    const timer = setTimeout(() => child.kill('SIGKILL'), SSH_G_TIMEOUT_MS)
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (err.code === 'ENOENT') resolve(undefined)
      else reject(err)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** parseDump reads `ssh -G` output: one `keyword value` per line, keywords lowercase. */
export function parseDump(text: string): Map<string, string[]> {
  const dump = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const t = line.trim()
    if (!t) continue
    const sp = t.indexOf(' ')
    const key = (sp < 0 ? t : t.slice(0, sp)).toLowerCase()
    const value = sp < 0 ? '' : t.slice(sp + 1)
    dump.set(key, [...(dump.get(key) ?? []), value])
  }
  return dump
}

/** complaint is what ssh wrote to stderr, as one line. */
function complaint(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^Pseudo-terminal will not be allocated/.test(l))
    .join('; ')
    .slice(0, 500)
}

const baselines = new Map<string, Promise<SshDump>>()

/** baseline is what `ssh -G` prints with no configuration at all: ssh's own defaults. */
function baseline(bin: string, env: NodeJS.ProcessEnv): Promise<SshDump> {
  let b = baselines.get(bin)
  if (!b) {
    b = runSsh(bin, ['-G', '-F', '/dev/null', '--', 'seb-defaults.invalid'], env).then((r) => {
      if (r?.code !== 0) throw new UsageError(`'${bin} -G' failed: ${r ? complaint(r.stderr) : 'not found'}`)
      return parseDump(r.stdout)
    })
    b.catch(() => baselines.delete(bin))
    baselines.set(bin, b)
  }
  return b
}

function passwdHome(): string | undefined {
  try {
    return os.userInfo().homedir
  } catch {
    return undefined
  }
}

interface Context {
  readonly bin: string | false
  readonly home: string
  readonly passwdHome?: string
  /** configFile is passed as -F: the given one, or $HOME's when $HOME is not the passwd home. */
  readonly configFile?: string
  readonly env: NodeJS.ProcessEnv
}

async function resolveHop(
  req: HostRequest & { jump?: string },
  ctx: Context,
  depth: number,
): Promise<SshSettings> {
  let settings: SshSettings | undefined
  if (ctx.bin !== false) {
    const args = ['-G']
    if (ctx.configFile) args.push('-F', ctx.configFile)
    if (req.user) args.push('-l', req.user)
    if (req.port) args.push('-p', String(req.port))
    if (req.jump) args.push('-J', req.jump)
    args.push('--', req.alias)
    const run = await runSsh(ctx.bin, args, ctx.env)
    if (run) {
      if (run.code !== 0)
        throw new UsageError(
          `${req.alias}: ssh cannot read its configuration for this host: ${complaint(run.stderr) || `'ssh -G' exited with ${run.code}`}; fix it ('ssh -G ${req.alias}' shows the same error)`,
        )
      const policy = {
        host: req.alias,
        dump: parseDump(run.stdout),
        baseline: await baseline(ctx.bin, ctx.env),
        how: `'ssh -G ${req.alias}' shows the options in effect`,
      }
      checkOptions(policy)
      settings = settingsFromDump({
        alias: req.alias,
        home: ctx.home,
        passwdHome: ctx.passwdHome,
        env: ctx.env,
        expanded: true,
        policy,
      })
    }
  }
  settings ??= resolveSshHost(req.alias, {
    configPath: ctx.configFile,
    home: ctx.home,
    env: ctx.env,
    user: req.user,
    port: req.port,
    jump: req.jump,
  })
  if (settings.proxyJump.length === 0) return settings
  if (depth >= MAX_HOPS)
    throw new UsageError(
      `${req.alias}: ProxyJump leads through more than ${MAX_HOPS} hosts (does a host jump through itself?): fix ProxyJump`,
    )
  // As ssh does: the last hop is reached through the ones before it (ssh -J rest -W host:port last);
  // without earlier hops, the last hop's own configuration decides how to reach it.
  const hops = settings.proxyJump
  const last = hops[hops.length - 1]!
  const rest = hops.slice(0, -1).map((h) => h.text)
  const jump = await resolveHop(
    { alias: last.host, user: last.user, port: last.port, jump: rest.length ? rest.join(',') : undefined },
    ctx,
    depth + 1,
  )
  return { ...settings, jump }
}

/**
 * resolveSshSettings returns how to reach `req`: its effective ssh settings and, through `jump`, those
 * of every ProxyJump hop. Throws a UsageError when the configuration cannot be read or sets an
 * option seb does not implement (UnsupportedSshOptionError).
 */
export function resolveSshSettings(req: HostRequest, options: ResolveOptions = {}): Promise<SshSettings> {
  const home = options.home ?? os.homedir()
  const pw = passwdHome()
  // ssh finds ~/.ssh/config through the passwd entry, seb through $HOME (as for everything else);
  // when they differ (a test, sudo -E), seb names $HOME's file so both read the same one.
  const own = path.join(home, '.ssh', 'config')
  const configFile =
    options.configFile ??
    (pw !== undefined && pw !== home ? (existsSync(own) ? own : '/dev/null') : undefined)
  return resolveHop(
    req,
    { bin: options.sshBinary ?? 'ssh', home, passwdHome: pw, configFile, env: options.env ?? process.env },
    0,
  )
}
