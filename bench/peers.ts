// Why: issue 6's promises are relative: seb against the plain tools (`tar | zstd | gpg`, the floor) and its
// peers (restic, borg) on the same tree in the same run. Every timed step runs --repeat times, the tools
// taking turns, and the median run is reported, because this VM's speed drifts by 2× within minutes.

import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { getOrCreate } from '../src/core/maps.js'
import { mutateDay } from './day-of-mail.js'
import { dayFloor, type FloorResult, firstBackupFloor, readFloor, restoreFloor, statFloor } from './floor.js'
import type { GpgHome } from './gpg-home.js'
import { log } from './log.js'
import type { MailboxStats } from './maildir/read.js'
import { generateMaildir } from './maildir/write.js'
import { type BenchArgs, generateOptionsOf } from './options.js'
import { makeTools, type Tool } from './peer-tools.js'
import { settle } from './run.js'
import { compareTrees, duBytes } from './trees.js'

/** One tool's row of measurements in the peers table. */
export interface PeerResult {
  tool: string
  available: boolean
  note?: string
  first?: { wallMs: number; peakRssKiB: number | null; bytes: number }
  nothingChanged?: { wallMs: number; bytes: number }
  day?: { wallMs: number; bytes: number }
  restore?: { wallMs: number; peakRssKiB: number | null; identical?: boolean }
}

/** The results of the peers run. */
export interface PeersResult {
  stats: MailboxStats
  readFloor: FloorResult
  statFloor: FloorResult
  dayFloorBytes: number
  day: {
    newFiles: number
    newBytes: number
    flagRenames: number
    moves: number
    deletions: number
    trashEmptied: number
  }
  tools: PeerResult[]
  /** every timed run's wall time in ms, in the order run, by `tool/step` (first, nothing, restore) */
  runs?: Record<string, number[]>
}

/** Run is one timed step of one tool. */
interface Run {
  wallMs: number
  peakRssKiB: number | null
  bytes?: number
  identical?: boolean
}

/** medianRun returns the run with the median wall time (the lower middle one for an even count). */
export function medianRun<R extends { wallMs: number }>(rs: readonly R[]): R | undefined {
  const sorted = [...rs].sort((x, y) => x.wallMs - y.wallMs)
  return sorted[Math.floor((sorted.length - 1) / 2)]
}

