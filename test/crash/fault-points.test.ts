// Crash safety at the moments that matter (issue 18): seb is killed with SIGKILL at every named fault
// point of src/util/fault.ts (SEB_FAULT=<point>[:<n>]), several times where a step repeats. Backups run
// on a "cron machine" with the public key only; compaction and key rotation run there too, with the
// owner's secret key at hand. After every kill: the process died by SIGKILL at that very point
// (SEB_FAULT_LOG), `seb verify --read-data` passes on the owner's machine (its own cache and data), the
// next public-key-only backup finishes, a restore (secret key) is byte- and mtime-identical to the
// source as that backup saw it, and nothing already committed is uploaded again. Every point of
// FAULT_POINTS must be hit; a count per point is printed at the end.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, promises as fs, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { mulberry32 } from '../../bench/maildir-gen.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import { FAULT_POINTS } from '../../src/util/fault.js'
import { runSeb, type SebRun } from '../helpers/cli.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { assertSameTree } from '../helpers/tree.js'

/** Kind is what the faulted run does. */
type Kind = 'backup' | 'first-backup' | 'compact' | 'rotate' | 'reset-signing'

/** FaultCase is one kill: where, in what run, and what to do first. */
interface FaultCase {
  readonly point: string
  readonly kind: Kind
  /** other kills to make first (cleanup needs killed runs' leftovers to delete) */
  readonly before?: readonly string[]
}

const CASES: FaultCase[] = [
  { point: 'cache:state-half', kind: 'first-backup' },
  { point: 'pack:before-upload:2', kind: 'backup' },
  { point: 'pack:upload-half:1', kind: 'backup' },
  { point: 'pack:uploaded:2', kind: 'backup' },
  { point: 'pack:journalled:3', kind: 'backup' },
  { point: 'cache:prepared', kind: 'backup' },
  { point: 'commit:object-saved', kind: 'backup' },
  { point: 'commit:signed', kind: 'backup' },
  { point: 'cache:promote', kind: 'backup' },
  { point: 'cleanup:deleting:2', kind: 'backup', before: ['pack:uploaded:1', 'commit:object-saved'] },
  { point: 'compact:pack-written', kind: 'compact' },
  { point: 'compact:committed', kind: 'compact' },
  { point: 'compact:deleting', kind: 'compact' },
  { point: 'rotate:object:3', kind: 'rotate' },
  { point: 'rotate:committed', kind: 'rotate' },
  { point: 'rotate:signature:2', kind: 'reset-signing' },
]

/** ROUNDS: how many times every kill is made (a soak: SEB_FAULT_ROUNDS=10). */
const ROUNDS = Math.max(1, Number(process.env.SEB_FAULT_ROUNDS ?? 1) || 1)

