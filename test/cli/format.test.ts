// The words around numbers: one file, two files — in every count seb prints.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { count, plural } from '../../src/cli/format.js'

describe('format', () => {
  it('plural: singular for one, plural otherwise, thousands separated', () => {
    assert.equal(plural(0, 'file'), '0 files')
    assert.equal(plural(1, 'file'), '1 file')
    assert.equal(plural(12345, 'entry', 'entries'), '12,345 entries')
    assert.equal(plural(1, 'match', 'matches'), '1 match')
  })

  it('count: the same words, the number as is', () => {
    assert.equal(count(1, 'snapshot'), '1 snapshot')
    assert.equal(count(3000, 'file'), '3000 files')
    assert.equal(count(1, 'recipient'), '1 recipient')
    assert.equal(count(2, 'commit'), '2 commits')
  })
})
