// Why: gpg must refuse to encrypt to a revoked or an expired key, and seb must say so. Tests make such
// keys in their throwaway GNUPGHOME: revoked with the certificate gpg stores at key generation, expired
// by generating it with a faked clock in the past (no waiting for an expiry to pass).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'

function gpg(home: string, args: string[], input?: Buffer | string): Buffer {
  return execFileSync('gpg', ['--batch', ...args], {
    env: { ...process.env, GNUPGHOME: home },
    input,
    stdio: ['pipe', 'pipe', 'ignore'],
  })
}

function fingerprintOf(home: string, email: string): string {
  const out = gpg(home, ['--with-colons', '--list-keys', email]).toString()
  return out
    .split('\n')
    .find((l) => l.startsWith('fpr'))!
    .split(':')[9]!
}

/** addRevokedKey adds a key for `email` to `home` and revokes it; it returns the fingerprint. */
export function addRevokedKey(home: string, email: string): string {
  gpg(home, [
    '--passphrase',
    '',
    '--quick-gen-key',
    `Revoked <${email}>`,
    'future-default',
    'default',
    'never',
  ])
  const fpr = fingerprintOf(home, email)
  // gpg stores a revocation certificate with its armor line masked by a ':' against accidental import.
  const cert = readFileSync(path.join(home, 'openpgp-revocs.d', `${fpr}.rev`), 'utf8').replace(
    /^:-----BEGIN/m,
    '-----BEGIN',
  )
  gpg(home, ['--import'], cert)
  return fpr
}

/** addExpiredKey adds a key for `email` to `home` that expired in 2020; it returns the fingerprint. */
export function addExpiredKey(home: string, email: string): string {
  gpg(home, [
    '--passphrase',
    '',
    '--faked-system-time',
    '20200101T000000',
    '--quick-gen-key',
    `Expired <${email}>`,
    'future-default',
    'default',
    '1d',
  ])
  return fingerprintOf(home, email)
}
