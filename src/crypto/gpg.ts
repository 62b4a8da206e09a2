// Why: every byte that leaves the machine is encrypted by the user's own GnuPG, so that the packs are
// standard OpenPGP messages anyone can decrypt with `gpg --decrypt`. This module is the one wrapper
// around the gpg process: argument building (pure), spawning with the passphrase on a pipe (never in
// argv), and turning gpg's stderr into one actionable line.
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process'
import type { Stream } from 'node:stream'
import { KeyError, SebError } from '../errors.js'

/** Encryption is how a repository encrypts: to public keys (backup needs no secret) or a passphrase. */
export type Encryption = { type: 'recipients'; recipients: string[] } | { type: 'passphrase' }

/** GpgContext carries what every gpg call needs: the binary, and the passphrase when one is used. */
export interface GpgContext {
  readonly encryption: Encryption
  readonly passphrase?: Buffer
  readonly gpgPath?: string
}

const COMMON = ['--batch', '--no-tty', '--quiet', '--no-greeting', '--no-permission-warning']

/** encryptArgs builds gpg's argv for encrypting stdin to stdout (no secrets in it). */
export function encryptArgs(enc: Encryption): string[] {
  // seb compresses with zstd before gpg; gpg's own zlib pass would only cost time.
  const base = [...COMMON, '--compress-algo', 'none', '--output', '-']
  if (enc.type === 'passphrase') {
    return [
      ...base,
      '--pinentry-mode',
      'loopback',
      '--passphrase-fd',
      '3',
      '--cipher-algo',
      'AES256',
      '--symmetric',
    ]
  }
  return [
    ...base,
    '--trust-model',
    'always',
    ...enc.recipients.flatMap((r) => ['--recipient', r]),
    '--encrypt',
  ]
}

/** decryptArgs builds gpg's argv for decrypting stdin to stdout. */
export function decryptArgs(enc: Encryption): string[] {
  const base = [...COMMON, '--output', '-']
  if (enc.type === 'passphrase')
    return [...base, '--pinentry-mode', 'loopback', '--passphrase-fd', '3', '--decrypt']
  return [...base, '--decrypt']
}

/** GpgProcess is a running gpg with a promise that settles when it exits (rejecting with a SebError). */
export interface GpgProcess {
  readonly child: ChildProcess
  readonly done: Promise<void>
  /**
   * passphraseSent settles once the passphrase (if any) is in gpg's pipe: a caller about to block its
   * thread on gpg's output must wait for it, or gpg would wait for the passphrase forever.
   */
  readonly passphraseSent: Promise<void>
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
      'this repository is encrypted with a passphrase: give --passphrase-file FILE or SEB_PASSPHRASE_FILE',
    )
  const stdio = [stdin, stdout, 'pipe', ...(usePass ? ['pipe'] : [])] as StdioOptions
  const child = spawn(ctx.gpgPath ?? 'gpg', args, { stdio })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-4000)
  })
  let passphraseSent = Promise.resolve()
  if (usePass) {
    const fd3 = child.stdio[3] as NodeJS.WritableStream
    fd3.on('error', () => {})
    passphraseSent = new Promise<void>((resolve) => {
      fd3.once('error', () => resolve())
      fd3.end(Buffer.concat([ctx.passphrase!, Buffer.from('\n')]), () => resolve())
    })
  }
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? gpgMissing() : new SebError('gpg', `gpg: ${err.message}`))
    })
    child.on('close', (code, signal) => {
      if (code === 0) resolve()
      else reject(gpgFailure(op, ctx.encryption, stderr, code, signal))
    })
  })
  done.catch(() => {})
  return { child, done, passphraseSent }
}

/** gpgMissing is the error when no gpg binary can be run. */
export function gpgMissing(): SebError {
  return new SebError(
    'gpg-missing',
    'gpg: command not found; install GnuPG (Debian/Ubuntu: apt-get install gnupg)',
  )
}

/** gpgFailure turns gpg's exit status and stderr into one clear line with the right error class. */
export function gpgFailure(
  op: 'encrypt' | 'decrypt',
  enc: Encryption,
  stderr: string,
  code: number | null,
  signal: NodeJS.Signals | null,
): SebError {
  const s = stderr
  const lastLine = s.trim().split('\n').filter(Boolean).pop() ?? ''
  if (signal) return new SebError('gpg', `gpg ${op} was stopped by ${signal}`)
  if (op === 'encrypt') {
    if (/expired/i.test(s))
      return new KeyError(
        `gpg cannot encrypt: a recipient key has expired (${lastLine}); renew it or change recipients with 'seb key'`,
      )
    if (/No public key|unusable public key|skipped/i.test(s)) {
      const who = enc.type === 'recipients' ? enc.recipients.join(', ') : ''
      return new KeyError(
        `gpg cannot encrypt to ${who}: public key not found or unusable in ${gnupgHome()} (import it with 'gpg --import')`,
      )
    }
  } else {
    if (/No secret key/i.test(s))
      return new KeyError(
        `gpg cannot decrypt: no secret key for this repository in ${gnupgHome()} (restore needs the private key)`,
      )
    if (/Bad session key|bad passphrase|wrong passphrase/i.test(s))
      return new KeyError('gpg cannot decrypt: wrong passphrase')
    if (
      /no valid OpenPGP data|manipulated|invalid packet|packet\(s\) with unknown|CRC error|unexpected end|decryption failed|MDC|premature|invalid/i.test(
        s,
      )
    ) {
      return new SebError('gpg-corrupt', `gpg cannot decrypt: data is damaged (${lastLine})`)
    }
  }
  return new SebError('gpg', `gpg ${op} failed (exit ${code}): ${lastLine || 'no message'}`)
}

