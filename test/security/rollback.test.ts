// Issue 17, family 5: deleting the newest commits. What is left is genuine and signed, so only the
// machine that saw the newer head can tell: its pin (seq, name, chain of the newest commit seen). There
// every command exits 14 and nothing is written or deleted; a sequence number once seen is never written
// again; `--accept-rollback` continues deliberately, after the highest seq the machine saw. The same
// over S3, the attacker deleting through the S3 API.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { after, before, beforeEach, describe, it } from 'node:test'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from '@aws-sdk/client-s3'
import { type Radosgw, startRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/tree.js'
import { Destination } from './attacker.js'
import { assertExit, assertKept, assertUnchanged, Exit, type Listing, listing } from './checks.js'
import { addMail, args, Machine, makeOwner, makeRepo, type Repo, type RunOptions, World } from './victim.js'

const owner = makeOwner()
const work = tempDir('seb-sec-rollback-')
after(() => {
  owner.cleanup()
  work.cleanup()
})

const seqOf = (name: string) => Number(name.slice(0, 10))

describe('deleting the newest commits (local destination)', () => {
  const m = new Machine(work.dir, owner)
  let repo: Repo
  let world: World
  let original: Listing
  let n = 0
  const dest = () => new Destination(repo.dest)
  const target = () => path.join(work.dir, `restored-${++n}`)

  before(async () => {
    repo = await makeRepo(m, {
      dest: path.join(work.dir, 'dest'),
      src: path.join(work.dir, 'src'),
      backups: 3,
    })
    world = new World([repo.dest, m.data, m.cache])
    await world.save()
    original = listing(repo.dest)
  })
  beforeEach(() => world.reset())

  const refused = async (runs: [string, string[], RunOptions][]) => {
    const attacked = listing(repo.dest)
    await addMail(repo, `after-rollback-${n}`)
    for (const [what, a, o] of runs) {
      const r = await m.run(args(repo, ...a), o)
      assertExit(r, Exit.Untrusted, what, what === 'verify' ? 'report' : 'line')
    }
    assertUnchanged(attacked, listing(repo.dest), 'the refused commands')
  }

  it('the newest commit and its signature object deleted: every command exits 14 on the machine that saw it; nothing changes', async () => {
    const d = dest()
    const head = d.head()
    d.remove(`commits/${head.name}`)
    d.remove(`sigs/${head.name}`)
    await refused([
      ['snapshots', ['snapshots', repo.dest], {}],
      ['ls', ['ls', repo.dest], {}],
      ['find', ['find', repo.dest, '*'], {}],
      ['restore (cache lost)', ['restore', repo.dest, target()], { cache: m.freshDir('cache') }],
      ['verify', ['verify', repo.dest], {}],
      ['backup', ['backup', repo.src, repo.dest], { key: 'public' }],
      ['backup (cache lost)', ['backup', repo.src, repo.dest], { key: 'owner', cache: m.freshDir('cache') }],
      ['compact', ['compact', repo.dest], {}],
    ])
  })

  it('the two newest commits and their signature objects deleted: snapshots, restore and backup exit 14', async () => {
    const d = dest()
    d.head()
    const newest = d.names('sigs').slice(-2)
    assert.equal(newest.length, 2)
    for (const name of newest) {
      d.remove(`commits/${name}`)
      d.remove(`sigs/${name}`)
    }
    await refused([
      ['snapshots', ['snapshots', repo.dest], {}],
      ['restore (cache lost)', ['restore', repo.dest, target()], { cache: m.freshDir('cache') }],
      ['backup', ['backup', repo.src, repo.dest], { key: 'public' }],
    ])
  })

  it('only the newest signature object deleted (the commit object left): snapshots, restore and backup exit 14', async () => {
    const d = dest()
    d.remove(`sigs/${d.head().name}`)
    await refused([
      ['snapshots', ['snapshots', repo.dest], {}],
      ['restore (cache lost)', ['restore', repo.dest, target()], { cache: m.freshDir('cache') }],
      ['backup', ['backup', repo.src, repo.dest], { key: 'public' }],
    ])
  })

  it('a sequence number once seen is never written again: after the newest commit is deleted the backup writes nothing; with --accept-rollback it commits after the highest seq the machine saw, deleting nothing', async () => {
    const d = dest()
    const head = d.head()
    d.remove(`commits/${head.name}`)
    d.remove(`sigs/${head.name}`)
    const attacked = listing(repo.dest)
    await addMail(repo, 'after-rollback-seq')
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    assertExit(b, Exit.Untrusted, 'backup')
    assertUnchanged(attacked, listing(repo.dest), 'backup')
    const bk = await m.run(args(repo, 'backup', repo.src, repo.dest, '--accept-rollback'), { key: 'public' })
    assertExit(bk, Exit.Ok, 'backup --accept-rollback')
    const now = d.names('sigs')
    const fresh = now.filter((x) => !original.has(`sigs/${x}`))
    assert.equal(fresh.length, 1, `one new commit: ${now.join(' ')}`)
    assert.ok(seqOf(fresh[0]!) > head.seq, `the new commit ${fresh[0]} reuses seq ${head.seq} or lower`)
    assertKept(original, listing(repo.dest), 'backup --accept-rollback', [
      `commits/${head.name}`,
      `sigs/${head.name}`,
    ])
    // And the next plain backup goes on from there, with the next seq.
    await addMail(repo, 'after-accepted-rollback')
    assertExit(await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' }), Exit.Ok, 'backup')
    const next = d.names('sigs').filter((x) => !original.has(`sigs/${x}`) && x !== fresh[0])
    assert.equal(next.length, 1)
    assert.equal(seqOf(next[0]!), seqOf(fresh[0]!) + 1)
  })
})

describe('deleting the newest commits over S3 (the attacker uses the S3 API)', () => {
  let rgw: Radosgw
  let s3: S3Client
  const m = new Machine(work.dir, owner, 's3-machine')
  const bucket = 'seb-security'
  const prefix = 'mail/repo/'
  let repo: Repo

  /** objects lists every object under the repository's prefix with the MD5 of its bytes (locks left out). */
  const objects = async (): Promise<Listing> => {
    const out: Listing = new Map()
    let token: string | undefined
    do {
      const page: ListObjectsV2CommandOutput = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      )
      for (const o of page.Contents ?? []) {
        const rel = o.Key!.slice(prefix.length)
        if (rel.startsWith('locks/') || rel.includes('.seb-tmp-')) continue
        const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))
        const bytes = Buffer.from(await body.Body!.transformToByteArray())
        out.set(rel, createHash('sha256').update(bytes).digest('hex'))
      }
      token = page.NextContinuationToken
    } while (token)
    return out
  }

  before(async () => {
    rgw = await startRadosgw()
    s3 = new S3Client({
      endpoint: rgw.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    })
    const env = {
      SEB_S3_ENDPOINT: rgw.endpoint,
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }
    m.extraEnv = env
    repo = await makeRepo(m, {
      dest: `s3://${bucket}/${prefix.slice(0, -1)}`,
      src: path.join(work.dir, 's3-src'),
      backups: 2,
    })
  })
  after(async () => {
    s3?.destroy()
    await rgw?.stop()
  })

  it('the newest commit and its signature deleted through the S3 API: snapshots and backup exit 14; nothing changes in the bucket', async () => {
    const original = await objects()
    const sigs = [...original.keys()].filter((k) => k.startsWith('sigs/')).sort()
    assert.ok(sigs.length >= 2, `no commit signatures in the bucket: ${[...original.keys()].join(' ')}`)
    const head = sigs.at(-1)!.slice('sigs/'.length)
    for (const k of [`commits/${head}`, `sigs/${head}`])
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}${k}` }))
    const attacked = await objects()
    await addMail(repo, 'after-s3-rollback')
    const s = await m.run(args(repo, 'snapshots', repo.dest))
    assertExit(s, Exit.Untrusted, 'snapshots')
    const b = await m.run(args(repo, 'backup', repo.src, repo.dest), { key: 'public' })
    assertExit(b, Exit.Untrusted, 'backup')
    assertUnchanged(attacked, await objects(), 'snapshots and backup')
  })
})
