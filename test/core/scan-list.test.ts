// ScanList gives back the entries it was built from, in order, and counts them.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ScanEntry } from '../../src/core/model.js'
import { ScanList } from '../../src/core/scan-list.js'

const entries: ScanEntry[] = [
  { path: 'INBOX', kind: 'd', size: 0, mtimeMs: 1.5e12 + 0.001, mode: 0o700, ino: 2, ctimeMs: 1.5e12 },
  {
    path: 'INBOX/cur/1:2,S',
    kind: 'f',
    size: 2 ** 33,
    mtimeMs: 1.6e12 + 0.123,
    mode: 0o600,
    ino: 2 ** 40,
    ctimeMs: 1.7e12,
  },
  {
    path: 'INBOX/link',
    kind: 'l',
    size: 0,
    mtimeMs: 1,
    mode: 0o777,
    ino: 9,
    ctimeMs: 2,
    target: '../\udc80x',
  },
  { path: 'INBOX/cur/2:2,', kind: 'f', size: 5, mtimeMs: 3, mode: 0o644, ino: 10, ctimeMs: 4 },
]

describe('ScanList', () => {
  it('gives back each entry as it was, in order', () => {
    const list = ScanList.of(entries)
    assert.equal(list.length, 4)
    assert.deepEqual([...list], entries)
    assert.deepEqual(list.at(2), entries[2])
    assert.deepEqual(list.totals(), { entries: 4, files: 2, bytes: 2 ** 33 + 5 })
    list.clear()
    assert.equal(list.length, 0)
    assert.deepEqual([...list], [])
  })
})
