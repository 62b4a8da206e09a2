// verify checks what it says (issue 18). A commit that drops a still-referenced pack — authentic, made
// with the repository key, as a compaction bug would — makes quick verify and --read-data fail (13),
// naming the files restore cannot give back, as restore does. On a machine with the public key only,
// quick verify checks the commit objects against their signatures without decrypting them (a damaged
// newest commit is found), and says which checks it could not make; the JSON summary lists both.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { emptyCommit } from '../../src/core/commit-codec.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { writeSignedCommit } from '../helpers/signed-commit.js'
import { tempDir } from '../helpers/tree.js'

describe('verify checks what it says', () => {
  const g = makeGnupgHome()
  const pub = publicOnlyHome(g.keys[0]!)
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const pristine = path.join(work.dir, 'pristine')
  const owner = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache-owner') }
  let firstPack = ''
  const packs = async (d: string) => {
    const out: string[] = []
    for (const x of await fs.readdir(path.join(d, 'packs')))
      for (const f of await fs.readdir(path.join(d, 'packs', x))) out.push(f)
    return out
  }
  before(async () => {
    process.env.GNUPGHOME = g.home
    await fs.mkdir(path.join(src, 'INBOX/cur'), { recursive: true })
    for (let i = 0; i < 12; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/old-${i}:2,S`), `old message ${i}\n`.repeat(300))
    await init(new LocalStorage(pristine), { recipients: [g.keys[0]!.fingerprint] })
    assert.equal((await runSeb(['backup', src, pristine], owner)).code, 0)
    firstPack = (await packs(pristine))[0]!
    for (let i = 0; i < 4; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/new-${i}:2,S`), `new message ${i}\n`.repeat(300))
    assert.equal((await runSeb(['backup', src, pristine], owner)).code, 0)
  })
  after(() => {
    work.cleanup()
    pub.cleanup()
    g.cleanup()
  })

  it('a signed commit that drops a still-referenced pack: quick verify and --read-data fail (13) naming the files, as restore does', async () => {
    const dest = path.join(work.dir, 'dropped')
    await fs.cp(pristine, dest, { recursive: true })
    const record = { ...emptyCommit('delta', 0, null, new Date().toISOString()), dropPacks: [firstPack] }
    await writeSignedCommit(new LocalStorage(dest), record)
    const env = { ...owner, SEB_CACHE_DIR: path.join(work.dir, 'cache-dropped') }
    const lost = Array.from({ length: 12 }, (_, i) => `INBOX/cur/old-${i}:2,S`).sort()
    for (const args of [
      ['verify', dest],
      ['verify', dest, '--read-data'],
    ]) {
      const v = await runSeb(args, env)
      assert.equal(v.code, 13, `${args.join(' ')}: ${v.stdout}${v.stderr}`)
      assert.match(v.stderr, /seb: damaged: 12 files of retained snapshots have no stored content/)
      for (const f of lost) assert.ok(v.stderr.includes(`affects ${f}`), `${args.join(' ')} names ${f}`)
      assert.doesNotMatch(v.stderr, /new-/)
    }
    const json = await runSeb(['verify', dest, '--json'], env)
    const summary = JSON.parse(json.stdout.trim().split('\n').pop()!)
    assert.equal(summary.ok, false)
    assert.deepEqual(summary.problems.find((p: { object: string }) => p.object === 'index').files, lost)
    const r = await runSeb(['restore', dest, path.join(work.dir, 'out-dropped')], env)
    assert.equal(r.code, 13)
    for (const f of lost) assert.ok(r.stderr.includes(`seb: ${f}: not restored`), `restore names ${f}`)
  })

  it('with the public key only: quick verify finds a damaged newest commit without decrypting it, and says what it could not check', async () => {
    const dest = path.join(work.dir, 'cron')
    await fs.cp(pristine, dest, { recursive: true })
    // A machine set up once with the owner's key, then left with the public key only (a cron machine).
    const cron = {
      GNUPGHOME: pub.home,
      SEB_CACHE_DIR: path.join(work.dir, 'cache-cron'),
      SEB_DATA_DIR: path.join(work.dir, 'data-cron'),
    }
    const setup = await runSeb(['key', 'setup', dest], { ...cron, GNUPGHOME: g.home })
    assert.equal(setup.code, 0, setup.stderr)
    const clean = await runSeb(['verify', dest], cron)
    assert.equal(clean.code, 0, clean.stderr)
    assert.match(clean.stdout, /not checked: the index is the destination's.*needs the secret key/)
    assert.match(clean.stdout, /no problems found/)
    const cleanJson = JSON.parse(
      (await runSeb(['verify', dest, '--json'], cron)).stdout.trim().split('\n').pop()!,
    )
    assert.deepEqual(cleanJson.checked, ['signatures', 'commits', 'head', 'packs', 'files'])
    assert.deepEqual(
      cleanJson.skipped.map((s: { check: string }) => s.check),
      ['index', 'data'],
    )
    // --read-data cannot be done here: it says so, after every check it could make (exit 12).
    const rd = await runSeb(['verify', dest, '--read-data'], cron)
    assert.equal(rd.code, 12, rd.stderr)
    assert.match(rd.stdout, /not checked: every pack decrypted.*needs the secret key/)
    // The newest commit object, damaged: found by its bytes, against its signature.
    const commits = (await fs.readdir(path.join(dest, 'commits'))).sort()
    const newest = path.join(dest, 'commits', commits.at(-1)!)
    const data = await fs.readFile(newest)
    data[data.length - 10]! ^= 0xff
    await fs.writeFile(newest, data)
    const v = await runSeb(['verify', dest], cron)
    assert.equal(v.code, 13, v.stdout + v.stderr)
    assert.match(v.stderr, new RegExp(`seb: damaged: commit ${commits.at(-1)} is damaged`))
  })
})
