// Why: a pack must stay readable by the tools a user restores with when seb is gone. Tests of the
// archive format therefore read what seb wrote with those tools — `gpg --decrypt`, `zstd -d`, GNU tar —
// never with seb's own reader, and make packs the one way seb does (PackWriter), for the readers' tests.
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import type { GpgContext } from '../../src/crypto/gpg.js'
import { type FinishedPack, PackWriter } from '../../src/pack/pack-writer.js'

/** sha256 is the hex SHA-256 of `data`, as the index records a blob's hash. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/**
 * gpgDecrypt decrypts a message (a file, or its bytes) with the system gpg in `home`, as a user would;
 * with `passphraseFile`, a file holding the passphrase. It throws when gpg fails.
 */
export function gpgDecrypt(message: string | Buffer, home: string, passphraseFile?: string): Buffer {
  const pass =
    passphraseFile === undefined ? [] : ['--pinentry-mode', 'loopback', '--passphrase-file', passphraseFile]
  return execFileSync(
    'gpg',
    ['--batch', '--quiet', ...pass, '--decrypt', ...(typeof message === 'string' ? [message] : [])],
    {
      env: { ...process.env, GNUPGHOME: home },
      input: typeof message === 'string' ? undefined : message,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 1 << 28,
    },
  )
}

/** unzstd decompresses a zstd stream (any number of frames) with the system zstd. */
export function unzstd(data: Buffer): Buffer {
  return execFileSync('zstd', ['-d', '-q', '-c'], { input: data, maxBuffer: 1 << 28 })
}

/** ListedMember is one line of GNU tar's verbose listing. */
export interface ListedMember {
  readonly type: 'file' | 'directory' | 'symlink' | 'other'
  /** permission bits, setuid/setgid/sticky included */
  readonly mode: number
  readonly size: number
  /** the mtime GNU tar read (pax gives sub-second ones), in microseconds */
  readonly mtimeUs: number
  /** the name as GNU tar prints it (a folder's ends with '/'; names starting with a space are not supported) */
  readonly name: string
  readonly target?: string
}

/**
 * tarList lists an archive with GNU tar (`tar -tv --full-time`), one entry per member in order: the
 * ordinals seb records are positions in this list.
 */
export function tarList(tar: Buffer): ListedMember[] {
  const out = execFileSync(
    'tar',
    ['-tv', '--full-time', '--numeric-owner', '--quoting-style=literal', '-f', '-'],
    { input: tar, env: { ...process.env, TZ: 'UTC' }, maxBuffer: 1 << 26 },
  ).toString('utf8')
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S{10}) \S+ +(\d+) (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))? +(.*)$/.exec(line)
      if (!m) throw new Error(`tar listing: cannot read ${JSON.stringify(line)}`)
      const [, perms, size, day, time, frac = '', rest] = m as unknown as string[]
      const type =
        perms![0] === '-' ? 'file' : perms![0] === 'd' ? 'directory' : perms![0] === 'l' ? 'symlink' : 'other'
      const [name, target] = type === 'symlink' ? rest!.split(' -> ') : [rest!, undefined]
      const seconds = Date.parse(`${day}T${time}Z`) / 1000
      const us = Number(frac.padEnd(9, '0').slice(0, 6))
      return {
        type,
        mode: modeOf(perms!),
        size: Number(size),
        mtimeUs: seconds * 1e6 + us,
        name: name!,
        ...(target === undefined ? {} : { target }),
      }
    })
}

/** modeOf reads `ls -l` permission text (rwsr-xr-x and the like) as mode bits. */
function modeOf(perms: string): number {
  let mode = 0
  const bit = (i: number, c: string, special: number, value: number) => {
    const ch = perms[i]!
    if (ch === c || ch === (special === 0o1000 ? 't' : 's')) mode |= value
    if (ch === 's' || ch === 'S' || ch === 't' || ch === 'T') mode |= special
  }
  bit(1, 'r', 0, 0o400)
  bit(2, 'w', 0, 0o200)
  bit(3, 'x', 0o4000, 0o100)
  bit(4, 'r', 0, 0o040)
  bit(5, 'w', 0, 0o020)
  bit(6, 'x', 0o2000, 0o010)
  bit(7, 'r', 0, 0o004)
  bit(8, 'w', 0, 0o002)
  bit(9, 'x', 0o1000, 0o001)
  return mode
}

/** tarExtract extracts an archive into `dir` with GNU tar (as root: owners, modes and setuid kept). */
export function tarExtract(tar: Buffer, dir: string): void {
  execFileSync('tar', ['-x', '-f', '-', '-C', dir], { input: tar, maxBuffer: 1 << 26 })
}

/** packPlaintext is a pack's tar as a user gets it: `gpg --decrypt | zstd -d`. */
export function packPlaintext(spool: string | Buffer, home: string): Buffer {
  return unzstd(gpgDecrypt(spool, home))
}

/**
 * messageKeyIds lists the key ids an OpenPGP message is encrypted to, from `gpg --list-packets` (no
 * secret key needed; a hidden recipient shows as 0000000000000000).
 */
export function messageKeyIds(file: string, home: string): string[] {
  let out = ''
  try {
    out = execFileSync('gpg', ['--batch', '--list-packets', '--list-only', file], {
      env: { ...process.env, GNUPGHOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString()
  } catch (err) {
    out = String((err as { stdout?: Buffer }).stdout ?? '')
  }
  return [...out.matchAll(/keyid ([0-9A-F]{16})/g)].map((m) => m[1]!).sort()
}

/** encryptionSubkeyId is the key id of a key's encryption subkey. */
export function encryptionSubkeyId(fingerprint: string, home: string): string {
  const out = execFileSync('gpg', ['--with-colons', '--list-keys', fingerprint], {
    env: { ...process.env, GNUPGHOME: home },
  }).toString()
  const sub = out.split('\n').find((l) => l.startsWith('sub:') && l.split(':')[11]!.includes('e'))!
  return sub.split(':')[4]!
}

/** writePack makes a pack in `spoolDir` with PackWriter: `fill` adds the members, then it is finished. */
export async function writePack(
  ctx: GpgContext,
  spoolDir: string,
  fill: (w: PackWriter) => Promise<void>,
): Promise<FinishedPack> {
  const w = await PackWriter.start(ctx, spoolDir)
  try {
    await fill(w)
  } catch (err) {
    await w.abort()
    throw err
  }
  return w.finish()
}
