// Why: the benchmark's results are read as Markdown (stdout, and beside the JSON) and pasted into
// docs/benchmarks.md; this module renders them: units, the per-mode tables, the peers table and the list of
// every repeated run.

import type { ModeResult } from './incremental.js'
import type { PeerResult, PeersResult } from './peers.js'

/** fmtBytes formats a byte count in binary units (KiB, MiB, GiB). */
export function fmtBytes(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '—'
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

/** fmtS formats milliseconds as seconds. */
export function fmtS(ms: number | undefined): string {
  if (ms === undefined) return '—'
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`
}

function fmtRss(k: number | null | undefined): string {
  return k === null || k === undefined ? '—' : `${(k / 1024).toFixed(0)} MiB`
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return '—'
  return `${(a / b).toFixed(2)}×`
}

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
  L.push('| run | time | peak RSS | uploaded | notes |')
  L.push('|---|---|---|---|---|')
  if (m.first)
    L.push(
      `| first backup | ${fmtS(m.first.wallMs)} | ${fmtRss(m.first.peakRssKiB)} | ${fmtBytes(m.first.summary.bytesUploaded)} | remote ${fmtBytes(m.first.remoteBytes)} |`,
    )
  if (m.nothingChanged)
    L.push(
      `| nothing changed | ${fmtS(m.nothingChanged.wallMs)} | ${fmtRss(m.nothingChanged.peakRssKiB)} | ${fmtBytes(m.nothingChanged.summary.bytesUploaded)} | |`,
    )
  if (m.compact)
    L.push(
      `| compact | ${fmtS(m.compact.wallMs)} | ${fmtRss(m.compact.peakRssKiB)} | | remote ${fmtBytes(m.compact.remoteBefore)} → ${fmtBytes(m.compact.remoteAfter)} (live compressed ${fmtBytes(m.liveCompressedEnd)}) |`,
    )
  if (m.restore)
    L.push(
      `| full restore | ${fmtS(m.restore.wallMs)} | ${fmtRss(m.restore.peakRssKiB)} | | ${m.restore.comparison.identical ? 'identical to the source (bytes and mtimes)' : `DIFFERS: ${m.restore.comparison.examples.slice(0, 3).join('; ')}`} |`,
    )
  L.push(
    `| seed policy, first run | | | ${fmtBytes(m.seedInitial.bytesUploaded)} | ${m.seedInitial.packs} packs |`,
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

/** peersMarkdown renders the peers table (issue 6's layout) with seb's ratios to the floor, restic and borg. */
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

export function peersMarkdown(p: PeersResult): string {
  const cols = p.tools
  const get = (n: string) => cols.find((c) => c.tool === n)
  const seb = get('seb')
  const restic = get('restic')
  const borg = get('borg lz4')
  const floor = get('floor')!
  const cell = (c: PeerResult, f: (c: PeerResult) => string | undefined) =>
    c.available ? (f(c) ?? '—') : 'n/a'
  const rows: [string, (c: PeerResult) => string | undefined, (c?: PeerResult) => number | undefined][] = [
    ['first backup', (c) => c.first && fmtS(c.first.wallMs), (c) => c?.first?.wallMs],
    [
      'run with nothing changed',
      (c) => c.nothingChanged && fmtS(c.nothingChanged.wallMs),
      (c) => c?.nothingChanged?.wallMs,
    ],
    [
      'one day of mail: time / bytes written',
      (c) =>
        c.tool === 'floor'
          ? `— / ${fmtBytes(p.dayFloorBytes)} (day floor)`
          : c.day && `${fmtS(c.day.wallMs)} / ${fmtBytes(c.day.bytes)}`,
      (c) => c?.day?.wallMs,
    ],
    [
      'full restore',
      (c) => c.restore && `${fmtS(c.restore.wallMs)}${c.restore.identical === false ? ' (DIFFERS)' : ''}`,
      (c) => c?.restore?.wallMs,
    ],
    [
      'peak RSS, first backup',
      (c) => c.first && fmtRss(c.first.peakRssKiB),
      (c) => c?.first?.peakRssKiB ?? undefined,
    ],
  ]
  const L: string[] = []
  L.push(
    `| work | ${cols.map((c) => (c.tool === 'floor' ? 'tar \\| zstd -3 \\| gpg (the floor)' : c.tool)).join(' | ')} | seb/floor | seb/restic | seb/borg (lz4) |`,
  )
  L.push(`|---|${cols.map(() => '---').join('|')}|---|---|---|`)
  for (const [label, show, num] of rows) {
    const sebV = seb?.available ? num(seb) : undefined
    const floorV = label.startsWith('one day') ? undefined : num(floor)
    const isDay = label.startsWith('one day')
    const vs = (o?: PeerResult) => {
      const t = ratio(sebV, o?.available ? num(o) : undefined)
      return isDay && seb?.day && o?.available && o.day ? `${t} / ${ratio(seb.day.bytes, o.day.bytes)}` : t
    }
    const vsFloor =
      isDay && seb?.available && seb.day
        ? `— / ${ratio(seb.day.bytes, p.dayFloorBytes)}`
        : ratio(sebV, floorV)
    L.push(
      `| ${label} | ${cols.map((c) => cell(c, show)).join(' | ')} | ${vsFloor} | ${vs(restic)} | ${vs(borg)} |`,
    )
  }
  L.push('')
  L.push(
    `Reading the source alone (\`tar -c | cat > /dev/null\`): ${fmtS(p.readFloor.durationMs)}; stat-ing every file (\`find -printf\`): ${fmtS(p.statFloor.durationMs)}. ` +
      `The day: ${p.day.newFiles} new messages (${fmtBytes(p.day.newBytes)}, ${fmtBytes(p.dayFloorBytes)} compressed), ${p.day.flagRenames} renames, ${p.day.moves} moves, ${p.day.deletions} deletions and ${p.day.trashEmptied} messages of an emptied Trash, chosen uniformly over all years.`,
  )
  const spread = runsMarkdown(p.runs ?? {})
  if (spread) L.push('', spread)
  for (const c of cols) if (c.note) L.push(`- ${c.tool}: ${c.note}`)
  return L.join('\n')
}
