// The one member layout: fileHeader (the read workers' hot path, built without memberHeader's spread)
// must give exactly the bytes memberHeader gives for the same file, for every shape of header.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePath } from '../../src/core/path-bytes.js'
import { fileHeader, fileMember, memberHeader, paddingFor } from '../../src/pack/member.js'

describe('member layout', () => {
  const cases: [string, number, number, number][] = [
    ['INBOX/cur/1700000000.M1P2Q3.host,U=1:2,S', 4321, 0o600, 1_700_000_000_000],
    ['INBOX/cur/sub-second', 0, 0o644, 1_700_000_000_123.456],
    [`${'deep/'.repeat(30)}long-name:2,S`, 512, 0o640, 1_600_000_000_000],
    [decodePath(Buffer.from([0x6c, 0xe9, 0x74, 0xe9, 0xff])), 1, 0o600, 1_500_000_000_000],
    ['huge', 9_000_000_000, 0o600, 1_500_000_000_000],
  ]

  it('fileHeader is memberHeader for a regular file: pax records, long and non-UTF-8 names, sub-second mtimes, huge sizes', () => {
    for (const [path, size, mode, mtimeMs] of cases)
      assert.deepEqual(
        fileHeader(path, size, mode, mtimeMs),
        memberHeader({ path, type: 'file', size, mode, mtimeMs }),
        path,
      )
  })

  it('fileMember is the header, the data and the padding to the block', () => {
    const data = Buffer.from('From: a\n\nbody\n')
    const parts = fileMember('INBOX/new/x', 0o600, 1_700_000_000_000, data)
    assert.deepEqual(parts, [
      fileHeader('INBOX/new/x', data.length, 0o600, 1_700_000_000_000),
      data,
      paddingFor(data.length),
    ])
    assert.equal(Buffer.concat(parts).length % 512, 0)
  })
})
