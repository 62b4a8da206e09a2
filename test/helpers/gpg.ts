// Why: tests use the real gpg with a throwaway GNUPGHOME holding a key without passphrase, exactly as
// a user's setup but disposable. One home per test file (node --test runs files in separate processes).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// Every test process gets a machine data folder of its own (the repository key and the pins live
// there, outside the cache): tests never touch ~/.local/share/seb, and seb processes they start inherit
// it. A test that plays a second machine gives SEB_DATA_DIR itself.
process.env.SEB_DATA_DIR ??= mkdtempSync(path.join(os.tmpdir(), 'seb-data-'))

/** TestKey is a generated key and the GNUPGHOME that holds it. */
export interface TestKey {
  readonly home: string
  readonly fingerprint: string
  readonly email: string
}

/** makeGnupgHome creates a GNUPGHOME with one ed25519/cv25519 key per e-mail given. */
export function makeGnupgHome(emails: string[] = ['alice@example.invalid']): {
  home: string
  keys: TestKey[]
  cleanup: () => void
} {
  const home = mkdtempSync(path.join(os.tmpdir(), 'seb-gnupg-'))
  // Short socket paths: gpg-agent's socket lives in GNUPGHOME and must fit in sun_path.
  writeFileSync(path.join(home, 'gpg-agent.conf'), 'allow-loopback-pinentry\n')
  const keys: TestKey[] = []
  for (const email of emails) {
    execFileSync(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        `Test <${email}>`,
        'future-default',
        'default',
        'never',
      ],
      { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' },
    )
    const out = execFileSync('gpg', ['--with-colons', '--list-keys', email], {
      env: { ...process.env, GNUPGHOME: home },
    }).toString()
    const fpr = out
      .split('\n')
      .find((l) => l.startsWith('fpr'))!
      .split(':')[9]!
    keys.push({ home, fingerprint: fpr, email })
  }
  return {
    home,
    keys,
    cleanup: () => {
      try {
        execFileSync('gpgconf', ['--kill', 'gpg-agent'], {
          env: { ...process.env, GNUPGHOME: home },
          stdio: 'ignore',
        })
      } catch {}
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** publicOnlyHome makes a GNUPGHOME holding only the public key of `key` (a backup machine). */
export function publicOnlyHome(key: TestKey): { home: string; cleanup: () => void } {
  const home = mkdtempSync(path.join(os.tmpdir(), 'seb-gnupg-pub-'))
  const pub = execFileSync('gpg', ['--armor', '--export', key.fingerprint], {
    env: { ...process.env, GNUPGHOME: key.home },
  })
  execFileSync('gpg', ['--batch', '--import'], {
    env: { ...process.env, GNUPGHOME: home },
    input: pub,
    stdio: ['pipe', 'ignore', 'ignore'],
  })
  return { home, cleanup: () => rmSync(home, { recursive: true, force: true }) }
}
