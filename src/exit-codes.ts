// Why: the exit codes are a public, stable contract for scripts and cron (README "Exit codes").
// Modelled on restic's table so that wrappers written for restic read seb the same way.

/** ExitCode lists every code seb returns. Never renumber: scripts depend on them. */
export const ExitCode = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  PartialSource: 3,
  NoRepository: 10,
  Locked: 11,
  Key: 12,
  Damaged: 13,
  Untrusted: 14,
  Interrupted: 130,
} as const

/** exitCodeTable is what `seb --help` and the README print. */
export const exitCodeTable = `Exit codes:
  0    success
  1    error (the message says what and what to do)
  2    usage error (bad option, setting or argument)
  3    backup done, but some source files could not be read (they are listed)
  10   no seb repository at the destination
  11   the repository is locked by another run
  12   key or passphrase problem (unknown recipient, no secret key, wrong passphrase)
  13   damage found (verify/restore: missing, truncated or corrupt data)
  14   the destination failed authentication (forged, replaced or rolled-back data); nothing was changed
  130  interrupted (Ctrl-C / SIGTERM); the repository is consistent`

/**
 * worstExitCode picks the exit code of a run of several jobs (`seb backup --all`): any failure beats
 * 3 ("done, some files unreadable"), which beats 0; among failures the highest code wins, so an
 * interruption (130) is never hidden.
 */
export function worstExitCode(codes: readonly number[]): number {
  const rank = (c: number) => (c === ExitCode.Ok ? 0 : c === ExitCode.PartialSource ? 1 : 2)
  let worst: number = ExitCode.Ok
  for (const c of codes) if (rank(c) > rank(worst) || (rank(c) === rank(worst) && c > worst)) worst = c
  return worst
}
