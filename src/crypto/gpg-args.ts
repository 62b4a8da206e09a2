// Why: what seb asks of gpg, as argument lists built in one place (pure, tested without gpg). Every call
// ignores the user's gpg.conf (`--no-options`): a `group`, `encrypt-to`, `hidden-encrypt-to` or
// `default-recipient` line there must never change or add who can read a backup, and an
// `auto-key-locate` or `auto-key-retrieve` must never send a lookup over the network. Recipients are
// full fingerprints, resolved once at init. Status lines go to stderr (`--status-fd 2`), where
// gpg-status.ts reads them. Secrets never appear here: a passphrase goes on file descriptor 3.

/** Encryption is how a repository encrypts: to public keys (backup needs no secret) or a passphrase. */
export type Encryption = { type: 'recipients'; recipients: string[] } | { type: 'passphrase' }

/** GPG_BASE is what every gpg call starts with. */
export const GPG_BASE: readonly string[] = [
  '--no-options',
  '--batch',
  '--no-tty',
  '--quiet',
  '--no-greeting',
  '--no-permission-warning',
  '--status-fd',
  '2',
  '--no-auto-key-retrieve',
  '--auto-key-locate',
  'local',
  '--keyserver-options',
  'no-auto-key-retrieve',
]

/** PASSPHRASE_ARGS read the passphrase from file descriptor 3 without asking anybody. */
const PASSPHRASE_ARGS = ['--pinentry-mode', 'loopback', '--passphrase-fd', '3']

/** encryptArgs builds gpg's argv for encrypting stdin to stdout. */
export function encryptArgs(enc: Encryption): string[] {
  // seb compresses with zstd before gpg; gpg's own zlib pass would only cost time.
  const base = [...GPG_BASE, '--compress-algo', 'none', '--output', '-']
  if (enc.type === 'passphrase')
    return [...base, ...PASSPHRASE_ARGS, '--cipher-algo', 'AES256', '--symmetric']
  return [
    ...base,
    '--trust-model',
    'always',
    '--no-encrypt-to',
    '--no-default-recipient',
    ...enc.recipients.flatMap((r) => ['--recipient', r]),
    '--encrypt',
  ]
}

/** decryptArgs builds gpg's argv for decrypting stdin to stdout. */
export function decryptArgs(enc: Encryption): string[] {
  const base = [...GPG_BASE, '--output', '-']
  if (enc.type === 'passphrase') return [...base, ...PASSPHRASE_ARGS, '--decrypt']
  return [...base, '--decrypt']
}

/** listArgs builds gpg's argv for listing keys (public, or secret) in machine-readable form. */
export function listArgs(secret: boolean, ids: readonly string[]): string[] {
  return [
    ...GPG_BASE,
    '--with-colons',
    '--fixed-list-mode',
    secret ? '--list-secret-keys' : '--list-keys',
    '--',
    ...ids,
  ]
}

/** detachSignArgs builds gpg's argv for an armored detached signature of stdin by `signer`. */
export function detachSignArgs(signer: string): string[] {
  return [...GPG_BASE, '--local-user', signer, '--armor', '--detach-sign', '--output', '-']
}

/**
 * verifyArgs builds gpg's argv for checking a detached signature against data on stdin; `signature` is
 * a file, or `-&N` for file descriptor N.
 */
export function verifyArgs(signature: string): string[] {
  return [
    ...GPG_BASE,
    '--enable-special-filenames',
    '--trust-model',
    'always',
    '--verify',
    '--',
    signature,
    '-',
  ]
}
