import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { needsCheckpoint } from '../../src/repo/commit-writer.js'

const ref = (seq: number, size: number) => ({
  seq,
  name: `${String(seq).padStart(10, '0')}-${'0'.repeat(16)}`,
  size,
})

describe('checkpoint rule', () => {
  it('consolidates when the deltas since the base reach half its size, not by count', () => {
    const base = ref(1, 13_000_000)
    const daily = Array.from({ length: 60 }, (_, i) => ref(i + 2, 70_000))
    assert.equal(needsCheckpoint([base, ...daily], 0), false, '60 days of 70 kB deltas against a 13 MB base')
    const more = Array.from({ length: 40 }, (_, i) => ref(i + 62, 70_000))
    assert.equal(needsCheckpoint([base, ...daily, ...more], 0), true, '100 days reach half the base')
  })

  it('counts from the newest checkpoint, and consolidates after 500 deltas at the latest', () => {
    const commits = [
      ref(1, 100),
      ref(2, 10),
      ref(3, 5_000),
      ...Array.from({ length: 10 }, (_, i) => ref(i + 4, 10)),
    ]
    assert.equal(needsCheckpoint(commits, 3), false)
    assert.equal(needsCheckpoint(commits, 0), true)
    const many = [ref(1, 1e9), ...Array.from({ length: 500 }, (_, i) => ref(i + 2, 10))]
    assert.equal(needsCheckpoint(many, 0), true)
  })

  it('consolidates when the base commit is missing (damage)', () => {
    assert.equal(needsCheckpoint([ref(5, 10)], 3), true)
  })
})
