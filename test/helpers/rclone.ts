// Why: rclone is configured for tests through environment variables only (no config file), pointing a
// remote at the test sshd, so the rclone backend is exercised over a real SFTP server too.
import type { Sshd } from './sshd.js'
import { requireBinary } from './sshd.js'

/** requireRclone fails (never skips) when rclone is missing, naming the Debian package. */
export function requireRclone(): string {
  return requireBinary('rclone', 'rclone')
}

/**
 * rcloneSftpEnv defines an rclone remote `name` that reaches `server` over SFTP. With `knownHosts`
 * null the remote names no known_hosts_file (seb must then make rclone check the key itself).
 */
export function rcloneSftpEnv(
  server: Sshd,
  name = 'sebsftp',
  knownHosts: string | null = server.knownHosts,
): Record<string, string> {
  const p = `RCLONE_CONFIG_${name.toUpperCase()}_`
  return {
    RCLONE_CONFIG: '/dev/null',
    [`${p}TYPE`]: 'sftp',
    [`${p}HOST`]: '127.0.0.1',
    [`${p}PORT`]: String(server.port),
    [`${p}USER`]: server.user,
    [`${p}KEY_FILE`]: server.clientKey,
    ...(knownHosts === null ? {} : { [`${p}KNOWN_HOSTS_FILE`]: knownHosts }),
  }
}

/** rcloneSftpConfig is an rclone config file section for `server` (no known_hosts_file). */
export function rcloneSftpConfig(server: Sshd, name: string): string {
  return [
    `[${name}]`,
    'type = sftp',
    'host = 127.0.0.1',
    `port = ${server.port}`,
    `user = ${server.user}`,
    `key_file = ${server.clientKey}`,
    '',
  ].join('\n')
}
