// Why: one authenticated SSH connection made the way the user's ssh would make it: directly, through
// each ProxyJump hop in turn (a channel forwarded by the hop before, as `ssh -J` does) or over a
// ProxyCommand; every host's key checked against known_hosts, an unknown or changed key refused,
// never accepted; keys from the agent and the identity files; keepalives so a hung server fails
// within seconds instead of hanging a backup.
import { existsSync, readFileSync } from 'node:fs'
import type { Duplex } from 'node:stream'
import ssh2 from 'ssh2'
import { PermanentStorageError } from '../../errors.js'
import { classifyStorageError, markTransient } from '../retry.js'
import type { SshSettings } from './host-settings.js'
import {
  checkHostKey,
  type HostKeyVerdict,
  hostKeyRefusal,
  knownHostsName,
  loadKnownHosts,
  preferredHostKeyAlgorithms,
} from './known-hosts.js'
import { type ProxyProcess, startProxyCommand } from './proxy-command.js'

/** ConnectOptions replace parts of the user's ssh setup (tests) and tune timeouts. */
export interface ConnectOptions {
  /** identityFile replaces the identity files of every host of the route. */
  readonly identityFile?: string | readonly string[]
  /** knownHostsPath replaces the known_hosts files of every host of the route. */
  readonly knownHostsPath?: string | readonly string[]
  /** agent is the ssh-agent socket (default: IdentityAgent, else SSH_AUTH_SOCK); false: no agent. */
  readonly agent?: string | false
  /** readyTimeout bounds connecting and the handshake of each host, in ms (default ConnectTimeout, else 20 s). */
  readonly readyTimeout?: number
  /** keepaliveInterval in ms (default ServerAliveInterval when set, else 1 s). */
  readonly keepaliveInterval?: number
  /** keepaliveCountMax (default ServerAliveCountMax when ServerAliveInterval is set, else 3). */
  readonly keepaliveCountMax?: number
  readonly env?: NodeJS.ProcessEnv
}

/** SshConnection is an authenticated connection; close ends it and every hop and proxy below it. */
export interface SshConnection {
  readonly client: ssh2.Client
  /** route describes how it was reached, for messages ("box via jump1"). */
  readonly route: string
  close(): void
}

/** CHANNEL_OPEN_FAILURE reason 1 (RFC 4254): the server's policy forbids the forwarding. */
const ADMINISTRATIVELY_PROHIBITED = 1

function list(v: string | readonly string[] | undefined): string[] | undefined {
  return v === undefined ? undefined : typeof v === 'string' ? [v] : [...v]
}

function sshCommand(s: SshSettings): string {
  return `ssh ${s.port === 22 ? '' : `-p ${s.port} `}${s.user}@${s.alias}`
}

function authMethods(s: SshSettings, o: ConnectOptions): ssh2.AnyAuthMethod[] {
  const env = o.env ?? process.env
  const auth: ssh2.AnyAuthMethod[] = []
  const agent =
    o.agent === false
      ? undefined
      : (o.agent ?? (s.identityAgent === 'none' ? undefined : (s.identityAgent ?? env.SSH_AUTH_SOCK)))
  const useAgent = Boolean(agent)
  if (useAgent && !s.identitiesOnly) auth.push({ type: 'agent', username: s.user, agent: agent! })
  for (const f of list(o.identityFile) ?? s.identityFiles) {
    if (!existsSync(f)) continue
    let text: Buffer
    try {
      text = readFileSync(f)
    } catch {
      continue
    }
    // Encrypted keys cannot be used without a prompt: they are skipped, the agent may hold them.
    const parsed = ssh2.utils.parseKey(text)
    if (parsed instanceof Error) continue
    auth.push({ type: 'publickey', username: s.user, key: text })
  }
  if (useAgent && s.identitiesOnly) auth.push({ type: 'agent', username: s.user, agent: agent! })
  return auth
}

/** forward opens a direct-tcpip channel from `via` to host:port (what `ssh -W` asks of a jump host). */
function forward(via: SshConnection, s: SshSettings, context: string): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    via.client.forwardOut('127.0.0.1', 0, s.hostName, s.port, (err, channel) => {
      if (!err) return resolve(channel)
      const reason = (err as Error & { reason?: number }).reason
      const what = `${context}: jump host ${via.route} cannot open a connection to ${s.hostName}:${s.port}`
      if (reason === ADMINISTRATIVELY_PROHIBITED)
        reject(
          new PermanentStorageError(
            `${what}: it refuses to forward (${err.message}); allow it on that server (AllowTcpForwarding, PermitOpen) or check ProxyJump`,
            { cause: err },
          ),
        )
      else reject(markTransient(new Error(`${what}: ${err.message}`, { cause: err })))
    })
  })
}

/**
 * connectSsh connects and authenticates to `s`, through its jump host or ProxyCommand if it has one.
 * `context` starts every error message (the destination as the user wrote it); `role` names the
 * host's part in a route (" (jump host to reach box)"). Host key refusals and failed logins are
 * PermanentStorageErrors; network failures are left for RetryStorage to retry.
 */
