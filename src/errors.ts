// Why: one error vocabulary for the whole program. Engine and I/O code throw these; the CLI's single
// error boundary (src/cli/main.ts) turns them into one line on stderr and a documented exit code.
import { ExitCode } from './exit-codes.js'

/** SebError is the base of every expected failure: a stable code, an exit code, one actionable line. */
export class SebError extends Error {
  readonly code: string
  readonly exitCode: number
  constructor(
    code: string,
    message: string,
    exitCode: number = ExitCode.Error,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.code = code
    this.exitCode = exitCode
  }
}
SebError.prototype.name = 'SebError'

/** UsageError: the command line or a setting is wrong. */
export class UsageError extends SebError {
  constructor(message: string) {
    super('usage', message, ExitCode.Usage)
  }
}

/**
 * RepositoryNotFoundError: the destination holds no seb repository. Without `detail` the message advises
 * `seb init`; where creating a repository is not the fix (a mistyped path given to restore, a disk not
 * mounted), `detail` says what is missing instead.
 */
export class RepositoryNotFoundError extends SebError {
  constructor(location: string, detail?: string) {
    super(
      'no-repository',
      detail
        ? `${location}: ${detail}`
        : `${location}: no seb repository here (run 'seb init ${location} --recipient KEY' first)`,
      ExitCode.NoRepository,
    )
  }
}

/** RepositoryLockedError: another writer holds the repository. */
export class RepositoryLockedError extends SebError {
  constructor(message: string) {
    super('locked', message, ExitCode.Locked)
  }
}

/** KeyError: gpg could not encrypt or decrypt with the keys or passphrase given. */
export class KeyError extends SebError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('key', message, ExitCode.Key, options)
  }
}

/** DamageError: the repository is damaged (missing, truncated or corrupt pack or index). */
export class DamageError extends SebError {
  constructor(message: string) {
    super('damaged', message, ExitCode.Damaged)
  }
}

/**
 * AuthenticityError: something read back from the destination is not the owner's: a forged, spliced or
 * replaced object, a rolled-back history, settings changed without the owner's signature. Nothing was
 * restored, deleted or written because of it.
 */
export class AuthenticityError extends SebError {
  constructor(message: string) {
    super('untrusted', message, ExitCode.Untrusted)
  }
}

/** InterruptedError: the run was stopped by SIGINT/SIGTERM after leaving the repository consistent. */
export class InterruptedError extends SebError {
  constructor() {
    super(
      'interrupted',
      'interrupted: the repository is consistent; run the same command again to finish',
      ExitCode.Interrupted,
    )
  }
}

/** NotFoundError: a storage object does not exist (the typed "not found" of the Storage interface). */
export class NotFoundError extends SebError {
  constructor(what: string) {
    super('not-found', `${what}: not found`)
  }
}

/** PermanentStorageError: a storage failure that retrying cannot fix (auth, permission, no space). */
export class PermanentStorageError extends SebError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('storage-permanent', message, ExitCode.Error, options)
  }
}

/** MessageNotFoundError: `--message-id` names a message no snapshot (or not the one chosen) holds. */
export class MessageNotFoundError extends SebError {
  constructor(ids: readonly string[], where: string) {
    super(
      'message-not-found',
      `no message with Message-ID ${ids.map((i) => `<${i.replace(/^<|>$/g, '')}>`).join(', ')} in ${where}; seb find DEST --message-id ID lists where it is`,
      ExitCode.Error,
    )
  }
}
