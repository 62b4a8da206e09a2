// Why: rclone's sftp backend accepts any host key unless its remote names a known_hosts_file, so a
// destination reached through rclone would trust a server seb's own SFTP backend refuses. Before the
// first call, seb finds the sftp remotes a destination goes through (directly, behind crypt, alias,
// union… or an on-the-fly `:sftp,…` remote) and points each one without a known_hosts_file at the
// user's ~/.ssh/known_hosts, through rclone's per-remote environment variables (which outrank the
// config file only for the setting it lacks). A remote that names its own file keeps it.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { PermanentStorageError } from '../errors.js'

/** RemoteConfig is one rclone remote's settings (`rclone config dump`, or RCLONE_CONFIG_* variables). */
export type RemoteConfig = Readonly<Record<string, string>>

/** SftpRemote is an sftp remote on the way to the destination, for messages. */
export interface SftpRemote {
  readonly name: string
  readonly host?: string
  readonly port?: number
  readonly user?: string
  /** knownHostsFile is the file rclone checks its host key against. */
  readonly knownHostsFile: string
}

/** HostKeyPlan is what to change so that rclone checks every sftp host key. */
export interface HostKeyPlan {
  /** env is added to rclone's environment. */
  readonly env: Record<string, string>
  /** remote is the destination's rclone path, with known_hosts_file added to an on-the-fly sftp remote. */
  readonly remote: string
  readonly sftp: readonly SftpRemote[]
}

/** PlanInput is what the plan is made from. */
export interface PlanInput {
  /** remote is the rclone path of the destination (`name:path`, `:sftp,host=…:path`, a local path). */
  readonly remote: string
  readonly env: NodeJS.ProcessEnv
  /** args are the extra global flags seb passes to rclone. */
  readonly args: readonly string[]
  /** home is the folder whose .ssh/known_hosts is used (seb's $HOME). */
  readonly home: string
  /** dump returns `rclone config dump` (remotes of the config file); called only when needed. */
  readonly dump: () => Promise<Record<string, RemoteConfig>>
  /** location is the destination as the user wrote it, for messages. */
  readonly location: string
}

/** envName is rclone's environment variable for a remote's setting (fs/config.ConfigToEnv). */
export function envName(remote: string, key: string): string {
  return `RCLONE_CONFIG_${`${remote}_${key}`.replace(/-/g, '_').toUpperCase()}`
}

interface Spec {
  /** name is the remote's name, or `:backend` for an on-the-fly remote. */
  readonly name: string
  readonly params: ReadonlyMap<string, string>
  /** colon is the index of the ':' that ends the remote part (the path follows it). */
  readonly colon: number
}

/** parseSpec reads `name[,k=v…]:path`; undefined for a local path. */
export function parseSpec(spec: string): Spec | undefined {
  const m = /^(:?[\w.+@ -]+)((?:,[^,:="']+=(?:"[^"]*"|'[^']*'|[^,:"']*))*):/su.exec(spec)
  if (!m) return undefined
  const params = new Map<string, string>()
  for (const p of (m[2] ?? '').split(',').slice(1)) {
    const eq = p.indexOf('=')
    params.set(
      p.slice(0, eq).trim().replace(/-/g, '_').toLowerCase(),
      p.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2'),
    )
  }
  return { name: m[1]!, params, colon: m[0].length - 1 }
}

/** innerRemotes lists the remotes a wrapping remote (crypt, alias, union, combine…) goes through. */
function innerRemotes(cfg: RemoteConfig): string[] {
  const out: string[] = []
  if (cfg.remote) out.push(cfg.remote)
  // union: "a:x b:y:ro"; combine: "dir=a:x dir2=b:y".
  if (cfg.upstreams) out.push(...cfg.upstreams.split(/\s+/).map((u) => u.replace(/^[^=:]*=/, '')))
  return out.filter(Boolean)
}

