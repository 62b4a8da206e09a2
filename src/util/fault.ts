// Why: crash safety is proven at the moments that matter, not at random ones (issue 18). A test sets
// SEB_FAULT=<point>[:<n>] and seb kills itself with SIGKILL the n-th time (default the first) it reaches
// that named step — between uploading a pack and journalling it, after the commit object is saved and
// before its signature, in the middle of a cache save… With SEB_FAULT_LOG=<file>, every point reached
// is appended there, so a test can check that each point it names is really reached. Unset (always, in
// real use), a fault point costs one comparison.
import { appendFileSync } from 'node:fs'

const spec = process.env.SEB_FAULT ?? ''
const log = process.env.SEB_FAULT_LOG ?? ''
// Point names hold a colon themselves ("pack:uploaded"): a count is a last part that is a number.
const countGiven = /:(\d+)$/.exec(spec)
const target = countGiven ? spec.slice(0, countGiven.index) : spec
const wanted = Number(countGiven?.[1] ?? 1) || 1
const counts = new Map<string, number>()

/** FAULT_POINTS lists every named point, for the test that kills at each (docs/design.md, "Write order"). */
export const FAULT_POINTS = [
  'pack:before-upload',
  'pack:upload-half',
  'pack:uploaded',
  'pack:journalled',
  'cache:prepared',
  'commit:object-saved',
  'commit:signed',
  'cache:promote',
  'cache:state-half',
  'cleanup:deleting',
  'compact:pack-written',
  'compact:committed',
  'compact:deleting',
  'rotate:object',
  'rotate:committed',
  'rotate:signature',
] as const

/** FaultPoint is one named step. */
export type FaultPoint = (typeof FAULT_POINTS)[number]

/** faultsArmed says whether a fault point can fire or is logged (a test is running with SEB_FAULT). */
export function faultsArmed(): boolean {
  return Boolean(spec || log)
}

/** fault kills the process at the configured point (a test hook; a no-op otherwise). */
export function fault(point: FaultPoint): void {
  if (!spec && !log) return
  const n = (counts.get(point) ?? 0) + 1
  counts.set(point, n)
  if (log) appendFileSync(log, `${point}\n`)
  if (point === target && n === wanted) process.kill(process.pid, 'SIGKILL')
}
