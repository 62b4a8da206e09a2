// Why: a failed system call reaches the user as one short phrase ("permission denied", "no such
// file"), never as a bare errno code, and the same code must read the same everywhere — config files,
// storage, the scanner, restore. This table is that wording, written once.

const TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  // EPERM is "operation not permitted"; for a user reading or writing a file it means the same.
  EPERM: 'permission denied',
  EISDIR: 'is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENOTEMPTY: 'the folder is not empty',
  ENOSPC: 'no space left',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only filesystem',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EBUSY: 'busy',
  EXDEV: 'on another filesystem',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'temporary failure in name resolution',
}

/** errnoCode returns the errno code (`'ENOENT'`, …) of an error, or undefined when it has none. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * errnoText describes a failed system call in a few words: the phrase for its errno code, else the
 * code itself, else the error's message. Accepts an error or a code.
 */
export function errnoText(err: unknown): string {
  const code = typeof err === 'string' ? err : errnoCode(err)
  if (code !== undefined) return TEXT[code] ?? code
  if (err instanceof Error) return err.message
  return String(err)
}