function gnupgHome(): string {
  return process.env.GNUPGHOME ? `GNUPGHOME=${process.env.GNUPGHOME}` : '~/.gnupg'
}

/** KeyInfo is one public key as `gpg --list-keys` shows it. */
export interface KeyInfo {
  readonly fingerprint: string
  readonly uid: string
  readonly canEncrypt: boolean
  readonly expired: boolean
  readonly revoked: boolean
}

/** parseColonKeys reads `gpg --with-colons --list-keys` output (pure). */
export function parseColonKeys(out: string): KeyInfo[] {
  const keys: KeyInfo[] = []
  let cur: { fingerprint?: string; uid?: string; caps: string; validity: string } | null = null
  const flush = () => {
    if (cur?.fingerprint)
      keys.push({
        fingerprint: cur.fingerprint,
        uid: cur.uid ?? '',
        canEncrypt: /E/.test(cur.caps),
        expired: cur.validity === 'e',
        revoked: cur.validity === 'r',
      })
  }
  for (const line of out.split('\n')) {
    const f = line.split(':')
    if (f[0] === 'pub') {
      flush()
      cur = { caps: f[11] ?? '', validity: f[1] ?? '' }
    } else if (cur && f[0] === 'fpr' && !cur.fingerprint) cur.fingerprint = f[9]
    else if (cur && f[0] === 'uid' && !cur.uid) cur.uid = f[9] ?? ''
  }
  flush()
  return keys
}

/** resolveRecipients looks each recipient up in the user's keyring and returns usable fingerprints. */
export async function resolveRecipients(ids: readonly string[], gpgPath = 'gpg'): Promise<KeyInfo[]> {
  const out: KeyInfo[] = []
  for (const id of ids) {
    const text = await runCapture(gpgPath, [
      ...COMMON,
      '--with-colons',
      '--fixed-list-mode',
      '--list-keys',
      '--',
      id,
    ])
    const keys = parseColonKeys(text.stdout)
    if (text.code !== 0 || keys.length === 0)
      throw new KeyError(
        `recipient ${id}: no public key found in ${gnupgHome()} (import it with 'gpg --import KEYFILE')`,
      )
    if (keys.length > 1)
      throw new KeyError(`recipient ${id}: matches ${keys.length} keys; give the full fingerprint`)
    const k = keys[0]!
    if (k.revoked) throw new KeyError(`recipient ${id}: key ${k.fingerprint} is revoked`)
    if (k.expired)
      throw new KeyError(`recipient ${id}: key ${k.fingerprint} has expired; renew it or choose another key`)
    if (!k.canEncrypt)
      throw new KeyError(`recipient ${id}: key ${k.fingerprint} cannot encrypt (no encryption subkey)`)
    out.push(k)
  }
  return out
}

/** runCapture runs a short command and returns its exit code and output. */
export function runCapture(
  cmd: string,
  args: string[],
  input?: Buffer,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8')
    })
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8')
    })
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' && cmd.endsWith('gpg') ? gpgMissing() : err),
    )
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))
    child.stdin.on('error', () => {})
    child.stdin.end(input)
  })
}

/** checkTools fails early, with one clear line, when gpg or zstd cannot be run. */
export async function checkTools(gpgPath = 'gpg'): Promise<void> {
  await runCapture(gpgPath, ['--version'])
  await runCapture('zstd', ['--version']).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT'
      ? new SebError(
          'zstd-missing',
          'zstd: command not found; install it (Debian/Ubuntu: apt-get install zstd)',
        )
      : err
  })
}

/** canDecrypt tells whether this machine can decrypt the repository (secret key present, or passphrase given). */
export async function canDecrypt(ctx: GpgContext): Promise<boolean> {
  if (ctx.encryption.type === 'passphrase') return Boolean(ctx.passphrase)
  for (const fpr of ctx.encryption.recipients) {
    const r = await runCapture(ctx.gpgPath ?? 'gpg', [
      ...COMMON,
      '--with-colons',
      '--list-secret-keys',
      '--',
      fpr,
    ]).catch(() => null)
    if (r?.code === 0 && r.stdout.includes('sec')) return true
  }
  return false
}
