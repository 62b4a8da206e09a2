// Why: the terminal tests drive seb in a real pseudo-terminal through tmux; they share how to tell
// whether tmux is there (they skip only without it, and .ci/run installs it) and how to quote for its shell.
import { execFileSync } from 'node:child_process'

/** hasTmux tells whether the tmux command runs. */
export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** sq quotes `s` for a POSIX shell. */
export const sq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
