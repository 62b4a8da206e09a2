// Why: issue 20's verdicts ("met" / "not met", round by round), the medians, the growth per file and the CPU
// the benchmark charges to a tool are computed, not read by eye; these check the computations on made-up
// runs, and that a measured child's CPU time includes what its own children used. Outcomes only.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { growthOf, type ScalingSize } from '../../bench/memory-scaling.js'
import { parseBenchArgs } from '../../bench/options.js'
import { roundOrder, SEB, SEB_BASELINE } from '../../bench/peer-tools.js'
import { roundsTable } from '../../bench/report/rounds.js'
import { median, Rounds, type Run, summarize } from '../../bench/rounds.js'
import { hasGnuTime, sh } from '../../bench/run.js'
import { everyRound, noWorse, roundRatios, verdictLine } from '../../bench/targets.js'

/** run makes a Run with the given numbers and neutral machine readings. */
function run(round: number, wallMs: number, cpuMs: number | null, peakRssKiB: number | null): Run {
  return {
    round,
    wallMs,
    cpuMs,
    userMs: cpuMs,
    sysMs: cpuMs === null ? null : 0,
    peakRssKiB,
    load1: 0,
    otherCpuMs: 0,
    stealMs: 0,
  }
}

describe('bench targets', () => {
  it('roundRatios pairs two tools by round, whatever order they were kept in', () => {
    const seb = [run(0, 10, 20, 100), run(1, 12, 24, 110)]
    const floor = [run(1, 6, 12, 50), run(0, 5, 10, 50)]
    assert.deepEqual(roundRatios(seb, floor, 'wallMs'), [2, 2])
    assert.deepEqual(roundRatios(seb, [run(0, 5, null, 50)], 'cpuMs'), [null, null])
  })

  it('everyRound: met when every round is within the bound, not met when one exceeds it, unknown otherwise', () => {
    const floor = [run(0, 10, 10, 1), run(1, 10, 10, 1), run(2, 10, 10, 1)]
    const ok = everyRound('cpu', 'cpuMs', 1.1, [run(0, 1, 10, 1), run(1, 1, 11, 1), run(2, 1, 9, 1)], floor)
    assert.equal(ok.met, true)
    assert.equal(ok.rule, 'every round')
    const one = everyRound('cpu', 'cpuMs', 1.1, [run(0, 1, 10, 1), run(1, 1, 12, 1), run(2, 1, 9, 1)], floor)
    assert.equal(one.met, false)
    const unknown = everyRound('cpu', 'cpuMs', 1.1, [run(0, 1, null, 1), run(1, 1, 10, 1)], floor)
    assert.equal(unknown.met, null)
    assert.equal(everyRound('cpu', 'cpuMs', 1.1, [], floor).met, null)
    const withBase = everyRound(
      'rss',
      'peakRssKiB',
      1,
      [run(0, 1, 1, 90)],
      [run(0, 1, 1, 100)],
      [run(0, 1, 1, 120)],
    )
    assert.deepEqual([withBase.met, withBase.values, withBase.baseline], [true, [0.9], [1.2]])
    assert.match(
      verdictLine(one),
      /^- cpu: 1\.00, 1\.20, 0\.90 \(target ≤ 1\.10 in every round\): \*\*not met\*\*$/,
    )
  })

  it('noWorse compares the medians of the round-by-round ratios with the baseline build', () => {
    const floor = [run(0, 10, 1, 1), run(1, 10, 1, 1), run(2, 10, 1, 1)]
    const now = [run(0, 12, 1, 1), run(1, 13, 1, 1), run(2, 20, 1, 1)]
    const before = [run(0, 13, 1, 1), run(1, 14, 1, 1), run(2, 11, 1, 1)]
    const v = noWorse('wall', 'wallMs', now, before, floor)
    assert.equal(v.met, true) // 1.3 against 1.3
    assert.equal(noWorse('wall', 'wallMs', before, now, floor).met, true)
    assert.equal(noWorse('wall', 'wallMs', [run(0, 30, 1, 1)], [run(0, 12, 1, 1)], floor).met, false)
    assert.match(verdictLine(v), /median 1\.30\); baseline 1\.30, 1\.40, 1\.10 \(median 1\.30\)/)
  })

  it('median and summarize take each number on its own and skip unknown ones', () => {
    assert.equal(median([3, null, 1, 2]), 2)
    assert.equal(median([4, 1, 3, 2]), 2)
    assert.equal(median([null, undefined]), null)
    const s = summarize([run(0, 9, 30, 300), run(1, 3, 10, 100), run(2, 5, 20, null)])!
    assert.deepEqual([s.wallMs, s.cpuMs, s.peakRssKiB, s.rounds], [5, 20, 100, 3])
    assert.equal(summarize([]), undefined)
    const r = new Rounds()
    r.keep('seb', 'restore', { ...run(0, 2, 2, 2), identical: true })
    r.keep('seb', 'restore', { ...run(1, 3, 3, 3), identical: false })
    assert.equal(r.summary('seb', 'restore')?.identical, false)
    assert.deepEqual(r.walls(), { 'seb/restore': [2, 3] })
  })

  it('Rounds.measure sets a disturbed run aside and measures the step again, at most maxRedos times', async () => {
    const r = new Rounds()
    const others = [1500, 100, 900, 900, 900]
    let prepared = 0
    const step = {
      prepare: async () => {
        prepared++
      },
      run: async () => ({ ...run(0, 1000, 1000, 1), otherCpuMs: others.shift()! }),
    }
    const policy = { quietWaitMs: 0, redoAbove: 0.25, maxRedos: 2 }
    const kept = await r.measure('seb', 'first', 0, policy, step)
    assert.deepEqual([kept.otherCpuMs, prepared, r.setAside()['seb/first']?.length], [100, 2, 1])
    const last = await r.measure('seb', 'first', 1, policy, step)
    assert.deepEqual([last.otherCpuMs, last.round, r.of('seb', 'first').length], [900, 1, 2])
    assert.equal(r.setAside()['seb/first']?.length, 3)
  })

  it('growthOf is the peak RSS added per file between sizes, from the smallest to the largest too', () => {
    const size = (files: number, kib: number): ScalingSize => ({
      files,
      stats: { files, bytes: 0, min: 0, max: 0, mean: 0, otherFiles: 0, otherBytes: 0 },
      generateMs: 0,
      tools: [{ tool: 'seb', available: true, first: { ...summarize([run(0, 1, 1, kib)])! } }],
      rounds: {},
      setAside: {},
      targets: [],
    })
    const g = growthOf([size(1_000_000, 1_000_000), size(100_000, 100_000), size(300_000, 300_000)])
    const first = g.filter((x) => x.step === 'first').map((x) => [x.from, x.to, x.bytesPerFile])
    assert.deepEqual(first, [
      [100_000, 300_000, 1024],
      [300_000, 1_000_000, 1024],
      [100_000, 1_000_000, 1024],
    ])
    assert.equal(g.find((x) => x.step === 'nothing')?.bytesPerFile, null)
  })

  it('roundOrder swaps the two seb builds every other round and leaves the rest in place', () => {
    const tools = [{ name: SEB }, { name: SEB_BASELINE }, { name: 'restic' }]
    assert.deepEqual(
      roundOrder(tools, 0).map((t) => t.name),
      [SEB, SEB_BASELINE, 'restic'],
    )
    assert.deepEqual(
      roundOrder(tools, 1).map((t) => t.name),
      [SEB_BASELINE, SEB, 'restic'],
    )
    assert.deepEqual(
      roundOrder([{ name: SEB }, { name: 'restic' }], 1).map((t) => t.name),
      [SEB, 'restic'],
    )
  })

  it('roundsTable lists every run by step, round and tool', () => {
    const text = roundsTable(
      {
        'floor/first': [run(0, 5000, 6000, 40_960), run(1, 5000, 6000, 40_960)],
        'seb/first': [run(0, 6000, 9000, 204_800), run(1, 6500, 9500, 204_800)],
        'floor/nothing': [run(0, 250, 200, 4096)],
      },
      (t, s) => (t === 'floor' && s === 'nothing' ? 'stat walk' : t),
    )
    const rows = text.split('\n').slice(2)
    assert.deepEqual(
      rows.map((r) => r.split(' | ').slice(0, 3).join(' | ')),
      [
        '| first backup | 1 | floor',
        '| first backup | 1 | seb',
        '| first backup | 2 | floor',
        '| first backup | 2 | seb',
        '| nothing changed | 1 | stat walk',
      ],
    )
    assert.match(rows[1]!, /\| 6\.00 s \| 9\.00 s \(9\.00 s \+ 0\.00 s\) \| 1\.50 \| 200 MiB \|/)
  })

  it('parseBenchArgs: the baseline build, the memory-scaling series and the work folder', () => {
    const d = parseBenchArgs([])
    assert.deepEqual(
      [
        d.sebBaseline,
        d.memoryScaling,
        d.scalingFiles,
        d.scalingMeanSize,
        d.workDir,
        d.quietWaitMs,
        d.redoAbove,
        d.maxRedos,
      ],
      [null, false, [100_000, 300_000, 1_000_000], 2000, undefined, 60_000, 0.25, 2],
    )
    const s = parseBenchArgs([
      '--seb-baseline',
      '/x/bin.js',
      '--memory-scaling',
      '--scaling-files',
      '1000, 5000',
      '--work-dir',
      '/dev/shm',
      '--quiet-wait',
      '600',
    ])
    assert.deepEqual(
      [s.sebBaseline, s.memoryScaling, s.scalingFiles, s.workDir, s.quietWaitMs],
      ['/x/bin.js', true, [1000, 5000], '/dev/shm', 600_000],
    )
    assert.throws(() => parseBenchArgs(['--scaling-files', '1000,none']))
  })

  it("a measured child's CPU time includes what its children used", async () => {
    const loop = 'for ((i = 0; i < 400000; i++)); do :; done'
    const alone = await sh(loop)
    const nested = await sh(`bash -c '${loop}' & wait`)
    if (!hasGnuTime()) {
      // Without GNU time (Debian package `time`) the benchmark reports CPU and RSS as unknown.
      assert.deepEqual([alone.userMs, alone.peakRssKiB], [null, null])
      return
    }
    assert.ok(alone.userMs !== null && nested.userMs !== null)
    assert.ok(alone.userMs > 50, `the loop used ${alone.userMs} ms`)
    assert.ok(nested.userMs > 0.6 * alone.userMs, `nested ${nested.userMs} ms, alone ${alone.userMs} ms`)
  })
})
