// Why: issue 20's targets are ratios that must hold in every round of a repeated run (seb's peak RSS at most
// restic's, its first backup's CPU at most 1.1× the floor's, its wall time at most 1.25×, a run with nothing
// changed at most 3× a stat walk), and speed ratios no worse than the build before. Computing the verdicts
// from the recorded runs, rather than by eye, keeps every run's claim the same and shows every round.

import type { Run } from './rounds.js'
import { median } from './rounds.js'

/** The number of a run a target compares. */
export type Metric = 'wallMs' | 'cpuMs' | 'peakRssKiB'

/** One target's verdict. */
export interface Verdict {
  /** what is compared, e.g. "first backup, CPU: seb / floor" */
  label: string
  /** the largest ratio that meets the target */
  bound: number
  /** how the rounds combine: every round must meet the bound, or the median ratio must not exceed the baseline's */
  rule: 'every round' | 'no worse'
  /** seb's ratio round by round (null where a number is missing) */
  values: (number | null)[]
  /** the same ratio for the baseline build, when one ran */
  baseline?: (number | null)[]
  /** true: met; false: not met; null: not enough numbers to tell */
  met: boolean | null
}

/** roundRatios pairs the runs of two tools by round and returns a/b of the metric, round by round. */
export function roundRatios(a: readonly Run[], b: readonly Run[], metric: Metric): (number | null)[] {
  return a.map((ra) => {
    const rb = b.find((x) => x.round === ra.round)
    const va = ra[metric]
    const vb = rb?.[metric]
    return va === null || vb === null || vb === undefined || vb === 0 ? null : va / vb
  })
}

/**
 * everyRound is the verdict "a / b ≤ bound in every round": met when every round's ratio is known and
 * within the bound, not met when any known ratio exceeds it, unknown otherwise.
 */
export function everyRound(
  label: string,
  metric: Metric,
  bound: number,
  a: readonly Run[],
  b: readonly Run[],
  baseline?: readonly Run[],
): Verdict {
  const values = roundRatios(a, b, metric)
  const v: Verdict = { label, bound, rule: 'every round', values, met: verdictOf(values, bound) }
  if (baseline?.length) v.baseline = roundRatios(baseline, b, metric)
  return v
}

function verdictOf(values: readonly (number | null)[], bound: number): boolean | null {
  if (!values.length) return null
  if (values.some((x) => x !== null && x > bound)) return false
  return values.every((x) => x !== null) ? true : null
}

/**
 * noWorse is the verdict "seb's ratio to `b` is no worse than the baseline build's": the medians of the
 * round-by-round ratios compared, met when seb's is at most the baseline's.
 */
export function noWorse(
  label: string,
  metric: Metric,
  a: readonly Run[],
  baseline: readonly Run[],
  b: readonly Run[],
): Verdict {
  const values = roundRatios(a, b, metric)
  const before = roundRatios(baseline, b, metric)
  const now = median(values)
  const then = median(before)
  return {
    label,
    bound: then ?? Number.NaN,
    rule: 'no worse',
    values,
    baseline: before,
    met: now === null || then === null ? null : now <= then,
  }
}

function fmtRatio(x: number | null): string {
  return x === null ? '—' : x.toFixed(2)
}

/** verdictLine renders a verdict as one Markdown list item, every round listed. */
export function verdictLine(v: Verdict): string {
  const state = v.met === null ? 'unknown' : v.met ? 'met' : '**not met**'
  const rounds = v.values.map(fmtRatio).join(', ')
  if (v.rule === 'no worse') {
    return (
      `- ${v.label}: ${rounds} (median ${fmtRatio(median(v.values))}); baseline ${(v.baseline ?? []).map(fmtRatio).join(', ')} ` +
      `(median ${fmtRatio(median(v.baseline ?? []))}) (target: no worse than the baseline): ${state}`
    )
  }
  const base = v.baseline ? `; baseline ${v.baseline.map(fmtRatio).join(', ')}` : ''
  return `- ${v.label}: ${rounds} (target ≤ ${v.bound.toFixed(2)} in every round): ${state}${base}`
}
