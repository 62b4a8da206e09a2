// FactsTable against a plain Map of local facts.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FactsTable } from '../../src/core/facts-table.js'
import type { LocalFacts } from '../../src/core/model.js'

describe('FactsTable', () => {
  it('behaves as a Map of path to local facts', () => {
    const table = new FactsTable()
    const model = new Map<string, LocalFacts>()
    for (let i = 0; i < 10_000; i++) {
      const p = `cur/${(i * 7919) % 3001}`
      if (i % 5 === 0) assert.equal(table.delete(p), model.delete(p))
      else {
        const f = { size: i, mtimeMs: 1.7e12 + i / 1000, ino: 2 ** 40 + i, ctimeMs: 1.6e12 + i / 7 }
        table.set(p, f)
        model.set(p, f)
      }
    }
    assert.equal(table.size, model.size)
    assert.deepEqual([...table].sort(), [...model].sort())
    for (const [p, f] of model) {
      assert.equal(table.same(p, f.size, f.mtimeMs, f.ino, f.ctimeMs), true)
      assert.equal(table.same(p, f.size + 1, f.mtimeMs, f.ino, f.ctimeMs), false)
    }
    assert.deepEqual([...FactsTable.of(model)].sort(), [...model].sort())
    // Exported and rebuilt, with rows freed (copies) and without (views).
    const copied = table.exportColumns()
    assert.deepEqual([...FactsTable.fromColumns(copied.paths, copied.numbers)].sort(), [...model].sort())
    const viewed = FactsTable.of(model).exportColumns()
    assert.deepEqual([...FactsTable.fromColumns(viewed.paths, viewed.numbers)].sort(), [...model].sort())
  })
})
