// Why: what mbsync or offlineimap do to a Maildir (X-TUID lines, new names on a move, arrival-date
// mtimes) can only be tested against a real IMAP server. This starts Dovecot as a child process with
// its own config in a private temp folder (the recipe of shared/brief/mailservers.md, as root, touching
// neither /etc/dovecot nor systemd), with user alice / secret on a free port of 127.0.0.1.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { ImapActor } from './imap-actor.js'
import { freePort, requireBinary } from './sshd.js'

/** Dovecot is a running test server. */
export interface Dovecot {
  readonly port: number
  /** dir holds the config, logs, run state and the server's mail (dir/server). */
  readonly dir: string
  readonly user: string
  readonly password: string
  /** pid is the master process's (also in dir/run/master.pid). */
  readonly pid: number
  /** connect logs in as the user, to act on the server as a person. */
  connect(): Promise<ImapActor>
  /** log returns Dovecot's log so far (for failure messages). */
  log(): string
  /** stop ends the master by its PID (SIGTERM, SIGKILL after 5 s) and removes dir; safe to call twice. */
  stop(): Promise<void>
}

function idOf(flag: '-u' | '-g', user: string): number {
  try {
    return Number(execFileSync('id', [flag, user], { encoding: 'utf8' }).trim())
  } catch {
    throw new Error(`no '${user}' system user: install the Debian package 'dovecot-imapd'`)
  }
}

/** The mail user must traverse every folder down to the server's mail. */
function checkTraversable(dir: string): void {
  for (let p = path.dirname(dir); ; p = path.dirname(p)) {
    if ((statSync(p).mode & 0o001) === 0)
      throw new Error(
        `${p} is not searchable by others (o+x); Dovecot's mail user cannot reach ${dir}: set TMPDIR`,
      )
    if (p === path.dirname(p)) break
  }
}

function config(dir: string, port: number, uid: number, gid: number): string {
  return `# seb test server: everything under ${dir}
instance_name = seb-test-${port}
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
ssl = no
# Tests need no durability: without fsync an APPEND takes a fraction of the time.
mail_fsync = never
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = ${uid}
mail_location = maildir:${dir}/server/Maildir:LAYOUT=fs:INBOX=${dir}/server/Maildir/INBOX
namespace inbox {
  inbox = yes
  separator = /
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/server
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.once('error', () => resolve(false))
  })
}

function exited(c: ChildProcess, ms: number): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    c.once('exit', () => {
      clearTimeout(t)
      resolve(true)
    })
  })
}

/** startDovecot starts a private Dovecot on 127.0.0.1 and returns when it accepts connections. */
export async function startDovecot(): Promise<Dovecot> {
  const dovecot = requireBinary('/usr/sbin/dovecot', 'dovecot-imapd')
  requireBinary('/usr/lib/dovecot/imap', 'dovecot-imapd')
  if (process.getuid?.() !== 0)
    throw new Error('the Dovecot test server runs as root (it switches to the dovecot user)')
  const uid = idOf('-u', 'dovecot')
  const gid = idOf('-g', 'dovecot')
  idOf('-u', 'dovenull')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seb-dovecot-'))
  try {
    chmodSync(dir, 0o755)
    checkTraversable(dir)
    for (const d of ['server', 'run', 'state']) mkdirSync(path.join(dir, d))
    chownSync(path.join(dir, 'server'), uid, gid)
    // The recipe's 0640 root:root file is unreadable to the auth process, which runs as dovecot:
    // the file belongs to the dovecot group.
    const users = path.join(dir, 'users')
    writeFileSync(users, 'alice:{PLAIN}secret::::::\n', { mode: 0o640 })
    chownSync(users, 0, gid)
    const port = await freePort()
    const conf = path.join(dir, 'dovecot.conf')
    writeFileSync(conf, config(dir, port, uid, gid))
    try {
      execFileSync(dovecot, ['-c', conf, '-n'], { stdio: ['ignore', 'ignore', 'pipe'] })
    } catch (e) {
      throw new Error(`dovecot rejected its config: ${String((e as { stderr?: Buffer }).stderr ?? e)}`)
    }
    // detached: its own session and process group (setsid), so a test runner's signals do not reach it.
    const child = spawn(dovecot, ['-c', conf, '-F'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (d: Buffer) => (output += d))
    child.stderr!.on('data', (d: Buffer) => (output += d))
    const log = () => {
      let text = output
      try {
        text += readFileSync(path.join(dir, 'dovecot.log'), 'utf8')
      } catch {}
      return text
    }
    const deadline = Date.now() + 10_000
    while (!(await canConnect(port))) {
      if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`dovecot did not start listening on ${port}:\n${log()}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    const pid = child.pid!
    let stopped = false
    return {
      port,
      dir,
      user: 'alice',
      password: 'secret',
      pid,
      connect: () => ImapActor.connect(port, 'alice', 'secret'),
      log,
      async stop() {
        if (stopped) return
        stopped = true
        child.kill('SIGTERM')
        if (!(await exited(child, 5000))) {
          child.kill('SIGKILL')
          await exited(child, 2000)
        }
        // The master's children (auth, imap, log…) end when it does; any left in its group are ended.
        try {
          process.kill(-pid, 'SIGKILL')
        } catch {}
        rmSync(dir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    throw e
  }
}
