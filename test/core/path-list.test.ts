import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePath } from '../../src/core/path-bytes.js'
import { joinPaths, pathAt } from '../../src/core/path-list.js'

describe('joinPaths', () => {
  it('lays out root/path for each path, names that are not UTF-8 as their exact bytes', () => {
    const raw = Buffer.from([0x66, 0xff, 0x2e, 0xe9])
    const list = joinPaths(Buffer.from('/r'), ['cur/1:2,S', decodePath(raw), 'tmp/é'])
    assert.deepEqual(pathAt(list, 0), Buffer.from('/r/cur/1:2,S'))
    assert.deepEqual(pathAt(list, 1), Buffer.concat([Buffer.from('/r/'), raw]))
    assert.deepEqual(pathAt(list, 2), Buffer.from('/r/tmp/é'))
    assert.equal(list.ends[2], list.bytes.length)
  })

  it('an empty list has no bytes', () => {
    const list = joinPaths(Buffer.from('/r'), [])
    assert.equal(list.bytes.length, 0)
    assert.equal(list.ends.length, 0)
  })
})
