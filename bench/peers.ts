// Why: issue 6's and issue 20's promises are relative: seb against the plain tools (`tar | zstd | gpg`, the
// floor; a stat walk for a run with nothing changed) and its peers (restic, borg) on the same tree in the
// same run. Every timed step runs --repeat times, the tools taking turns, because this VM's speed drifts by
// 2× within minutes: the table shows medians, the targets are checked round by round. With --seb-baseline
// a second seb build takes its turn in the same rounds, for a before/after comparison.

import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { mutateDay } from './day-of-mail.js'
import { dayFloor, type FloorResult, firstBackupFloor, readFloor, restoreFloor, statWalk } from './floor.js'
import type { GpgHome } from './gpg-home.js'
import { log } from './log.js'
import type { MailboxStats } from './maildir/read.js'
import { generateMaildir } from './maildir/write.js'
import { type BenchArgs, generateOptionsOf } from './options.js'
import { makeTools, roundOrder, SEB, SEB_BASELINE, type Tool } from './peer-tools.js'
import { Rounds, type Run, type StepSummary } from './rounds.js'
import { timingOf } from './run.js'
import { everyRound, noWorse, type Verdict } from './targets.js'
import { compareTrees, duBytes } from './trees.js'

/** The tool name of the floor pipelines (and, for a run with nothing changed, of the stat walk). */
export const FLOOR = 'floor'

/** One tool's column in the peers table: the medians of its rounds, and the day's single run. */
export interface PeerResult {
  tool: string
  available: boolean
  note?: string
  first?: StepSummary
  nothingChanged?: StepSummary
  day?: Run
  restore?: StepSummary
}

/** The results of the peers run. */
export interface PeersResult {
  stats: MailboxStats
  readFloor: FloorResult
  /** the stat walk's medians (the floor of a run with nothing changed) */
  statWalk?: StepSummary
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
  /** every timed run with all its numbers, by `tool/step` */
  rounds?: Record<string, Run[]>
  /** runs measured again because other processes took more than --redo-above cores, by `tool/step` */
  setAside?: Record<string, Run[]>
  /** issue 20's targets, checked round by round */
  targets?: Verdict[]
}

/** runPeers runs the peers table's steps on a freshly generated tree. */
export async function runPeers(a: BenchArgs, work: string, gpg: GpgHome): Promise<PeersResult> {
  const src = join(work, 'src-peers')
  await rm(src, { recursive: true, force: true })
  log('peers: generating the Maildir')
  const gen = await generateMaildir(src, generateOptionsOf(a))
  const tools = makeTools({ work, src, gpg, seb: a.seb, sebBaseline: a.sebBaseline })
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
  const of = (rep: number) => (a.repeat > 1 ? ` (${rep + 1}/${a.repeat})` : '')
  log('peers: reading the tree')
  const rf = await readFloor(src)
  const archive = join(work, 'floor.tar.zst.gpg')
  const rounds = new Rounds()
  const policy = { quietWaitMs: a.quietWaitMs, redoAbove: a.redoAbove, maxRedos: a.maxRedos }
  // One backup run with the bytes it added to the repository. Every attempt gets its own archive name
  // (borg refuses a name twice, and a disturbed run is measured again).
  let attempts = 0
  const backup = (t: Tool, tag: string) => async () => {
    const before = await duBytes(t.repo)
    const m = await t.backup(`${tag}-${++attempts}`)
    return { ...timingOf(m), bytes: (await duBytes(t.repo)) - before }
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    log(`peers: floor first backup${of(rep)}`)
    await rounds.measure(FLOOR, 'first', rep, policy, { run: () => firstBackupFloor(src, gpg, archive) })
    for (const t of roundOrder(live, rep)) {
      await guard(t, 'first backup', async () => {
        log(`peers: ${t.name} first backup${of(rep)}`)
        await rounds.measure(t.name, 'first', rep, policy, {
          prepare: async () => {
            await rm(t.repo, { recursive: true, force: true })
            await t.init()
          },
          run: backup(t, `b1-${rep}`),
        })
      })
    }
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    log(`peers: stat walk${of(rep)}`)
    await rounds.measure(FLOOR, 'nothing', rep, policy, { run: () => statWalk(src) })
    for (const t of roundOrder(live, rep)) {
      await guard(t, 'nothing-changed backup', async () => {
        log(`peers: ${t.name} nothing changed${of(rep)}`)
        await rounds.measure(t.name, 'nothing', rep, policy, { run: backup(t, `b2-${rep}`) })
      })
    }
  }
  log('peers: one day of mail (uniform)')
  const rec = await mutateDay(src, { seed: a.seed, day: 0, mode: 'uniform', scale: a.scale })
  const dayFloorBytes = await dayFloor(src, rec.newMessageFiles)
  for (const t of live) {
    await guard(t, 'day backup', async () => {
      log(`peers: ${t.name} a day of mail`)
      // Once only: a second backup of the day would find nothing changed.
      await rounds.measure(t.name, 'day', 0, { ...policy, maxRedos: 0 }, { run: backup(t, 'b3') })
    })
  }
  for (let rep = 0; rep < a.repeat; rep++) {
    const target = join(a.restoreTo ?? work, 'restore-floor')
    const empty = async () => {
      await rm(target, { recursive: true, force: true })
      await mkdir(target, { recursive: true })
    }
    log(`peers: floor restore${of(rep)}`)
    await rounds.measure(FLOOR, 'restore', rep, policy, {
      prepare: empty,
      run: () => restoreFloor(archive, target, gpg),
    })
    await rm(target, { recursive: true, force: true })
    for (const t of roundOrder(live, rep)) {
      await guard(t, 'restore', async () => {
        const target = join(a.restoreTo ?? work, `restore-${t.name.replace(/[^a-z0-9]/g, '')}`)
        log(`peers: ${t.name} restore${of(rep)}`)
        await rounds.measure(t.name, 'restore', rep, policy, {
          prepare: async () => {
            await rm(target, { recursive: true, force: true })
            await mkdir(target, { recursive: true })
          },
          run: async () => {
            const m = await t.restore(target)
            const cmp = await compareTrees(src, t.restoredRoot(target))
            return { ...timingOf(m), identical: cmp.identical }
          },
        })
        await rm(target, { recursive: true, force: true })
      })
    }
  }
  await rm(archive, { force: true })
  results.unshift({
    tool: FLOOR,
    available: true,
    first: rounds.summary(FLOOR, 'first'),
    restore: rounds.summary(FLOOR, 'restore'),
  })
  for (const t of live) {
    const r = byName(t.name)
    r.first = rounds.summary(t.name, 'first')
    r.nothingChanged = rounds.summary(t.name, 'nothing')
    r.day = rounds.of(t.name, 'day')[0]
    r.restore = rounds.summary(t.name, 'restore')
    if (!a.keep) await rm(t.repo, { recursive: true, force: true })
  }
  if (!a.keep) await rm(src, { recursive: true, force: true })
  return {
    stats: gen.stats,
    readFloor: rf,
    statWalk: rounds.summary(FLOOR, 'nothing'),
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
    runs: rounds.walls(),
    rounds: rounds.all(),
    setAside: rounds.setAside(),
    targets: peersTargets(rounds),
  }
}