/** runPeers runs the peers table's steps on a freshly generated tree. */
export async function runPeers(a: BenchArgs, work: string, gpg: GpgHome): Promise<PeersResult> {
  const src = join(work, 'src-peers')
  await rm(src, { recursive: true, force: true })
  log('peers: generating the Maildir')
  const gen = await generateMaildir(src, generateOptionsOf(a))
  const tools = makeTools({ work, src, gpg, seb: a.seb })
  const results: PeerResult[] = []
  const live: Tool[] = []
  for (const t of tools) {
    const why = t.available()
    const r: PeerResult = { tool: t.name, available: !why }
    if (why) r.note = why
    results.push(r)
    if (!why) live.push(t)
  }
  const byName = (n: string) => results.find((r) => r.tool === n)!
  const guard = async (t: Tool, what: string, f: () => Promise<void>) => {
    const r = byName(t.name)
    if (!r.available) return
    try {
      await f()
    } catch (e) {
      r.available = false
      r.note = `${what} failed: ${(e as Error).message.slice(0, 300)}`
      log(`peers: ${t.name} ${r.note}`)
    }
  }
  log('peers: floors')
  const sf = await statFloor(src)
  const rf = await readFloor(src)
  const archive = join(work, 'floor.tar.zst.gpg')
  // Each timed step runs a.repeat times, the tools taking turns, and the median run is kept: this VM's
  // speed drifts by 2× within minutes, and alternating spreads the drift over every tool alike.
  const runs = new Map<string, Run[]>()
  const keep = (tool: string, step: string, r: Run) => getOrCreate(runs, `${tool}/${step}`, () => []).push(r)
  const median = (tool: string, step: string) => medianRun(runs.get(`${tool}/${step}`) ?? [])
  const medianFirst = (tool: string) => {
    const r = median(tool, 'first')
    return r && { wallMs: r.wallMs, peakRssKiB: r.peakRssKiB, bytes: r.bytes ?? 0 }
  }
  // One backup run, timed after a sync, with the bytes it added to the repository.
  const measuredBackup = async (t: (typeof live)[number], tag: string, step: string) => {
    const before = await duBytes(t.repo)
    await settle()
    const m = await t.backup(tag)
    keep(t.name, step, {
      wallMs: m.durationMs,
      peakRssKiB: m.peakRssKiB,
      bytes: (await duBytes(t.repo)) - before,
    })
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    await settle()
    const ff = await firstBackupFloor(src, gpg, archive)
    keep('floor', 'first', { wallMs: ff.durationMs, peakRssKiB: ff.peakRssKiB, bytes: ff.bytes })
    for (const t of live) {
      await guard(t, 'first backup', async () => {
        await rm(t.repo, { recursive: true, force: true })
        await t.init()
        log(`peers: ${t.name} first backup${a.repeat > 1 ? ` (${rep + 1}/${a.repeat})` : ''}`)
        await measuredBackup(t, `b1-${rep}`, 'first')
      })
    }
  }
  results.unshift({ tool: 'floor', available: true, first: medianFirst('floor') })
  for (const t of live) if (runs.has(`${t.name}/first`)) byName(t.name).first = medianFirst(t.name)
  for (let rep = 0; rep < a.repeat; rep++) {
    for (const t of live) {
      await guard(t, 'nothing-changed backup', async () => {
        await measuredBackup(t, `b2-${rep}`, 'nothing')
      })
    }
  }
  for (const t of live) {
    const r = median(t.name, 'nothing')
    if (r) byName(t.name).nothingChanged = { wallMs: r.wallMs, bytes: r.bytes ?? 0 }
  }
  log('peers: one day of mail (uniform)')
  const rec = await mutateDay(src, { seed: a.seed, day: 0, mode: 'uniform', scale: a.scale })
  const dayFloorBytes = await dayFloor(src, rec.newMessageFiles)
  for (const t of live) {
    await guard(t, 'day backup', async () => {
      const before = await duBytes(t.repo)
      await settle()
      const m = await t.backup('b3')
      byName(t.name).day = { wallMs: m.durationMs, bytes: (await duBytes(t.repo)) - before }
    })
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    const target = join(a.restoreTo ?? work, 'restore-floor')
    await rm(target, { recursive: true, force: true })
    await mkdir(target, { recursive: true })
    log(`peers: floor restore${a.repeat > 1 ? ` (${rep + 1}/${a.repeat})` : ''}`)
    await settle()
    const fr = await restoreFloor(archive, target, gpg)
    keep('floor', 'restore', { wallMs: fr.durationMs, peakRssKiB: fr.peakRssKiB })
    await rm(target, { recursive: true, force: true })
    for (const t of live) {
      await guard(t, 'restore', async () => {
        const target = join(a.restoreTo ?? work, `restore-${t.name.replace(/[^a-z0-9]/g, '')}`)
        await rm(target, { recursive: true, force: true })
        await mkdir(target, { recursive: true })
        log(`peers: ${t.name} restore`)
        await settle()
        const m = await t.restore(target)
        const cmp = await compareTrees(src, t.restoredRoot(target))
        keep(t.name, 'restore', { wallMs: m.durationMs, peakRssKiB: m.peakRssKiB, identical: cmp.identical })
        await rm(target, { recursive: true, force: true })
      })
    }
  }
  await rm(archive, { force: true })
  byName('floor').restore = median('floor', 'restore')
  for (const t of live) {
    const r = median(t.name, 'restore')
    if (r) {
      const all = runs.get(`${t.name}/restore`) ?? []
      byName(t.name).restore = { ...r, identical: all.every((x) => x.identical) }
    }
    if (!a.keep) await rm(t.repo, { recursive: true, force: true })
  }
  if (!a.keep) await rm(src, { recursive: true, force: true })
  return {
    stats: gen.stats,
    readFloor: rf,
    statFloor: sf,
    dayFloorBytes,
    day: {
      newFiles: rec.newMessageFiles.length,
      newBytes: rec.newBytes,
      flagRenames: rec.flagRenames.length + rec.read.length,
      moves: rec.moves.length,
      deletions: rec.deleted.length + rec.trashed.length,
      trashEmptied: rec.trashEmptied.length,
    },
    tools: results,
    runs: Object.fromEntries([...runs].map(([k, rs]) => [k, rs.map((r) => Math.round(r.wallMs))])),
  }
}