export async function connectSsh(
  s: SshSettings,
  o: ConnectOptions,
  context: string,
  role = '',
): Promise<SshConnection> {
  const env = o.env ?? process.env
  let upstream: SshConnection | undefined
  let proxy: ProxyProcess | undefined
  let sock: Duplex | undefined
  if (s.jump) {
    upstream = await connectSsh(s.jump, o, context, ` (jump host to reach ${s.alias})`)
    try {
      sock = await forward(upstream, s, context)
    } catch (err) {
      upstream.close()
      throw err
    }
  } else if (s.proxyCommand) {
    proxy = startProxyCommand(s.proxyCommand, env)
    sock = proxy.socket
  }
  const route = upstream ? `${s.alias} via ${upstream.route}` : s.alias
  const cleanup = () => {
    upstream?.close()
    proxy?.stop()
  }
  let client: ssh2.Client
  try {
    const suffix = `${role}${upstream ? ` (via jump host ${upstream.route})` : ''}`
    client = await handshake(s, o, context, sock, suffix, proxy)
  } catch (err) {
    cleanup()
    throw err
  }
  client.once('close', cleanup)
  // Errors end in 'close', which the connection's user watches; without a listener an error event
  // (a jump host's keepalive timeout, say) would be an uncaught exception.
  client.on('error', () => {})
  return {
    client,
    route,
    close() {
      client.end()
      cleanup()
    },
  }
}

/** exited waits up to `ms` for the proxy command to exit and returns its code (null: still running). */
function exited(p: ProxyProcess, ms: number): Promise<number | null> {
  const c = p.child
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode)
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms)
    c.once('exit', (code) => {
      clearTimeout(t)
      resolve(code)
    })
  })
}

function handshake(
  s: SshSettings,
  o: ConnectOptions,
  context: string,
  sock: Duplex | undefined,
  role: string,
  proxy: ProxyProcess | undefined,
): Promise<ssh2.Client> {
  const knownFiles = list(o.knownHostsPath) ?? [...s.userKnownHostsFiles, ...s.globalKnownHostsFiles]
  const entries = loadKnownHosts(knownFiles)
  const names = [s.hostKeyAlias ?? knownHostsName(s.hostName, s.port)]
  const auth = authMethods(s, o)
  let verdict: HostKeyVerdict | undefined
  let presented: Buffer | undefined
  const keepalive = s.serverAliveInterval > 0
  return new Promise<ssh2.Client>((resolve, reject) => {
    const client = new ssh2.Client()
    let settled = false
    const fail = (err: unknown) => {
      if (settled) return
      settled = true
      client.end()
      if (verdict && verdict.status !== 'ok')
        return reject(
          hostKeyRefusal(
            verdict,
            {
              hostName: s.hostName,
              port: s.port,
              name: names[0]!,
              sshCommand: sshCommand(s),
              role,
              relaxed: s.relaxedHostKeyCheck,
            },
            presented!,
          ),
        )
      const level = (err as { level?: string }).level
      const target = `${s.user}@${s.alias}${role}`
      if (level === 'client-authentication') {
        const unused = s.unusedAuth.length
          ? `; seb logs in with public keys only, not with ${s.unusedAuth.join(', ')} set for this host`
          : ''
        return reject(
          new PermanentStorageError(
            auth.length === 0
              ? `${context}: no ssh key to log in to ${target} with: load one into ssh-agent (ssh-add) or set IdentityFile in ~/.ssh/config${unused}`
              : `${context}: ssh authentication failed for ${target}: check the user name and that your key is loaded (ssh-add) or named by IdentityFile${unused}`,
            { cause: err },
          ),
        )
      }
      if (proxy) {
        const p = proxy
        void exited(p, 500).then((code) => {
          const said = p.stderrTail()
          const why = `ProxyCommand '${s.proxyCommand}' ${code === null ? `failed (${(err as Error).message})` : `exited with ${code}`}${said ? `: ${said}` : ''}`
          // The shell's 126/127: the command cannot run at all, which no retry fixes.
          if (code === 126 || code === 127)
            reject(
              new PermanentStorageError(
                `${context}: ${s.alias}${role}: ${why}; fix ProxyCommand for this host`,
              ),
            )
          else reject(markTransient(new Error(`${context}: ${s.alias}${role}: ${why}`, { cause: err })))
        })
        return
      }
      reject(classifyStorageError(err, `${context}: ${s.alias}${role}`))
    }
    client.on('error', fail)
    client.on('close', () =>
      fail(
        markTransient(new Error(`${s.hostName}:${s.port}${role}: connection closed during ssh handshake`)),
      ),
    )
    client.once('ready', () => {
      if (settled) return
      settled = true
      client.removeAllListeners('error')
      client.removeAllListeners('close')
      resolve(client)
    })
    try {
      client.connect({
        host: s.hostName,
        port: s.port,
        sock,
        username: s.user,
        authHandler: auth,
        readyTimeout: o.readyTimeout ?? (s.connectTimeout ? s.connectTimeout * 1000 : 20_000),
        keepaliveInterval: o.keepaliveInterval ?? (keepalive ? s.serverAliveInterval * 1000 : 1000),
        keepaliveCountMax: o.keepaliveCountMax ?? (keepalive ? s.serverAliveCountMax : 3),
        forceIPv4: s.addressFamily === 'inet',
        forceIPv6: s.addressFamily === 'inet6',
        localAddress: sock ? undefined : s.bindAddress,
        algorithms: {
          ...(s.algorithms as ssh2.Algorithms),
          serverHostKey: (s.algorithms.serverHostKey ??
            preferredHostKeyAlgorithms(entries, names)) as ssh2.ServerHostKeyAlgorithm[],
        },
        hostVerifier: (key: Buffer) => {
          presented = key
          verdict = checkHostKey(entries, names, key)
          return verdict.status === 'ok'
        },
      })
    } catch (err) {
      fail(err)
    }
  })
}
