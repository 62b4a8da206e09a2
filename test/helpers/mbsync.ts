// Why: the Maildir seb backs up is written by a sync tool, and mbsync (isync) writes it in its own way
// (an X-TUID line in every message, new names on a server-side move). This runs the real mbsync against
// the test Dovecot with the recipe's channel (all folders, both ways, state in the Maildir, arrival dates
// as mtimes), and simulates a reinstall by downloading everything again.
import { spawn } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { Dovecot } from './dovecot.js'
import { requireBinary } from './sshd.js'

/** MbsyncRun is what one mbsync run printed and how long it took. */
export interface MbsyncRun {
  ms: number
  output: string
}

/** Mbsync syncs one local Maildir with the test server. */
export interface Mbsync {
  readonly maildir: string
  readonly rc: string
  /** sync runs `mbsync -c RC -a` and fails when mbsync does. */
  sync(): Promise<MbsyncRun>
  /** redownload removes the Maildir and mbsync's state (kept inside it) and syncs again: a new laptop. */
  redownload(): Promise<MbsyncRun>
}

let rcCount = 0

/** mbsyncFor writes an mbsync config (mode 0600, in the server's folder) for a local Maildir path. */
export function mbsyncFor(server: Dovecot, maildir: string): Mbsync {
  const mbsync = requireBinary('mbsync', 'isync')
  const rc = path.join(server.dir, `mbsync-${++rcCount}.rc`)
  writeFileSync(
    rc,
    [
      'IMAPAccount t',
      'Host 127.0.0.1',
      `Port ${server.port}`,
      `User ${server.user}`,
      `Pass ${server.password}`,
      'SSLType None',
      'AuthMechs LOGIN PLAIN',
      '',
      'IMAPStore far',
      'Account t',
      '',
      'MaildirStore near',
      `Path ${maildir}/`,
      `Inbox ${maildir}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel t',
      'Far :far:',
      'Near :near:',
      'Patterns *',
      'Create Both',
      'Expunge Both',
      'Sync All',
      'SyncState *',
      'CopyArrivalDate yes',
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  const sync = () =>
    new Promise<MbsyncRun>((resolve, reject) => {
      mkdirSync(maildir, { recursive: true })
      const t0 = performance.now()
      const child = spawn(mbsync, ['-c', rc, '-a'], { stdio: ['ignore', 'pipe', 'pipe'] })
      let output = ''
      child.stdout.on('data', (d: Buffer) => (output += d))
      child.stderr.on('data', (d: Buffer) => (output += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
      child.on('error', reject)
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        const ms = performance.now() - t0
        if (code === 0) resolve({ ms, output })
        else
          reject(new Error(`mbsync exited with ${code ?? signal}:\n${output}\n${server.log().slice(-2000)}`))
      })
    })
  return {
    maildir,
    rc,
    sync,
    redownload() {
      rmSync(maildir, { recursive: true, force: true })
      return sync()
    },
  }
}
