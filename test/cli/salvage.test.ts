// Damage costs only what it touches (issue 18): one flipped byte in the ciphertext of a pack of 240
// files loses at most the files of one zstd frame. gpg (SEIPD v1, CFB + MDC) still writes the whole
// plaintext and then reports the MDC failure; every other frame decodes, and every member in it is
// checked against its SHA-256 before it is counted or written. verify --read-data and restore (exit 13)
// name exactly the same lost files, restore gives back every other one byte- and mtime-identical, and
// never writes a file whose hash does not verify. A pack cut short loses only what follows the cut.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { readTree, tempDir } from '../helpers/tree.js'

/** BATCH_FILES: the most files one zstd frame holds (src/engine/backup/packer.ts). */
const BATCH_FILES = 128

describe('a flipped byte costs one frame', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache') }
  let pack = ''
  const pristine = path.join(work.dir, 'pristine')
  before(async () => {
    await fs.mkdir(path.join(src, 'INBOX/cur'), { recursive: true })
    // Incompressible messages of 50 KiB: frames of about 80 files, so the pack has three.
    for (let i = 0; i < 240; i++) {
      const p = path.join(src, `INBOX/cur/m${String(i).padStart(3, '0')}:2,S`)
      await fs.writeFile(p, randomBytes(37 * 1024).toString('base64'))
      await fs.utimes(p, 1_600_000_000 + i, 1_600_000_000 + i)
    }
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
    assert.equal((await runSeb(['backup', src, dest], env)).code, 0)
    const dirs = await fs.readdir(path.join(dest, 'packs'))
    const packs = (await Promise.all(dirs.map((d) => fs.readdir(path.join(dest, 'packs', d))))).flat()
    assert.equal(packs.length, 1, 'one pack holds them all')
    pack = path.join(dest, 'packs', packs[0]!.slice(0, 2), packs[0]!)
    await fs.cp(dest, pristine, { recursive: true })
    const data = await fs.readFile(pack)
    data[Math.floor(data.length / 2)]! ^= 0x01
    await fs.writeFile(pack, data)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('verify --read-data and restore name the same few lost files (exit 13); every other file comes back whole', async () => {
    const v = await runSeb(['verify', dest, '--read-data', '--json'], env)
    assert.equal(v.code, 13, v.stderr)
    const summary = JSON.parse(v.stdout.trim().split('\n').pop()!)
    const problem = summary.problems.find((p: { object: string }) => p.object.startsWith('pack '))
    assert.ok(problem, 'the pack is reported damaged')
    const lostByVerify: string[] = problem.files
    assert.ok(lostByVerify.length > 0, 'the flipped byte costs something')
    assert.ok(lostByVerify.length <= BATCH_FILES, `${lostByVerify.length} files lost: more than one frame`)
    const frames = /(\d+) of (\d+) zstd frames lost/.exec(problem.message)
    assert.ok(frames, problem.message)
    assert.equal(Number(frames[1]), 1, problem.message)
    assert.equal(summary.filesChecked, 240 - lostByVerify.length)
    const out = path.join(work.dir, 'restored')
    const r = await runSeb(['restore', dest, out], env)
    assert.equal(r.code, 13, r.stderr)
    const lostByRestore = [...r.stderr.matchAll(/^seb: (\S+): not restored/gm)].map((m) => m[1]!).sort()
    assert.deepEqual(lostByRestore, [...lostByVerify].sort())
    assert.match(r.stderr, new RegExp(`seb: ${lostByVerify.length} files could not be restored`))
    // Everything else, identical; nothing lost was written at all.
    const a = await readTree(src)
    const b = await readTree(out)
    for (const lost of lostByVerify) assert.ok(!b.has(lost), `${lost} was written`)
    assert.equal(b.size + lostByVerify.length, a.size)
    for (const [k, e] of b) {
      const want = a.get(k)!
      assert.ok(want, `${k} is extra`)
      if (e.kind !== 'f') continue
      assert.ok(e.data!.equals(want.data!), `${k}: bytes`)
      assert.equal(e.mtimeUs, want.mtimeUs, `${k}: mtime`)
    }
    process.stdout.write(
      `# flipped byte: ${lostByVerify.length} of 240 files lost, ${frames[1]} of ${frames[2]} frames\n`,
    )
  })

  it('a pack cut short: verify --read-data and restore lose only what follows the cut, and agree (exit 13)', async () => {
    const cut = path.join(work.dir, 'cut')
    await fs.cp(pristine, cut, { recursive: true })
    const p = path.join(cut, path.relative(dest, pack))
    const data = await fs.readFile(p)
    await fs.writeFile(p, data.subarray(0, Math.floor((data.length * 2) / 3)))
    const e = { ...env, SEB_CACHE_DIR: path.join(work.dir, 'cache-cut') }
    const v = await runSeb(['verify', cut, '--read-data', '--json'], e)
    assert.equal(v.code, 13, v.stderr)
    const summary = JSON.parse(v.stdout.trim().split('\n').pop()!)
    const lost = summary.problems.flatMap((p: { files: string[] }) => p.files).sort()
    assert.ok(lost.length > 0 && lost.length < 240, `${lost.length} lost`)
    const r = await runSeb(['restore', cut, path.join(work.dir, 'restored-cut')], e)
    assert.equal(r.code, 13)
    const notRestored = [...r.stderr.matchAll(/^seb: (\S+): not restored/gm)].map((m) => m[1]!).sort()
    assert.deepEqual(notRestored, lost)
    assert.equal((await fs.readdir(path.join(work.dir, 'restored-cut/INBOX/cur'))).length, 240 - lost.length)
    process.stdout.write(`# pack cut at two thirds: ${lost.length} of 240 files lost\n`)
  })
})
