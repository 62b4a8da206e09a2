import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePath } from '../../src/core/path-bytes.js'
import { memberHash, targetPath, UnpackListBuilder } from '../../src/pipeline/unpack-list.js'

const H = (c: string) => c.repeat(64)

describe('UnpackListBuilder', () => {
  it('lays out members, hashes, sizes and targets in the order added, with full paths under the root', () => {
    const b = new UnpackListBuilder(Buffer.from('/restore/here'))
    b.member(7, H('a'), 100)
    b.target('cur/1:2,S', 0o600, 1.5)
    b.member(2, H('b'), 2_000_000)
    b.target('new/x', 0o644, 2)
    b.target('tmp/é', 0o640, 3.25)
    assert.equal(b.size, 2)
    const list = b.build()
    assert.deepEqual([...list.entries], [7, 2])
    assert.deepEqual([...list.firstTarget], [0, 1, 3])
    assert.deepEqual([...list.sizes], [100, 2_000_000])
    assert.equal(memberHash(list, 0).toString('hex'), H('a'))
    assert.equal(memberHash(list, 1).toString('hex'), H('b'))
    assert.deepEqual(
      [0, 1, 2].map((t) => targetPath(list, t).toString()),
      ['/restore/here/cur/1:2,S', '/restore/here/new/x', '/restore/here/tmp/é'],
    )
    assert.deepEqual([...list.modes], [0o600, 0o644, 0o640])
    assert.deepEqual([...list.mtimes], [1.5, 2, 3.25])
  })

  it('gives back the exact bytes of a name that is not UTF-8', () => {
    const raw = Buffer.from([0x66, 0xff, 0x2e, 0xe9])
    const b = new UnpackListBuilder(Buffer.from('/r'))
    b.member(0, H('c'), 0)
    b.target(decodePath(raw), 0o600, 0)
    assert.deepEqual(targetPath(b.build(), 0), Buffer.concat([Buffer.from('/r/'), raw]))
  })

  it('grows past its first buffer without losing a byte', () => {
    const b = new UnpackListBuilder(Buffer.from('/r'))
    const names = Array.from({ length: 3000 }, (_, i) => `maildir/cur/${i}.${'x'.repeat(40)}:2,S`)
    names.forEach((name, i) => {
      b.member(i, H('d'), i)
      b.target(name, 0o600, i)
    })
    const list = b.build()
    names.forEach((name, i) => {
      assert.equal(targetPath(list, i).toString(), `/r/${name}`)
    })
  })
})
