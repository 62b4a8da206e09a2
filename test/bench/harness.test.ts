// Why: the harness's verdicts (restore identical or not, the summary it reads from seb, its arguments) must be
// right even before the engine exists; these check them on tiny trees, outcomes only.

import assert from 'node:assert/strict'
import { cp, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateMaildir, isMessagePath, walkTree } from '../../bench/maildir-gen.js'
import { parseBenchArgs } from '../../bench/options.js'
import { fmtBytes } from '../../bench/report/format.js'
import { runsMarkdown } from '../../bench/report/rounds.js'
import { medianRun } from '../../bench/rounds.js'
import { lastJsonLine } from '../../bench/seb-cli.js'
import { compareTrees } from '../../bench/trees.js'

describe('bench harness', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'seb-harness-test-'))
    await generateMaildir(join(dir, 'src'), { scale: 0.002, seed: 1 })
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('compareTrees: identical copy, then content, mtime, missing and extra differences', async () => {
    const src = join(dir, 'src')
    const copy = join(dir, 'copy')
    await cp(src, copy, { recursive: true, preserveTimestamps: true })
    assert.equal((await compareTrees(src, copy)).identical, true)
    const msgs = (await walkTree(copy)).filter((e) => isMessagePath(e.path))
    const [a, b, c] = [msgs[0]!, msgs[1]!, msgs[2]!]
    await writeFile(join(copy, a.path), 'x'.repeat(a.size))
    await utimes(join(copy, a.path), a.mtimeMs / 1000, a.mtimeMs / 1000)
    await utimes(join(copy, b.path), 1e9, 1e9)
    await rm(join(copy, c.path))
    await writeFile(join(copy, 'stray'), 'x')
    const r = await compareTrees(src, copy)
    assert.equal(r.identical, false)
    assert.equal(r.contentDiffers, 1)
    assert.equal(r.mtimeDiffers, 1)
    assert.equal(r.missing, 1)
    assert.equal(r.extra, 1)
  })

  it('lastJsonLine reads the summary on the last stdout line', () => {
    const s = lastJsonLine(
      '{"type":"progress"}\n{"type":"summary","command":"backup","bytesUploaded":12}\n\n',
    )
    assert.equal(s.type, 'summary')
    assert.equal(s.bytesUploaded, 12)
    assert.throws(() => lastJsonLine('\n'))
  })

  it('parseBenchArgs: defaults and modes', () => {
    const d = parseBenchArgs([])
    assert.equal(d.scale, 1)
    assert.equal(d.days, 30)
    assert.deepEqual(d.modes, ['recent', 'uniform'])
    assert.equal(d.peers, false)
    const s = parseBenchArgs(['--scale', '0.05', '--days', '3', '--mode', 'uniform', '--peers', '--no-seb'])
    assert.deepEqual([s.scale, s.days, s.modes, s.peers, s.seb], [0.05, 3, ['uniform'], true, null])
    assert.deepEqual(parseBenchArgs(['--mode', 'none']).modes, [])
    assert.throws(() => parseBenchArgs(['--mode', 'sometimes']))
    assert.equal(fmtBytes(5 * 1024 * 1024), '5.0 MiB')
    const r = parseBenchArgs(['--repeat', '3', '--restore-to', '/dev/shm'])
    assert.deepEqual([r.repeat, r.restoreTo, d.repeat, d.restoreTo], [3, '/dev/shm', 1, undefined])
  })

  it('medianRun keeps the run with the median wall time (the lower middle of an even count)', () => {
    const runs = [
      { wallMs: 9, tag: 'a' },
      { wallMs: 3, tag: 'b' },
      { wallMs: 5, tag: 'c' },
    ]
    assert.equal(medianRun(runs)?.tag, 'c')
    assert.equal(medianRun([...runs, { wallMs: 4, tag: 'd' }])?.tag, 'd')
    assert.equal(medianRun([]), undefined)
  })
  it('runsMarkdown lists every repeated run and seb/floor round by round', () => {
    const text = runsMarkdown({
      'floor/first': [7000, 8000, 6000],
      'seb/first': [8400, 8800, 7500],
      'restic/first': [14000, 15000, 13000],
      'seb/nothing': [1200, 1100, 1300],
      'floor/restore': [3000],
    })
    assert.equal(
      text,
      'Every run, in the order run (s): first backup: floor 7.00, 8.00, 6.00; seb 8.40, 8.80, 7.50; ' +
        'restic 14.00, 15.00, 13.00 (seb/floor round by round: 1.20×, 1.10×, 1.25×). ' +
        'nothing changed: seb 1.20, 1.10, 1.30.',
    )
    assert.equal(runsMarkdown({ 'seb/first': [8000] }), '')
  })
})
