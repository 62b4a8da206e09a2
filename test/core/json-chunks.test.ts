import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { jsonBuffers, jsonChunks } from '../../src/core/json-chunks.js'

describe('jsonChunks', () => {
  it('produces exactly JSON.stringify of the object, for small and batched arrays', () => {
    const big = Array.from({ length: 4567 }, (_, i) => [
      `p/${i}\udcff`,
      'f',
      'x'.repeat(i % 7),
      i,
      i * 1.5,
      0o644,
    ])
    const obj = {
      seb: 1,
      kind: 'delta',
      snapshot: null,
      empty: [],
      small: [1, 2],
      big,
      nested: { a: [1, { b: 'c' }] },
      skipped: undefined,
    }
    assert.equal([...jsonChunks(obj, 1000)].join(''), JSON.stringify(obj))
    const { buffers, length } = jsonBuffers(obj, 4096)
    const all = Buffer.concat(buffers)
    assert.equal(all.length, length)
    assert.deepEqual(JSON.parse(all.toString('utf8')), JSON.parse(JSON.stringify(obj)))
    assert.ok(buffers.length > 1, 'the JSON comes in several buffers')
  })
})