function envRemote(env: NodeJS.ProcessEnv, name: string): RemoteConfig | undefined {
  const type = env[envName(name, 'type')]
  if (!type) return undefined
  const get = (k: string) => env[envName(name, k)]
  const out: Record<string, string> = { type }
  for (const k of ['host', 'port', 'user', 'known_hosts_file', 'remote', 'upstreams']) {
    const v = get(k)
    if (v) out[k] = v
  }
  return out
}

/**
 * planHostKeyChecks finds the sftp remotes behind `input.remote` and plans how to make rclone check
 * their host keys against ~/.ssh/known_hosts. Throws a PermanentStorageError when one needs that
 * file and it does not exist (there is no key to check against: the user must accept one first).
 */
export async function planHostKeyChecks(input: PlanInput): Promise<HostKeyPlan> {
  const env = input.env
  const none: HostKeyPlan = { env: {}, remote: input.remote, sftp: [] }
  // The user's own global choice applies to every sftp remote already.
  if (env.RCLONE_SFTP_KNOWN_HOSTS_FILE || input.args.some((a) => a.startsWith('--sftp-known-hosts-file')))
    return none
  const top = parseSpec(input.remote)
  if (!top) return none
  const file = path.join(input.home, '.ssh', 'known_hosts')
  const add: Record<string, string> = {}
  const sftp: SftpRemote[] = []
  const needed: SftpRemote[] = []
  let remote = input.remote
  let dumped: Record<string, RemoteConfig> | undefined
  const lookup = async (name: string): Promise<RemoteConfig | undefined> => {
    const fromEnv = envRemote(env, name)
    if (fromEnv) return fromEnv
    dumped ??= await input.dump()
    return dumped[name]
  }
  const note = (name: string, cfg: RemoteConfig, own: string | undefined) => {
    const r: SftpRemote = {
      name,
      host: cfg.host,
      port: cfg.port ? Number(cfg.port) : undefined,
      user: cfg.user,
      knownHostsFile: own ?? file,
    }
    sftp.push(r)
    if (!own) needed.push(r)
  }
  if (top.name === ':sftp') {
    const cfg = Object.fromEntries(top.params)
    const own = top.params.get('known_hosts_file')
    note(':sftp', cfg, own)
    if (!own) {
      const quoted = /[,:"']/.test(file) ? `"${file.replace(/"/g, '""')}"` : file
      remote = `${remote.slice(0, top.colon)},known_hosts_file=${quoted}${remote.slice(top.colon)}`
    }
  } else if (!top.name.startsWith(':')) {
    const seen = new Set<string>()
    const walk = async (name: string, depth: number): Promise<void> => {
      if (seen.has(name) || depth > 8) return
      seen.add(name)
      const cfg = await lookup(name)
      if (!cfg) return
      if (cfg.type === 'sftp') {
        const own = cfg.known_hosts_file || undefined
        note(name, cfg, own)
        if (!own) add[envName(name, 'known_hosts_file')] = file
        return
      }
      for (const inner of innerRemotes(cfg)) {
        const spec = parseSpec(inner)
        if (spec && !spec.name.startsWith(':')) await walk(spec.name, depth + 1)
      }
    }
    await walk(top.name, 0)
  }
  if (needed.length > 0 && !existsSync(file)) {
    const r = needed[0]!
    throw new PermanentStorageError(
      `${input.location}: rclone remote '${r.name}' is sftp without a known_hosts_file and ${file} does not exist, so the server's host key cannot be checked: run '${sshCommand(r)}' once to check and accept it (or set known_hosts_file for the remote in rclone config), then run seb again`,
    )
  }
  return { env: add, remote, sftp }
}

/** sshCommand is what the user runs to check and accept an sftp remote's host key. */
export function sshCommand(r: SftpRemote): string {
  if (!r.host) return 'ssh HOST'
  return `ssh ${r.port && r.port !== 22 ? `-p ${r.port} ` : ''}${r.user ? `${r.user}@` : ''}${r.host}`
}
