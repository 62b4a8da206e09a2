// Why: the local backend is the reference implementation of the Storage contracts; it runs the
// conformance suite on a temp dir (fast, always run) plus local-only cases.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { LocalStorage } from '../../src/storage/local.js'
import { bufferBody } from '../../src/storage/storage.js'
import { pack, runStorageSuite } from './suite.js'

const base = mkdtempSync(path.join(os.tmpdir(), 'seb-local-'))
let n = 0
after(() => rmSync(base, { recursive: true, force: true }))

runStorageSuite('local', async () => new LocalStorage(path.join(base, `repo${n++}`)))

describe('local: files', () => {
  it('writes objects with mode 0600 and leaves no temp file', async () => {
    const root = path.join(base, 'modes')
    const s = new LocalStorage(root)
    const h = pack()
    await s.save(h, bufferBody(Buffer.from('data')))
    const file = path.join(root, 'packs', h.name.slice(0, 2), h.name)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(readdirSync(path.dirname(file)), [h.name])
  })
})
