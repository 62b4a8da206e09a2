// Why: issue 3's incremental series is read per selection mode: the first backup, the run with nothing
// changed, compact and the restore, then one row per simulated day with its upload beside the day's floor
// and the seed's policy.

import type { ModeResult } from '../incremental.js'
import { fmtBytes, fmtRss, fmtS } from './format.js'

/** modeMarkdown renders one mode's results: the summary lines and the per-day table. */
export function modeMarkdown(m: ModeResult): string {
  const L: string[] = []
  const g = m.generator.stats
  L.push(`### Mode \`${m.mode}\`: ${m.days.length} days`)
  L.push('')
  L.push(
    `Tree: ${g.files.toLocaleString('en')} messages, ${fmtBytes(g.bytes)} (min ${g.min} B, max ${fmtBytes(g.max)}, mean ${fmtBytes(g.mean)}), ` +
      `${g.otherFiles} other files; \`tar | zstd -3\` of it: ${fmtBytes(m.liveCompressedStart)}.`,
  )
  L.push('')
  L.push('| run | time | CPU (user + sys) | peak RSS | uploaded | notes |')
  L.push('|---|---|---|---|---|---|')
  if (m.first)
    L.push(
      `| first backup | ${fmtS(m.first.wallMs)} | ${fmtS(m.first.cpuMs)} | ${fmtRss(m.first.peakRssKiB)} | ${fmtBytes(m.first.summary.bytesUploaded)} | remote ${fmtBytes(m.first.remoteBytes)} |`,
    )
  if (m.nothingChanged)
    L.push(
      `| nothing changed | ${fmtS(m.nothingChanged.wallMs)} | ${fmtS(m.nothingChanged.cpuMs)} | ${fmtRss(m.nothingChanged.peakRssKiB)} | ${fmtBytes(m.nothingChanged.summary.bytesUploaded)} | |`,
    )
  if (m.compact)
    L.push(
      `| compact | ${fmtS(m.compact.wallMs)} | ${fmtS(m.compact.cpuMs)} | ${fmtRss(m.compact.peakRssKiB)} | | remote ${fmtBytes(m.compact.remoteBefore)} → ${fmtBytes(m.compact.remoteAfter)} (live compressed ${fmtBytes(m.liveCompressedEnd)}) |`,
    )
  if (m.restore)
    L.push(
      `| full restore | ${fmtS(m.restore.wallMs)} | ${fmtS(m.restore.cpuMs)} | ${fmtRss(m.restore.peakRssKiB)} | | ${m.restore.comparison.identical ? 'identical to the source (bytes and mtimes)' : `DIFFERS: ${m.restore.comparison.examples.slice(0, 3).join('; ')}`} |`,
    )
  L.push(
    `| seed policy, first run | | | | ${fmtBytes(m.seedInitial.bytesUploaded)} | ${m.seedInitial.packs} packs |`,
  )
  L.push('')
  L.push(
    '| day | new msgs | new bytes | renames | moves | deletions + Trash emptied | floor | seb uploaded | seb/floor | index bytes | remote size | seb time | seed uploaded | seed/floor |',
  )
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|')
  for (const d of m.days) {
    L.push(
      `| ${d.day} | ${d.newFiles} | ${fmtBytes(d.newBytes)} | ${d.flagRenames} | ${d.moves} | ${d.deletions} + ${d.trashEmptied} | ${fmtBytes(d.floorBytes)} | ${fmtBytes(d.seb?.bytesUploaded)} | ${d.seb ? `${d.seb.ratio.toFixed(2)}×` : '—'} | ${fmtBytes(d.seb?.indexBytes)} | ${fmtBytes(d.seb?.remoteBytes)} | ${fmtS(d.seb?.wallMs)} | ${fmtBytes(d.seed.bytesUploaded)} | ${d.seed.ratio.toFixed(1)}× |`,
    )
  }
  const t = m.totals
  L.push(
    `| **total** | ${m.days.reduce((s, d) => s + d.newFiles, 0)} | ${fmtBytes(m.days.reduce((s, d) => s + d.newBytes, 0))} | | | | **${fmtBytes(t.floorBytes)}** | **${fmtBytes(t.sebBytes)}** | **${t.sebRatio !== undefined ? `${t.sebRatio.toFixed(2)}×` : '—'}** | | | | **${fmtBytes(t.seedBytes)}** | **${t.seedRatio.toFixed(1)}×** |`,
  )
  if (m.errors.length) {
    L.push('')
    for (const e of m.errors) L.push(`- seb error: ${e}`)
  }
  return L.join('\n')
}
