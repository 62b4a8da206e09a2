// Nothing is lost: seb is killed with SIGKILL at seeded random moments — while scanning, writing and
// uploading packs, committing, cleaning up, compacting — SEB_KILLS times (default 50). After every
// kill `seb verify` passes for the last committed snapshot; at the end a run completes, restores
// byte-identically, every stored file reads back, and nothing a killed run left behind remains.
// Longer soak: SEB_KILLS=500 SEB_KILL_SEED=7 npm test (or node --test dist/test/crash/kill.test.js).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { mulberry32 } from '../../bench/maildir-gen.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import { runSeb, SEB_BIN, sebNodeArgs } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

const KILLS = Number(process.env.SEB_KILLS ?? 50)
const SEED = Number(process.env.SEB_KILL_SEED ?? 1)

describe(`crash safety: ${KILLS} SIGKILLs (seed ${SEED})`, () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache') }
  const rnd = mulberry32(SEED)
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!
  let counter = 0
  const text = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 1e9).toString(36)).join(' ')

  /** mutate changes the mail a little, as a day would: new, renamed, deleted messages. */
  const mutate = async () => {
    const cur = path.join(src, 'INBOX/cur')
    for (let i = 0; i < 8; i++)
      await fs.writeFile(path.join(cur, `m${counter++}:2,S`), text(500 + Math.floor(rnd() * 4000)))
    const names = await fs.readdir(cur)
    for (let i = 0; i < 3 && names.length > 10; i++) {
      const n = pick(names)
      await fs.rename(path.join(cur, n), path.join(cur, `${n}F`)).catch(() => {})
    }
    for (let i = 0; i < 2 && names.length > 10; i++) await fs.rm(path.join(cur, pick(names)), { force: true })
  }

  const run = (args: string[], killAfterMs: number | null) =>
    new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [...sebNodeArgs(SEB_BIN), ...args], {
        env: { ...process.env, ...env },
      })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
      })
      const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer)
        resolve({ code, signal, stderr })
      })
    })

  before(async () => {
    process.env.GNUPGHOME = g.home
    await fs.mkdir(path.join(src, 'INBOX/cur'), { recursive: true })
    await fs.mkdir(path.join(src, 'INBOX/new'), { recursive: true })
    for (let i = 0; i < 300; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/seed${i}:2,S`), text(300 + Math.floor(rnd() * 6000)))
    // Small packs so that one run writes several; retention 0 so that compaction always has work.
    await init(new LocalStorage(dest), {
      recipients: [g.keys[0]!.fingerprint],
      packBytes: 256 * 1024,
      retentionDays: 0,
    })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('every kill leaves a verifiable repository; the next run finishes the job', async () => {
    const first = await run(['backup', src, dest], null)
    assert.equal(first.code, 0, first.stderr)
    // How long an uninterrupted incremental run takes sets the window the kills fall in.
    await mutate()
    const t0 = Date.now()
    const second = await run(['backup', src, dest], null)
    assert.equal(second.code, 0, second.stderr)
    const window = Date.now() - t0
    let killed = 0
    let completed = 0
    for (let i = 0; i < KILLS; i++) {
      await mutate()
      const compact = i % 5 === 4
      const r = await run(compact ? ['compact', dest] : ['backup', src, dest], Math.floor(rnd() * window))
      if (r.signal === 'SIGKILL') killed++
      else {
        assert.equal(r.code, 0, `run ${i} failed: ${r.stderr}`)
        completed++
      }
      const v = await runSeb(['verify', dest], env)
      assert.equal(v.code, 0, `verify after kill ${i} (compact: ${compact}): ${v.stderr}`)
    }
    assert.ok(killed >= KILLS * 0.6, `only ${killed} of ${KILLS} runs were killed mid-way`)
    const last = await run(['backup', src, dest], null)
    assert.equal(last.code, 0, last.stderr)
    const out = path.join(work.dir, 'restored')
    const r = await runSeb(['restore', dest, out], env)
    assert.equal(r.code, 0, r.stderr)
    await assertSameTree(src, out)
    const v = await runSeb(['verify', dest, '--read-data'], env)
    assert.equal(v.code, 0, v.stderr)
    // Nothing left behind: no temp files, no orphan packs, no locks.
    const all: string[] = []
    const walk = async (d: string) => {
      for (const e of await fs.readdir(d, { withFileTypes: true }))
        e.isDirectory() ? await walk(path.join(d, e.name)) : all.push(path.join(d, e.name))
    }
    await walk(dest)
    // A lock being written when a run was killed may leave a temp file in locks/: cleanup keeps those for
    // ten minutes (a reader may be writing its lock right now); they are never read as locks.
    assert.deepEqual(
      all.filter((f) => f.includes('.seb-tmp-') && !f.includes(`${path.sep}locks${path.sep}`)),
      [],
    )
    assert.deepEqual(
      (await fs.readdir(path.join(dest, 'locks'))).filter((f) => !f.includes('.seb-tmp-')),
      [],
    )
    const json = await runSeb(['verify', dest, '--json'], env)
    const summary = JSON.parse(json.stdout.trim().split('\n').pop()!)
    const packFiles = all.filter((f) => f.includes(`${path.sep}packs${path.sep}`)).length
    assert.equal(packFiles, summary.packsChecked, 'orphan packs remain')
    process.stdout.write(`# kills: ${killed} killed, ${completed} completed before the kill\n`)
  })
})
