import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { HashSet } from '../../src/core/hash-set.js'

const H = (i: number) => createHash('sha256').update(String(i)).digest('hex')

describe('HashSet', () => {
  it('agrees with a Set through adds, deletes, re-adds and growth', () => {
    const set = new HashSet()
    const model = new Set<string>()
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    for (let step = 0; step < 20000; step++) {
      const h = H(rand(5000))
      const op = rand(10)
      if (op < 6) {
        set.add(h)
        model.add(h)
      } else if (op < 8) assert.equal(set.delete(h), model.delete(h))
      else assert.equal(set.has(h), model.has(h))
      assert.equal(set.size, model.size)
    }
    for (let i = 0; i < 5000; i++) assert.equal(set.has(H(i)), model.has(H(i)))
    set.clear()
    assert.equal(set.size, 0)
    assert.equal(set.has(H(1)), false)
  })

  it('refuses what is not SHA-256 hex', () => {
    const set = new HashSet()
    assert.throws(() => set.add('abc'))
    assert.throws(() => set.has(H(1).toUpperCase()))
    assert.throws(() => set.has(`${H(1).slice(0, 63)}g`))
  })
})
