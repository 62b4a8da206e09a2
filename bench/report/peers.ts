// Why: the peers table is issue 6's layout (one column per tool, seb's ratios to the floor, restic and borg
// on the right) with issue 20's numbers added: CPU time and peak RSS of every step, the stat walk as the
// floor of a run with nothing changed, the targets' verdicts and every round.

import { STAT_WALK } from '../floor.js'
import { SEB, SEB_BASELINE } from '../peer-tools.js'
import { FLOOR, type PeerResult, type PeersResult } from '../peers.js'
import { fmtBytes, fmtRss, fmtS, ratio } from './format.js'
import { roundsTable, runsMarkdown, setAsideMarkdown, verdictsMarkdown } from './rounds.js'

type Num = (c: PeerResult | undefined) => number | null | undefined
type Show = (c: PeerResult) => string | undefined

/** peersMarkdown renders the peers table with seb's ratios to the floor, restic, borg and the baseline. */
export function peersMarkdown(p: PeersResult): string {
  const cols = p.tools
  const get = (n: string) => cols.find((c) => c.tool === n)
  const seb = get(SEB)
  const floor = get(FLOOR)
  const baseline = get(SEB_BASELINE)
  const others = [get('restic'), get('borg lz4')]
  const walk = p.statWalk
  const cell = (c: PeerResult, f: Show) => (c.available ? (f(c) ?? '—') : 'n/a')
  // Each row: label, how a cell shows, the number ratios are taken of, and (for the floor) that number.
  const rows: [string, Show, Num][] = [
    ['first backup', (c) => c.first && fmtS(c.first.wallMs), (c) => c?.first?.wallMs],
    [
      'run with nothing changed (floor column: the stat walk)',
      (c) =>
        c.tool === FLOOR ? walk && fmtS(walk.wallMs) : c.nothingChanged && fmtS(c.nothingChanged.wallMs),
      (c) => (c?.tool === FLOOR ? walk?.wallMs : c?.nothingChanged?.wallMs),
    ],
    [
      'one day of mail: time / bytes written',
      (c) =>
        c.tool === FLOOR
          ? `— / ${fmtBytes(p.dayFloorBytes)} (day floor)`
          : c.day && `${fmtS(c.day.wallMs)} / ${fmtBytes(c.day.bytes)}`,
      (c) => (c?.tool === FLOOR ? undefined : c?.day?.wallMs),
    ],
    [
      'full restore',
      (c) => c.restore && `${fmtS(c.restore.wallMs)}${c.restore.identical === false ? ' (DIFFERS)' : ''}`,
      (c) => c?.restore?.wallMs,
    ],
    ['CPU (user + sys), first backup', (c) => c.first && fmtS(c.first.cpuMs), (c) => c?.first?.cpuMs],
    [
      'CPU, nothing changed',
      (c) => (c.tool === FLOOR ? walk && fmtS(walk.cpuMs) : c.nothingChanged && fmtS(c.nothingChanged.cpuMs)),
      (c) => (c?.tool === FLOOR ? walk?.cpuMs : c?.nothingChanged?.cpuMs),
    ],
    [
      'CPU, one day of mail',
      (c) => c.day && fmtS(c.day.cpuMs),
      (c) => (c?.tool === FLOOR ? undefined : c?.day?.cpuMs),
    ],
    ['CPU, full restore', (c) => c.restore && fmtS(c.restore.cpuMs), (c) => c?.restore?.cpuMs],
    ['peak RSS, first backup', (c) => c.first && fmtRss(c.first.peakRssKiB), (c) => c?.first?.peakRssKiB],
    [
      'peak RSS, nothing changed',
      (c) =>
        c.tool === FLOOR
          ? walk && fmtRss(walk.peakRssKiB)
          : c.nothingChanged && fmtRss(c.nothingChanged.peakRssKiB),
      (c) => (c?.tool === FLOOR ? walk?.peakRssKiB : c?.nothingChanged?.peakRssKiB),
    ],
    [
      'peak RSS, one day of mail',
      (c) => c.day && fmtRss(c.day.peakRssKiB),
      (c) => (c?.tool === FLOOR ? undefined : c?.day?.peakRssKiB),
    ],
    [
      'peak RSS, full restore',
      (c) => c.restore && fmtRss(c.restore.peakRssKiB),
      (c) => c?.restore?.peakRssKiB,
    ],
  ]
  const vsHeads = ['seb/floor', 'seb/restic', 'seb/borg (lz4)', ...(baseline ? ['seb/baseline'] : [])]
  const L: string[] = []
  L.push(
    `| work | ${cols.map((c) => (c.tool === FLOOR ? 'tar \\| zstd -3 \\| gpg (the floor)' : c.tool)).join(' | ')} | ${vsHeads.join(' | ')} |`,
  )
  L.push(`|---|${cols.map(() => '---').join('|')}|${vsHeads.map(() => '---').join('|')}|`)
  for (const [label, show, num] of rows) {
    const isDay = label === 'one day of mail: time / bytes written'
    const sebV = seb?.available ? num(seb) : undefined
    const vs = (o?: PeerResult) => {
      const t = ratio(sebV, o?.available ? num(o) : undefined)
      return isDay && seb?.day && o?.available && o.day ? `${t} / ${ratio(seb.day.bytes, o.day.bytes)}` : t
    }
    const vsFloor =
      isDay && seb?.available && seb.day
        ? `— / ${ratio(seb.day.bytes, p.dayFloorBytes)}`
        : ratio(sebV, floor ? num(floor) : undefined)
    const vsAll = [vsFloor, ...others.map(vs), ...(baseline ? [vs(baseline)] : [])]
    L.push(`| ${label} | ${cols.map((c) => cell(c, show)).join(' | ')} | ${vsAll.join(' | ')} |`)
  }
  L.push('')
  L.push(
    `Reading the source alone (\`tar -c | cat > /dev/null\`): ${fmtS(p.readFloor.wallMs)}; the stat walk (\`${STAT_WALK}\`): ${fmtS(walk?.wallMs)}. ` +
      `The day: ${p.day.newFiles} new messages (${fmtBytes(p.day.newBytes)}, ${fmtBytes(p.dayFloorBytes)} compressed), ${p.day.flagRenames} renames, ${p.day.moves} moves, ${p.day.deletions} deletions and ${p.day.trashEmptied} messages of an emptied Trash, chosen uniformly over all years.`,
  )
  const spread = runsMarkdown(p.runs ?? {})
  if (spread) L.push('', spread)
  for (const c of cols) if (c.note) L.push(`- ${c.tool}: ${c.note}`)
  if (p.targets?.length) L.push('', "Issue 20's targets, round by round:", '', verdictsMarkdown(p.targets))
  const aside = setAsideMarkdown(p.setAside ?? {})
  if (aside) L.push('', aside)
  const table = roundsTable(p.rounds ?? {}, (t, s) => (t === FLOOR && s === 'nothing' ? 'stat walk' : t))
  if (table) L.push('', 'Every run (CPU includes every child process the tool waited for):', '', table)
  return L.join('\n')
}
