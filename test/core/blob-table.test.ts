// BlobTable against a plain Map, through random sets, replacements and deletes (hash collisions on the
// bucket key included), and for keys that are not hex hashes.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BlobTable } from '../../src/core/blob-table.js'
import type { BlobLocation } from '../../src/core/model.js'
import { fakeHash, seededRandom } from '../helpers/random.js'

const sha = fakeHash

describe('BlobTable', () => {
  it('behaves as a Map of hash to location through sets, replacements and deletes', () => {
    const table = new BlobTable()
    const model = new Map<string, BlobLocation>()
    const rand = seededRandom(7)
    // Keys sharing their first 30 bits land in one bucket: force a few.
    const collide = (n: number) => `${sha(1).slice(0, 8)}${sha(n).slice(8)}`
    const used = new Set<string>()
    for (let i = 0; i < 20_000; i++) {
      const k = rand(10) === 0 ? collide(rand(50)) : sha(rand(5000))
      used.add(k)
      if (rand(4) === 0) assert.equal(table.delete(k), model.delete(k))
      else {
        const loc = {
          pack: `p${rand(7)}`,
          entry: rand(1000),
          size: rand(1 << 30) * 8,
          tarPath: `m/${rand(99)}`,
        }
        table.set(k, loc)
        model.set(k, loc)
      }
    }
    assert.equal(table.size, model.size)
    for (const [k, v] of model) {
      assert.deepEqual(table.get(k), v)
      const r = table.locate(k)
      assert.deepEqual(
        { pack: table.packAt(r), entry: table.entryAt(r), size: v.size, tarPath: table.tarPathAt(r) },
        v,
      )
    }
    assert.equal(table.locate(sha(-1)), -1)
    assert.deepEqual([...table].sort(), [...model].sort())
    assert.deepEqual([...table.keys()].sort(), [...model.keys()].sort())
    for (const k of used) assert.equal(table.has(k), model.has(k))
    // Exported and rebuilt (copied columns: rows were freed), and from a table that never freed one.
    assert.deepEqual([...BlobTable.fromColumns(table.exportColumns())].sort(), [...model].sort())
    const dense = new BlobTable()
    for (const [k, v] of model) dense.set(k, v)
    assert.deepEqual([...BlobTable.fromColumns(dense.exportColumns())].sort(), [...model].sort())
    assert.equal(table.has(sha(-1)), false)
    assert.equal(table.get(collide(999)), undefined)
  })

  it('keeps keys that are not hex hashes as they are', () => {
    const t = new BlobTable()
    const loc = { pack: 'p', entry: 0, size: 1, tarPath: 'x' }
    t.set('h1', loc)
    t.set('A'.repeat(64), loc)
    assert.deepEqual(t.get('h1'), loc)
    assert.deepEqual(t.get('A'.repeat(64)), loc)
    assert.equal(t.has('a'.repeat(64)), false)
    assert.deepEqual([...t.keys()].sort(), ['A'.repeat(64), 'h1'])
    t.delete('h1')
    assert.equal(t.size, 1)
    t.clear()
    assert.equal(t.size, 0)
    t.set(sha(1), loc)
    assert.deepEqual([...t], [[sha(1), loc]])
  })
})
