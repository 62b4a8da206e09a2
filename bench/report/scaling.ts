// Why: the memory-scaling series is read as one table (each size, each tool: time, CPU and peak RSS of a
// first backup, a run with nothing changed and a restore), the growth of peak RSS per file between sizes,
// the targets' verdicts and every run.

import { SCALING_STEPS, type ScalingResult, type ScalingTool } from '../memory-scaling.js'
import { fmtBytes, fmtRss, fmtS } from './format.js'
import { roundsTable, STEP_LABELS, setAsideMarkdown, verdictsMarkdown } from './rounds.js'

/** scalingMarkdown renders the memory-scaling results. */
export function scalingMarkdown(r: ScalingResult): string {
  const n = (x: number) => x.toLocaleString('en')
  const L: string[] = []
  L.push(
    `Trees of small messages (mean ${n(r.meanSize)} B), generated once per size and removed after it; work folder ${r.workDir} (${r.workDirWhy}).`,
  )
  L.push('')
  L.push(
    `| messages | tree | tool | ${SCALING_STEPS.map((s) => `${STEP_LABELS[s]}: time / CPU / peak RSS`).join(' | ')} |`,
  )
  L.push(`|---|---|---|${SCALING_STEPS.map(() => '---').join('|')}|`)
  const cell = (t: ScalingTool, s: (typeof SCALING_STEPS)[number]) => {
    const v = t[s]
    if (!v) return t.available ? '—' : 'n/a'
    const differs = v.identical === false ? ' (DIFFERS)' : ''
    return `${fmtS(v.wallMs)} / ${fmtS(v.cpuMs)} / ${fmtRss(v.peakRssKiB)}${differs}`
  }
  for (const size of r.sizes) {
    size.tools.forEach((t, i) => {
      const head =
        i === 0
          ? `| ${n(size.files)} | ${fmtBytes(size.stats.bytes)} (generated in ${fmtS(size.generateMs)}) |`
          : '| | |'
      L.push(`${head} ${t.tool} | ${SCALING_STEPS.map((s) => cell(t, s)).join(' | ')} |`)
    })
  }
  const notes = r.sizes.flatMap((s) =>
    s.tools.filter((t) => t.note).map((t) => `- ${n(s.files)}: ${t.tool}: ${t.note}`),
  )
  if (notes.length) L.push('', ...notes)
  if (r.growth.length) {
    const pairs = [...new Set(r.growth.map((g) => `${g.from}→${g.to}`))]
    L.push('', 'Growth of peak RSS per file (bytes of peak RSS per message added, from the medians):', '')
    L.push(
      `| tool | step | ${pairs
        .map((p) => {
          const [a, b] = p.split('→').map(Number)
          return `${n(a!)} → ${n(b!)}`
        })
        .join(' | ')} |`,
    )
    L.push(`|---|---|${pairs.map(() => '---').join('|')}|`)
    const tools = [...new Set(r.growth.map((g) => g.tool))]
    for (const tool of tools)
      for (const step of SCALING_STEPS) {
        const cells = pairs.map((p) => {
          const g = r.growth.find((x) => x.tool === tool && x.step === step && `${x.from}→${x.to}` === p)
          return g?.bytesPerFile === null || g?.bytesPerFile === undefined
            ? '—'
            : `${Math.round(g.bytesPerFile)} B`
        })
        L.push(`| ${tool} | ${STEP_LABELS[step]} | ${cells.join(' | ')} |`)
      }
  }
  const verdicts = r.sizes.flatMap((s) => s.targets)
  if (verdicts.length) L.push('', "Issue 20's targets, round by round:", '', verdictsMarkdown(verdicts))
  for (const size of r.sizes) {
    const table = roundsTable(size.rounds)
    if (table) L.push('', `Every run at ${n(size.files)} messages:`, '', table)
    const aside = setAsideMarkdown(size.setAside)
    if (aside) L.push('', aside)
  }
  return L.join('\n')
}