/**
 * peersTargets checks issue 20's targets on the peers run: seb's peak RSS at most restic's (first backup,
 * nothing changed, restore), its first backup at most 1.10× the floor's CPU and 1.25× its wall time, a run
 * with nothing changed at most 3× the stat walk, every round; with a baseline build, its speed ratios to
 * the floor and to restic no worse than the baseline's.
 */
export function peersTargets(r: Rounds): Verdict[] {
  const seb = (step: string) => r.of(SEB, step)
  const base = (step: string) => r.of(SEB_BASELINE, step)
  const restic = (step: string) => r.of('restic', step)
  const floor = (step: string) => r.of(FLOOR, step)
  if (!seb('first').length) return []
  const v: Verdict[] = [
    everyRound('first backup, CPU: seb / floor', 'cpuMs', 1.1, seb('first'), floor('first'), base('first')),
    everyRound(
      'first backup, wall: seb / floor',
      'wallMs',
      1.25,
      seb('first'),
      floor('first'),
      base('first'),
    ),
    everyRound(
      'nothing changed, wall: seb / stat walk',
      'wallMs',
      3,
      seb('nothing'),
      floor('nothing'),
      base('nothing'),
    ),
  ]
  if (restic('first').length)
    v.push(
      everyRound(
        'first backup, peak RSS: seb / restic',
        'peakRssKiB',
        1,
        seb('first'),
        restic('first'),
        base('first'),
      ),
      everyRound(
        'nothing changed, peak RSS: seb / restic',
        'peakRssKiB',
        1,
        seb('nothing'),
        restic('nothing'),
        base('nothing'),
      ),
      everyRound(
        'full restore, peak RSS: seb / restic',
        'peakRssKiB',
        1,
        seb('restore'),
        restic('restore'),
        base('restore'),
      ),
    )
  if (base('first').length) {
    v.push(
      noWorse('first backup, wall: seb / floor', 'wallMs', seb('first'), base('first'), floor('first')),
      noWorse('full restore, wall: seb / floor', 'wallMs', seb('restore'), base('restore'), floor('restore')),
    )
    if (restic('first').length)
      v.push(
        noWorse('first backup, wall: seb / restic', 'wallMs', seb('first'), base('first'), restic('first')),
        noWorse(
          'nothing changed, wall: seb / restic',
          'wallMs',
          seb('nothing'),
          base('nothing'),
          restic('nothing'),
        ),
        noWorse(
          'full restore, wall: seb / restic',
          'wallMs',
          seb('restore'),
          base('restore'),
          restic('restore'),
        ),
      )
  }
  return v
}
