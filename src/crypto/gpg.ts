// Why: every byte that leaves the machine is encrypted by the user's own GnuPG, so that the packs are
// standard OpenPGP messages anyone can decrypt with `gpg --decrypt`. This module is the one place gpg
// is started: with the arguments of gpg-args.ts, the passphrase on a pipe (never in argv), its status
// lines read as they come (gpg-status.ts), and its outcome judged by gpg-failure.ts.
import type { ChildProcess, StdioOptions } from 'node:child_process'
import type { Stream } from 'node:stream'
import { KeyError } from '../errors.js'
import { type ProcessResult, run, start } from '../util/subprocess.js'
import { decryptArgs, type Encryption, encryptArgs } from './gpg-args.js'
import { classifyGpg, type DecryptExpectation, type GpgOp } from './gpg-failure.js'
import { type GpgStatus, newStatus, readStatusLine } from './gpg-status.js'

export type { Encryption } from './gpg-args.js'
export { gpgMissing } from './gpg-failure.js'

/** GpgContext carries what every gpg call needs: how the repository encrypts, the passphrase if any. */
export interface GpgContext extends DecryptExpectation {
  readonly encryption: Encryption
  readonly passphrase?: Buffer
  readonly gpgPath?: string
}

/** GpgProcess is a running gpg; `done` settles when it exits, with its status, or a classified error. */
export interface GpgProcess {
  readonly child: ChildProcess
  readonly done: Promise<GpgStatus>
  /**
   * passphraseSent settles once the passphrase (if any) is in gpg's pipe: a caller about to block its
   * thread on gpg's output must wait for it, or gpg would wait for the passphrase forever.
   */
  readonly passphraseSent: Promise<void>
  kill(): void
}

/** StdioSlot is what one of a child's standard streams may be connected to. */
export type StdioSlot = 'pipe' | 'ignore' | number | Stream

/** spawnGpg starts gpg for 'encrypt' or 'decrypt'; stdin and stdout are given by the caller. */
export function spawnGpg(
  ctx: GpgContext,
  op: 'encrypt' | 'decrypt',
  stdin: StdioSlot,
  stdout: StdioSlot,
): GpgProcess {
  const args = op === 'encrypt' ? encryptArgs(ctx.encryption) : decryptArgs(ctx.encryption)
  const usePass = ctx.encryption.type === 'passphrase'
  if (usePass && !ctx.passphrase)
    throw new KeyError(
      'this repository is encrypted with a passphrase, and none was given (the passphrase file setting)',
    )
  const status = newStatus()
  const running = start(ctx.gpgPath ?? 'gpg', args, {
    stdio: [stdin, stdout, 'pipe', ...(usePass ? ['pipe'] : [])] as StdioOptions,
    onStderrLine: (line) => readStatusLine(status, line),
  })
  const { child } = running
  let passphraseSent = Promise.resolve()
  if (usePass) {
    const fd3 = child.stdio[3] as NodeJS.WritableStream
    fd3.on('error', () => {})
    passphraseSent = new Promise<void>((resolve) => {
      fd3.once('error', () => resolve())
      fd3.end(Buffer.concat([ctx.passphrase!, Buffer.from('\n')]), () => resolve())
    })
  }
  const done = running.result.then((r) => {
    const err = classifyGpg(op, r, status, ctx)
    if (err) throw err
    return status
  })
  done.catch(() => {})
  return { child, done, passphraseSent, kill: running.kill }
}

/** GpgRun is a short gpg call's result, status and output. */
export interface GpgRun {
  readonly result: ProcessResult
  readonly status: GpgStatus
  readonly stdout: string
}

/** runGpg runs a short gpg command (listing, signing, verifying) to its end. */
export async function runGpg(
  args: readonly string[],
  input?: Buffer | string,
  gpgPath = 'gpg',
): Promise<GpgRun> {
  const status = newStatus()
  const r = await run(gpgPath, args, { input, onStderrLine: (line) => readStatusLine(status, line) })
  return { result: r, status, stdout: r.stdout }
}

/** checkGpg turns a short gpg run's failure into its error (a missing gpg included). */
export function checkGpg(op: GpgOp, g: GpgRun): void {
  const err = classifyGpg(op, g.result, g.status)
  if (err) throw err
}

/** checkTools fails early, with one clear line, when gpg cannot be run. */
export async function checkTools(gpgPath = 'gpg'): Promise<void> {
  const g = await runGpg(['--version'], undefined, gpgPath)
  if (g.result.spawnError) checkGpg('list', g)
}
