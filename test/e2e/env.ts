// Why: the end-to-end tests run the built CLI against real servers exactly as a user would: ssh finds
// its config, known_hosts and key under $HOME/.ssh (the CLI has no ssh options, like scp), S3 takes the
// endpoint and keys from the environment, rclone its remote from RCLONE_CONFIG_* variables. This module
// builds such an environment (the $HOME itself comes from bench/servers/ssh-home.ts, shared with the remote
// benchmark) and reads back what a destination holds.
import assert from 'node:assert/strict'
import type { SshHome } from '../../bench/servers/ssh-home.js'
import { openStorage } from '../../src/storage/open.js'
import type { FileType, ObjectInfo } from '../../src/storage/storage.js'
import type { Radosgw } from '../helpers/radosgw.js'
import { rcloneSftpEnv } from '../helpers/rclone.js'
import type { Sshd } from '../helpers/sshd.js'

export { makeSshHome, type SshHome } from '../../bench/servers/ssh-home.js'

/** cliEnv is the environment of every seb run: keys, cache, $HOME for ssh, S3 and rclone settings. */
export function cliEnv(o: {
  gnupgHome: string
  cacheDir: string
  ssh: SshHome
  server?: Sshd
  rgw?: Radosgw
}): NodeJS.ProcessEnv {
  return {
    GNUPGHOME: o.gnupgHome,
    SEB_CACHE_DIR: o.cacheDir,
    HOME: o.ssh.home,
    // No agent: the key of ~/.ssh is what logs in, as for a user without ssh-agent.
    SSH_AUTH_SOCK: '',
    ...(o.rgw
      ? {
          SEB_S3_ENDPOINT: o.rgw.endpoint,
          AWS_ACCESS_KEY_ID: o.rgw.accessKeyId,
          AWS_SECRET_ACCESS_KEY: o.rgw.secretAccessKey,
          AWS_REGION: 'us-east-1',
        }
      : {}),
    ...(o.server ? rcloneSftpEnv(o.server, 'sebsftp', o.ssh.knownHosts) : {}),
  }
}

/** listObjects lists one kind of object at a destination, opened the way the CLI opens it. */
export async function listObjects(
  dest: string,
  type: FileType,
  o: { ssh: SshHome; rgw?: Radosgw; server?: Sshd },
): Promise<Map<string, number>> {
  const storage = await openStorage(dest, {
    sshConfigPath: o.ssh.config,
    knownHostsPath: o.ssh.knownHosts,
    identityFile: o.ssh.identity,
    sshAgent: false,
    s3Endpoint: o.rgw?.endpoint,
    rcloneEnv: o.server ? rcloneSftpEnv(o.server, 'sebsftp', o.ssh.knownHosts) : undefined,
    env: {},
  })
  try {
    const out = new Map<string, number>()
    for await (const info of storage.list(type) as AsyncIterable<ObjectInfo>) out.set(info.name, info.size)
    return out
  } finally {
    await storage.close()
  }
}

/** jsonSummary returns the `{"type":"summary"}` line of a `--json` run. */
export function jsonSummary(stdout: string): Record<string, unknown> {
  const lines = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
  const s = lines.find((l) => l.type === 'summary')
  assert.ok(s, `no summary in --json output:\n${stdout}`)
  return s
}

/** assertOneLineError checks a failure was reported as one `seb: …` line, without a stack trace. */
export function assertOneLineError(stderr: string, pattern: RegExp): void {
  // Progress lines and retry notes may come first; errors are the `seb: ` lines that are not notes.
  const lines = stderr.split('\n').filter((l) => l.startsWith('seb: ') && !l.startsWith('seb: note: '))
  assert.equal(lines.length, 1, `expected one error line, got:\n${stderr}`)
  assert.match(lines[0]!, /^seb: /)
  assert.match(lines[0]!, pattern)
  assert.doesNotMatch(stderr, /\n\s+at /, 'stack trace printed')
}
