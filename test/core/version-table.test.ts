// VersionTable against a plain Map of live versions, with rows freed and reused.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Version } from '../../src/core/model.js'
import { VersionTable } from '../../src/core/version-table.js'
import { fakeHash, seededRandom } from '../helpers/random.js'

const sha = fakeHash

describe('VersionTable', () => {
  it('behaves as a Map of path to live version', () => {
    const table = new VersionTable()
    const model = new Map<string, Version>()
    const rand = seededRandom(3)
    for (let i = 0; i < 20_000; i++) {
      const path = `INBOX/cur/${rand(3000)}`
      if (rand(5) === 0) {
        assert.equal(table.delete(path), model.delete(path))
        continue
      }
      const kind = (['f', 'f', 'f', 'l', 'd'] as const)[rand(5)]!
      const ref = kind === 'f' ? sha(rand(100)) : kind === 'l' ? `../target ${rand(9)}` : ''
      const v: Version = {
        path,
        kind,
        ref,
        size: rand(1 << 30) * 16,
        mtimeMs: 1.7e12 + rand(1e6) / 1000,
        mode: 0o100000 | rand(0o7777),
        from: rand(1000) + 1,
        to: 0,
      }
      table.set(path, v)
      model.set(path, v)
    }
    assert.equal(table.size, model.size)
    for (const [p, v] of model) {
      assert.deepEqual(table.get(p), v)
      assert.equal(table.kindOf(p), v.kind)
      assert.equal(table.canonicalPath(p), p)
    }
    assert.deepEqual([...table].sort(), [...model].sort())
    assert.equal(table.get('nope'), undefined)
    // Exported and rebuilt (copied columns: rows were freed), and from a table that never freed one
    // (views of its columns).
    assert.deepEqual([...VersionTable.fromColumns(table.exportColumns())].sort(), [...model].sort())
    const dense = new VersionTable()
    for (const [p, v] of model) dense.set(p, v)
    assert.deepEqual([...VersionTable.fromColumns(dense.exportColumns())].sort(), [...model].sort())
    // fileTotals counts from the columns what the versions say, rows freed (table) or not (dense).
    const totals = (m: Iterable<Version>) => {
      let files = 0
      let bytes = 0
      for (const v of m)
        if (v.kind === 'f') {
          files++
          bytes += v.size
        }
      return { files, bytes }
    }
    assert.deepEqual(table.fileTotals(), totals(model.values()))
    assert.deepEqual(dense.fileTotals(), totals(model.values()))
    table.clear()
    assert.equal(table.size, 0)
    assert.deepEqual([...table.values()], [])
  })
})
