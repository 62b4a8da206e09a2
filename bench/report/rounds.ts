// Why: medians hide the spread, and issue 20's targets must hold in every round; so under each table the
// benchmark lists every run of every repeated step with all its numbers (wall, CPU, peak RSS and what else
// the machine was doing), and the targets' verdicts round by round.

import type { Run } from '../rounds.js'
import { type Verdict, verdictLine } from '../targets.js'
import { fmtRss, fmtS } from './format.js'

/**
 * runsMarkdown lists every run of the repeated steps (wall seconds, in the order run) and seb's ratio to
 * the floor round by round: the spread the medians hide. Empty when nothing ran more than once.
 */
export function runsMarkdown(runs: Record<string, number[]>): string {
  const s = (ms: number) => (ms / 1000).toFixed(2)
  const parts: string[] = []
  for (const [step, label] of [
    ['first', 'first backup'],
    ['nothing', 'nothing changed'],
    ['restore', 'full restore'],
  ] as const) {
    const tools = Object.keys(runs).filter((k) => k.endsWith(`/${step}`) && (runs[k]?.length ?? 0) > 1)
    if (!tools.length) continue
    const list = tools.map((k) => `${k.slice(0, -step.length - 1)} ${runs[k]!.map(s).join(', ')}`).join('; ')
    const seb = runs[`seb/${step}`]
    const floor = runs[`floor/${step}`]
    const rounds =
      seb && floor && seb.length === floor.length
        ? ` (seb/floor round by round: ${seb.map((v, i) => `${(v / floor[i]!).toFixed(2)}×`).join(', ')})`
        : ''
    parts.push(`${label}: ${list}${rounds}`)
  }
  return parts.length ? `Every run, in the order run (s): ${parts.join('. ')}.` : ''
}

/** The step names of the results and how the tables call them. */
export const STEP_LABELS: Record<string, string> = {
  first: 'first backup',
  nothing: 'nothing changed',
  day: 'a day of mail',
  restore: 'full restore',
}

/**
 * roundsTable lists every run by step, round and tool: wall time, CPU (user + sys, and the cores that
 * makes), peak RSS, and the machine around it: the load average at its start and the cores that other
 * processes and other guests (steal) took meanwhile. `names` renames tools (the floor of a run with nothing
 * changed is the stat walk).
 */
export function roundsTable(
  rounds: Record<string, Run[]>,
  names: (tool: string, step: string) => string = (t) => t,
): string {
  const rows: { step: string; tool: string; run: Run }[] = []
  for (const [key, runs] of Object.entries(rounds)) {
    const i = key.lastIndexOf('/')
    for (const run of runs) rows.push({ step: key.slice(i + 1), tool: key.slice(0, i), run })
  }
  if (!rows.length) return ''
  const stepOrder = Object.keys(STEP_LABELS)
  const toolOrder = [...new Set(rows.map((r) => r.tool))]
  rows.sort(
    (x, y) =>
      stepOrder.indexOf(x.step) - stepOrder.indexOf(y.step) ||
      x.run.round - y.run.round ||
      toolOrder.indexOf(x.tool) - toolOrder.indexOf(y.tool),
  )
  const cores = (ms: number | null, wall: number) => (ms === null ? '—' : (ms / wall).toFixed(2))
  const L = [
    '| step | round | tool | wall | CPU (user + sys) | cores | peak RSS | load | other processes (cores) | steal (cores) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ]
  for (const { step, tool, run: r } of rows) {
    const cpu = r.cpuMs === null ? '—' : `${fmtS(r.cpuMs)} (${fmtS(r.userMs)} + ${fmtS(r.sysMs)})`
    L.push(
      `| ${STEP_LABELS[step] ?? step} | ${r.round + 1} | ${names(tool, step)} | ${fmtS(r.wallMs)} | ${cpu} | ${cores(r.cpuMs, r.wallMs)} | ${fmtRss(r.peakRssKiB)} | ${r.load1.toFixed(2)} | ${cores(r.otherCpuMs, r.wallMs)} | ${cores(r.stealMs, r.wallMs)} |`,
    )
  }
  return L.join('\n')
}

/** verdictsMarkdown renders the targets' verdicts, one line each, every round listed. */
export function verdictsMarkdown(verdicts: readonly Verdict[]): string {
  return verdicts.map(verdictLine).join('\n')
}

/**
 * setAsideMarkdown lists the runs measured again because other processes were busy meanwhile (their
 * numbers are in the JSON's `setAside`); empty when there were none.
 */
export function setAsideMarkdown(setAside: Record<string, Run[]>): string {
  const items: string[] = []
  for (const [key, runs] of Object.entries(setAside)) {
    const i = key.lastIndexOf('/')
    for (const r of runs) {
      const others = r.otherCpuMs === null ? '?' : (r.otherCpuMs / Math.max(1, r.wallMs)).toFixed(2)
      items.push(
        `${key.slice(0, i)} ${STEP_LABELS[key.slice(i + 1)] ?? key.slice(i + 1)} round ${r.round + 1} (${fmtS(r.wallMs)}, ${others} cores)`,
      )
    }
  }
  return items.length
    ? `Measured again because other processes took more than the limit of cores meanwhile (set aside: ${items.join('; ')}).`
    : ''
}
