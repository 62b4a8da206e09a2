// Why: the SFTP backend is tested, and the remote benchmark measured, against a real OpenSSH sshd (the server
// rsync.net runs), started on 127.0.0.1 in a temp dir with its own pinned host key and client key. Stopping
// it must reach the per-connection sshd processes too (they leave the listener's process group), or
// `node --test` hangs.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** requireBinary fails (never skips) when a server binary is missing, naming the Debian package. */
export function requireBinary(file: string, debianPackage: string): string {
  if (path.isAbsolute(file)) {
    if (existsSync(file)) return file
  } else {
    for (const dir of (process.env.PATH ?? '').split(':')) {
      const full = path.join(dir, file)
      if (dir && existsSync(full)) return full
    }
  }
  throw new Error(
    `${file} not found: install the Debian package '${debianPackage}' (apt-get install -y ${debianPackage})`,
  )
}

/** freePort asks the kernel for a free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })
}

/** descendants lists every process below `pid` (children first found through /proc). */
export function descendants(pid: number): number[] {
  const out: number[] = []
  const walk = (p: number) => {
    let text = ''
    try {
      text = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8')
    } catch {
      return
    }
    for (const c of text.split(/\s+/).filter(Boolean).map(Number)) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/** Sshd is a running test server. */
export interface Sshd {
  readonly port: number
  /** dir holds keys and config; dataDir is the SFTP start folder (the "remote home"). */
  readonly dir: string
  readonly dataDir: string
  readonly user: string
  readonly clientKey: string
  readonly hostKeyLine: string
  /** knownHosts is a known_hosts file that pins this server's host key. */
  readonly knownHosts: string
  /** log returns what the listener wrote to stderr since it (re)started (connection processes included). */
  log(): string
  /** signal sends a signal to the listener and every per-connection process. */
  signal(sig: NodeJS.Signals): void
  /** kill SIGKILLs the whole server (a crash) and waits for the listener to die. */
  kill(): Promise<void>
  /** start (re)starts the listener on the same port with the same keys. */
  start(): Promise<void>
  /** stop terminates everything and removes the temp dir (safe to call twice). */
  stop(): Promise<void>
}

/** SshdOptions tune a test server: its log level and extra sshd_config lines (later lines lose). */
export interface SshdOptions {
  /** logLevel is sshd's LogLevel (default VERBOSE; DEBUG1 logs forwarding requests and ciphers). */
  readonly logLevel?: string
  /** config lines are put first in sshd_config, so they win over the defaults below them. */
  readonly config?: readonly string[]
}

/** startSshd starts a private sshd on 127.0.0.1 and returns when it listens. */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const sshd = requireBinary('/usr/sbin/sshd', 'openssh-server')
  requireBinary('ssh-keygen', 'openssh-client')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seb-sshd-'))
  const dataDir = path.join(dir, 'home')
  mkdirSync(dataDir)
  const isRoot = process.getuid?.() === 0
  if (isRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 })
  const user = os.userInfo().username
  const hostKey = path.join(dir, 'ssh_host_ed25519_key')
  const clientKey = path.join(dir, 'client_ed25519')
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'seb-test-host', '-f', hostKey])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'seb-test-client', '-f', clientKey])
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`))
  const port = await freePort()
  const hostKeyLine = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
  const knownHosts = path.join(dir, 'known_hosts')
  writeFileSync(knownHosts, `[127.0.0.1]:${port} ${hostKeyLine}\n`)
  const config = path.join(dir, 'sshd_config')
  writeFileSync(
    config,
    [
      // sshd_config: the first value obtained for a keyword wins, so the test's lines come first.
      ...(options.config ?? []),
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKey}`,
      'PidFile none',
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      `UsePAM ${isRoot ? 'no' : 'yes'}`,
      'StrictModes no',
      // -d: relative paths resolve in dataDir, standing in for the remote home.
      `Subsystem sftp internal-sftp -d ${dataDir}`,
      `LogLevel ${options.logLevel ?? 'VERBOSE'}`,
      'PrintMotd no',
      'UseDNS no',
      'MaxStartups 100',
      'MaxSessions 100',
      '',
    ].join('\n'),
  )

  let child: ChildProcess | undefined
  let log = ''
  const seen = new Set<number>()
  const tree = (): number[] => {
    if (!child?.pid) return []
    const pids = [child.pid, ...descendants(child.pid)]
    for (const p of pids) seen.add(p)
    return pids
  }
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => c.once('exit', () => resolve()))

  const start = async () => {
    log = ''
    const c = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    child = c
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s:\n${log}`)), 10_000)
      c.stderr!.on('data', (d: Buffer) => {
        log += d.toString()
        if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
          clearTimeout(timer)
          resolve()
        }
      })
      c.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`sshd exited with ${code}:\n${log}`))
      })
    })
  }

  const server: Sshd = {
    port,
    dir,
    dataDir,
    user,
    clientKey,
    hostKeyLine,
    knownHosts,
    log: () => log,
    signal(sig) {
      for (const p of tree()) signalPid(p, sig)
    },
    async kill() {
      const c = child
      server.signal('SIGKILL')
      if (c) await exited(c)
    },
    start,
    async stop() {
      const c = child
      const pids = tree()
      for (const p of pids) signalPid(p, 'SIGCONT')
      for (const p of pids) signalPid(p, 'SIGTERM')
      if (c) {
        const t = setTimeout(() => {
          for (const p of [...seen]) signalPid(p, 'SIGKILL')
        }, 3000)
        await exited(c)
        clearTimeout(t)
      }
      // Connection processes that outlived the listener (reparented) are ended by pid, too.
      for (const p of seen) if (existsSync(`/proc/${p}`) && isSshd(p)) signalPid(p, 'SIGKILL')
      child = undefined
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await start()
  return server
}

function isSshd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('sshd')
  } catch {
    return false
  }
}