describe('crash safety at every named fault point', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'bob@example.invalid'])
  const pub = publicOnlyHome(g.keys[0]!)
  // In memory where the machine has it: the destination syncs every object, and the test is about
  // order, not disks.
  const workDir = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'seb-fault-'))
  const work = { dir: workDir, cleanup: () => rmSync(workDir, { recursive: true, force: true }) }
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const faultLog = path.join(work.dir, 'fault.log')
  // The cron machine: its own cache and machine data. Backups there see the public key only.
  const cron = {
    SEB_CACHE_DIR: path.join(work.dir, 'cron-cache'),
    SEB_DATA_DIR: path.join(work.dir, 'cron-data'),
  }
  const cronPublic = { ...cron, GNUPGHOME: pub.home }
  const cronOwner = { ...cron, GNUPGHOME: g.home }
  // The owner's machine, for verify and restore: its cache never helps the cron machine's.
  const owner = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'owner-cache'),
    SEB_DATA_DIR: path.join(work.dir, 'owner-data'),
  }
  const rnd = mulberry32(18)
  let counter = 0
  let restores = 0
  const hits = new Map<string, number>()
  const uploaded: string[] = []
  let lastCompleted = new Map<string, number>()
  const text = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 1e9).toString(36)).join(' ')

  /** mutate is a day of mail: new messages (several packs' worth), a rename with a new mtime, deletions. */
  const mutate = async () => {
    const cur = path.join(src, 'INBOX/cur')
    for (let i = 0; i < 14; i++) await fs.writeFile(path.join(cur, `m${counter++}:2,S`), text(1500 + i * 100))
    const names = (await fs.readdir(cur)).sort()
    const moved = names[Math.floor(rnd() * names.length)]!
    await fs.rename(path.join(cur, moved), path.join(src, 'Archive/cur', moved))
    const t = 1_600_000_000 + counter
    await fs.utimes(path.join(src, 'Archive/cur', moved), t, t)
    for (let i = 0; i < 3; i++)
      await fs.rm(path.join(cur, names[Math.floor(rnd() * names.length)]!), { force: true })
  }

  /** contentHashes maps every file's content hash to its size. */
  const contentHashes = async (): Promise<Map<string, number>> => {
    const out = new Map<string, number>()
    for (const dir of ['INBOX/cur', 'Archive/cur'])
      for (const n of await fs.readdir(path.join(src, dir))) {
        const data = await fs.readFile(path.join(src, dir, n))
        out.set(createHash('sha256').update(data).digest('hex'), data.length)
      }
    return out
  }

  const sigCount = async () => (await fs.readdir(path.join(dest, 'sigs')).catch(() => [])).length
  const ok = (r: SebRun, what: string) =>
    assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stderr}`)

  /** faulted runs one command with SEB_FAULT set and checks it died by SIGKILL at that point. */
  const faulted = async (kind: Kind, spec: string): Promise<void> => {
    await fs.rm(faultLog, { force: true })
    const counted = /:(\d+)$/.exec(spec)
    const point = counted ? spec.slice(0, counted.index) : spec
    const nth = counted?.[1] ?? '1'
    const env = {
      ...(kind.endsWith('backup') ? cronPublic : cronOwner),
      SEB_FAULT: spec,
      SEB_FAULT_LOG: faultLog,
    }
    const args =
      kind === 'compact'
        ? ['compact', dest, '--threshold', '1']
        : kind === 'rotate'
          ? ['key', 'rotate', dest]
          : kind === 'reset-signing'
            ? ['key', 'reset-signing', dest]
            : ['backup', src, dest, '--json']
    const r = await runSeb(args, env)
    assert.equal(
      r.signal,
      'SIGKILL',
      `${kind} with SEB_FAULT=${spec} was not killed (exit ${r.code}):\n${r.stderr}`,
    )
    const reached = (await fs.readFile(faultLog, 'utf8')).trim().split('\n')
    assert.equal(reached.at(-1), point, `${spec}: the last point reached was ${reached.at(-1)}`)
    assert.equal(reached.filter((p) => p === point).length, Number(nth), `${spec}: reached how often`)
    hits.set(point, (hits.get(point) ?? 0) + 1)
  }

  before(async () => {
    await fs.mkdir(path.join(src, 'INBOX/cur'), { recursive: true })
    await fs.mkdir(path.join(src, 'INBOX/new'), { recursive: true })
    await fs.mkdir(path.join(src, 'Archive/cur'), { recursive: true })
    for (let i = 0; i < 40; i++)
      await fs.writeFile(path.join(src, `INBOX/cur/seed${i}:2,S`), text(800 + i * 40))
    // Small packs, so that a run writes several; retention 0, so that compaction always has work. The
    // repository key goes to the cron machine's data (init runs there); the owner's machine pins the
    // manifest with its secret key the first time it reads it.
    process.env.GNUPGHOME = g.home
    await init(new LocalStorage(dest), {
      recipients: [g.keys[0]!.fingerprint],
      packBytes: 64 * 1024,
      retentionDays: 0,
      dataBase: cron.SEB_DATA_DIR,
    })
  })
  after(() => {
    work.cleanup()
    pub.cleanup()
    g.cleanup()
  })

  const rounds = Array.from({ length: ROUNDS }, (_, r) =>
    CASES.filter((c) => r === 0 || c.kind !== 'first-backup'),
  )
  for (const [round, c] of rounds.flatMap((cases, r) => cases.map((c) => [r, c] as const)))
    it(`${round ? `round ${round + 1}: ` : ''}${c.kind} killed at ${c.point}${c.before ? ` (after kills at ${c.before.join(', ')})` : ''}`, async () => {
      // Rotation changes pack sizes (and so reaches its commit) after a change of recipients: the first
      // rotation follows adding a second recipient, the next one its removal.
      const rotation = CASES.filter((x) => x.kind === 'rotate').indexOf(c)
      if (rotation === 0 && round === 0) {
        ok(await runSeb(['key', 'add', dest, g.keys[1]!.fingerprint], cronOwner), 'key add')
        // The cron machine encrypts to the new recipient too: it needs that public key.
        execFileSync('gpg', ['--batch', '--import'], {
          env: { ...process.env, GNUPGHOME: pub.home },
          input: execFileSync('gpg', ['--armor', '--export', g.keys[1]!.fingerprint], {
            env: { ...process.env, GNUPGHOME: g.home },
          }),
          stdio: ['pipe', 'ignore', 'ignore'],
        })
      } else if (rotation === 0)
        ok(await runSeb(['key', 'add', dest, g.keys[1]!.fingerprint], cronOwner), 'key add')
      else if (rotation === 1)
        ok(await runSeb(['key', 'remove', dest, g.keys[1]!.fingerprint], cronOwner), 'key remove')
      if (c.kind !== 'first-backup') await mutate()
      for (const b of c.before ?? []) await faulted('backup', b)
      const sigsBefore = await sigCount()
      const hashesNow = await contentHashes()
      await faulted(c.kind, c.point)
      const committed = (await sigCount()) > sigsBefore
      if (c.point.startsWith('pack:upload-half')) {
        const packs = await fs.readdir(path.join(dest, 'packs'), { recursive: true })
        assert.ok(
          packs.some((p) => String(p).includes('.seb-tmp-')),
          'a half-written temporary object is left',
        )
      }
      // A maintenance command's exclusive lock blocks readers until removed: this machine proves it
      // stale (its pid is gone), as its next run would.
      if (!c.kind.endsWith('backup')) {
        const u = await runSeb(['unlock', dest], cronPublic)
        ok(u, 'unlock')
        assert.match(u.stdout, /1 lock removed|removed lock/)
      }
      // An interrupted key change is finished by running it again (docs/design.md, "Write order" and
      // "The repository key"): until then the index's pack sizes, or the signatures' key, are half old.
      if (c.kind === 'rotate') ok(await runSeb(['key', 'rotate', dest], cronOwner), 'key rotate, again')
      if (c.kind === 'reset-signing')
        ok(await runSeb(['key', 'reset-signing', dest], cronOwner), 'reset-signing, again')
      // The repository is whole: everything it lists decrypts and hashes right.
      ok(await runSeb(['verify', dest, '--read-data'], owner), `verify --read-data after ${c.point}`)
      // The next public-key-only backup finishes, from the cache, uploading nothing already committed.
      const next = await runSeb(['backup', src, dest, '--json'], cronPublic)
      ok(next, `the next public-key-only backup after ${c.point}`)
      const summary = JSON.parse(next.stdout.trim().split('\n').pop()!) as {
        bytesNew: number
        indexRebuilt: boolean
      }
      assert.equal(summary.indexRebuilt, false, 'the cron machine continued from its own cache')
      // What the next run may upload: the contents the last completed backup did not have, at most.
      let bound = 0
      for (const [h, size] of hashesNow) if (!lastCompleted.has(h)) bound += size
      if (c.kind.endsWith('backup') && committed)
        assert.equal(summary.bytesNew, 0, `after ${c.point} (committed), nothing is uploaded again`)
      else assert.ok(summary.bytesNew <= bound, `after ${c.point}: ${summary.bytesNew} new bytes > ${bound}`)
      if (c.point.startsWith('pack:journalled'))
        assert.ok(summary.bytesNew < bound, `after ${c.point}: the journalled packs were adopted`)
      uploaded.push(`${c.kind} ${c.point}: next run ${summary.bytesNew} of ${bound} bytes new`)
      lastCompleted = hashesNow
      // The restore is the source as the backup just saw it, bytes and mtimes.
      const out = path.join(work.dir, `restored-${restores++}`)
      ok(await runSeb(['restore', dest, out], owner), `restore after ${c.point}`)
      await assertSameTree(src, out)
      await fs.rm(out, { recursive: true, force: true })
    })

  it('every named point was hit', () => {
    const lines = FAULT_POINTS.map((p) => `${p}: ${hits.get(p) ?? 0}`)
    process.stdout.write(`# fault-point kills per point:\n${lines.map((l) => `#   ${l}\n`).join('')}`)
    process.stdout.write(uploaded.map((l) => `#   ${l}\n`).join(''))
    assert.deepEqual(
      FAULT_POINTS.filter((p) => !hits.get(p)),
      [],
      'points never killed at',
    )
  })
})
