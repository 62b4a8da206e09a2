import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodePath, displayPath, encodePath, isSafeRelativePath } from '../../src/core/path-bytes.js'

describe('path bytes', () => {
  it('round-trips valid UTF-8 names unchanged', () => {
    for (const s of ['INBOX/cur/1.msg:2,S', 'Entwürfe/cur/ä', '日本語/メール', 'emoji 📨']) {
      assert.equal(decodePath(Buffer.from(s)), s)
      assert.deepEqual(encodePath(s), Buffer.from(s))
    }
  })

  it('round-trips every invalid byte sequence exactly', () => {
    const samples = [
      [0x6c, 0xe9, 0x74, 0xe9], // latin-1 "lété"
      [0xff, 0xfe, 0x00 + 0x41],
      [0xc0, 0xaf], // overlong '/'
      [0xed, 0xa0, 0x80], // encoded surrogate
      [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
      [0xe2, 0x82], // truncated sequence
      [0x61, 0xf0, 0x9f, 0x93, 0xa8, 0x80], // valid emoji then a stray continuation byte
    ]
    for (const bytes of samples) {
      const b = Buffer.from(bytes)
      const s = decodePath(b)
      assert.deepEqual(encodePath(s), b, `bytes ${b.toString('hex')}`)
      assert.equal(JSON.parse(JSON.stringify(s)), s, 'survives JSON')
    }
  })

  it('all 256 single bytes and random byte strings round-trip', () => {
    for (let i = 1; i < 256; i++) assert.deepEqual(encodePath(decodePath(Buffer.from([i]))), Buffer.from([i]))
    let x = 7
    for (let n = 0; n < 500; n++) {
      const bytes = Buffer.alloc(1 + (n % 13))
      for (let k = 0; k < bytes.length; k++) {
        x = (x * 1103515245 + 12345) & 0x7fffffff
        bytes[k] = 1 + (x % 255)
      }
      assert.deepEqual(encodePath(decodePath(bytes)), bytes)
    }
  })

  it('displays invalid bytes and control characters as \\xNN', () => {
    assert.equal(displayPath(decodePath(Buffer.from([0x61, 0xff, 0x0a]))), 'a\\xff\\x0a')
  })

  it('accepts only safe relative paths', () => {
    for (const ok of ['a', 'a/b', 'a/.b', 'a/..b', '...']) assert.ok(isSafeRelativePath(ok), ok)
    for (const bad of ['', '/a', 'a/../b', '..', '.', 'a//b', 'a/', 'a/./b', 'a\0b', '../etc/passwd'])
      assert.ok(!isSafeRelativePath(bad), bad)
  })
})
