// Why: the shape every bad-input test checks: the documented exit code, the failure as exactly one
// `seb: …` line on stderr, and no stack trace.
import assert from 'node:assert/strict'
import type { SebRun } from '../helpers/cli.js'

/** assertOneLine checks the error is a single `seb: …` line with no stack trace; it returns the line. */
export function assertOneLine(r: SebRun, code: number, pattern: RegExp): string {
  assert.equal(r.code, code, `exit code ${r.code}, stderr: ${r.stderr}`)
  const lines = r.stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('seb'))
  assert.equal(lines.length, 1, `expected one line, got:\n${r.stderr}`)
  assert.match(lines[0]!, /^seb: /)
  assert.match(lines[0]!, pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /)
  return lines[0]!
}
