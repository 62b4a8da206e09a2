// Why: seb has no ssh options (like scp, it reads $HOME/.ssh), so a run against the local test sshd needs a
// home folder whose ~/.ssh names that server, trusts its host key and holds the client key. The end-to-end
// tests and the remote benchmark make it the same way.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Sshd } from './sshd.js'

/** SshHome is a home folder whose ~/.ssh reaches the test sshd (or deliberately does not trust it). */
export interface SshHome {
  readonly home: string
  readonly config: string
  readonly knownHosts: string
  readonly identity: string
  /** alias is the ~/.ssh/config Host that names the sshd (HostName 127.0.0.1, its port and user). */
  readonly alias: string
}

/**
 * makeSshHome writes `root/.ssh/{config,known_hosts,id_ed25519}` for `server`. With `trust: false`
 * known_hosts stays empty: the server's key is unknown, as on a first connection.
 */
export function makeSshHome(root: string, server: Sshd, options: { trust?: boolean } = {}): SshHome {
  const ssh = path.join(root, '.ssh')
  mkdirSync(ssh, { recursive: true, mode: 0o700 })
  const identity = path.join(ssh, 'id_ed25519')
  copyFileSync(server.clientKey, identity)
  copyFileSync(`${server.clientKey}.pub`, `${identity}.pub`)
  const knownHosts = path.join(ssh, 'known_hosts')
  writeFileSync(
    knownHosts,
    options.trust === false ? '' : `[127.0.0.1]:${server.port} ${server.hostKeyLine}\n`,
    { mode: 0o600 },
  )
  const alias = 'sebbox'
  const config = path.join(ssh, 'config')
  writeFileSync(
    config,
    [
      `Host ${alias}`,
      '  HostName 127.0.0.1',
      `  Port ${server.port}`,
      `  User ${server.user}`,
      '  IdentityFile ~/.ssh/id_ed25519',
      '  IdentitiesOnly yes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  return { home: root, config, knownHosts, identity, alias }
}
