import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ScanEntry } from '../../src/core/model.js'
import { planPacks } from '../../src/core/plan.js'

const f = (path: string, size: number, mtimeMs: number): ScanEntry => ({
  path,
  kind: 'f',
  size,
  mtimeMs,
  mode: 0o644,
  ino: 0,
  ctimeMs: 0,
})

describe('planPacks', () => {
  it('orders by age, then path, and cuts by size, not count', () => {
    const plans = planPacks([f('c', 40, 3), f('a', 40, 1), f('b', 40, 2), f('d', 40, 3)], 100)
    assert.deepEqual(
      plans.map((p) => p.map((e) => e.path)),
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    )
  })

  it('gives a file larger than the target a pack of its own', () => {
    const plans = planPacks([f('small', 10, 1), f('huge', 1000, 2), f('tiny', 1, 3)], 100)
    assert.deepEqual(
      plans.map((p) => p.map((e) => e.path)),
      [['small'], ['huge'], ['tiny']],
    )
  })

  it('never loses or duplicates a file', () => {
    const files = Array.from({ length: 1000 }, (_, i) => f(`m${i}`, (i * 7919) % 5000, (i * 104729) % 997))
    const plans = planPacks(files, 20_000)
    const seen = plans
      .flat()
      .map((e) => e.path)
      .sort()
    assert.deepEqual(seen, files.map((e) => e.path).sort())
    for (const p of plans) assert.ok(p.length === 1 || p.reduce((n, e) => n + e.size, 0) <= 20_000)
  })
})
