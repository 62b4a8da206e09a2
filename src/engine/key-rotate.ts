// Why: `seb key rotate` re-encrypts what is already stored — every pack and every commit, piped
// `gpg --decrypt | gpg --encrypt` with no plaintext on disk, each read through the one archive reader
// and checked against the index on the way — to the recipients the config now lists, saving each under
// the same name (the content and member ordinals do not change, so the index stays valid). Rotation
// records its progress in the cache, so a rerun after a kill or a network failure skips what is done.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { WireBlob, WirePack } from '../core/commit-codec.js'
import { unchangedFacts } from '../core/diff.js'
import { getOrCreate } from '../core/maps.js'
import { type GpgContext, spawnGpg } from '../crypto/gpg.js'
import { DamageError } from '../errors.js'
import { explain, memberHashes } from '../pack/pack-reader.js'
import { PackStream } from '../pack/pack-stream.js'
import { listSigNames, readSig, saveSig } from '../repo/commit-sigs.js'
import { listCommitObjects } from '../repo/commit-writer.js'
import { type Manifest, readConfigObject, recipientsOf } from '../repo/config.js'
import { publish } from '../repo/publish.js'
import { type RepoAccess, Repository } from '../repo/repository.js'
import { saveSigningKeyObject } from '../repo/signing-key-object.js'
import { fileBody, type Handle, type Storage } from '../storage/storage.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { writeFileAtomic } from '../util/atomic-file.js'
import { TaskPool } from '../util/concurrency.js'
import { fault } from '../util/fault.js'

/** RotateOptions are the inputs of `seb key rotate`. */
export interface RotateOptions extends RepoAccess {
  readonly progress?: ProgressSink
  /** parallel re-encryptions (default: the storage's connections, at most 4) */
  readonly workers?: number
}

/** RotateSummary says what a rotation did. */
export interface RotateSummary {
  readonly recipients: string[]
  readonly packsRotated: number
  /** packs already re-encrypted by an earlier, interrupted run */
  readonly packsSkipped: number
  readonly commitsRotated: number
  readonly commitsSkipped: number
  /** whether a maintenance commit recorded the packs' new sizes */
  readonly indexUpdated: boolean
  readonly bytesUploaded: number
  readonly durationMs: number
}

interface RotateProgress {
  v: 1
  /** the recipient set this progress is towards (sorted, joined by commas) */
  recipients: string
  /** pack id → size after re-encryption */
  packs: Record<string, number>
  commits: string[]
}

/** rotateKeys re-encrypts every pack and commit to the current recipients, resumably. */
export async function rotateKeys(o: RotateOptions): Promise<RotateSummary> {
  const t0 = Date.now()
  const progress = o.progress ?? silent
  if ((await readConfigObject(o.storage)).certificate.type === 'passphrase')
    recipientsOf({ encryption: { type: 'passphrase' } } as Manifest, 'rotate')
  progress({ type: 'phase', phase: 'lock' })
  // Objects made before `key remove` are still encrypted to the removed key too: rotation reads them.
  const repo = await Repository.open(o, {
    lock: 'exclusive',
    command: 'key rotate',
    anyFormerRecipient: true,
  })
  try {
    const { ctx, cache, config } = repo
    const recipients = recipientsOf(config, 'rotate')
    progress({ type: 'phase', phase: 'index' })
    const loaded = await repo.loadState()
    if (loaded.damaged.length)
      throw new DamageError(
        `${loaded.damaged[0]!.error}; key rotate refuses to run on a damaged index (run seb verify)`,
      )
    const file = path.join(cache.dir, 'rotate.json')
    const target = [...recipients]
      .map((f) => f.toUpperCase())
      .sort()
      .join(',')
    let state = await readProgress(file)
    if (!state || state.recipients !== target) state = { v: 1, recipients: target, packs: {}, commits: [] }
    const prog = state
    let saving = Promise.resolve()
    const save = () => {
      saving = saving.then(() => writeFileAtomic(file, JSON.stringify(prog)))
      return saving
    }
    await save()

    const packs = [...loaded.state.packs.values()]
    const todoPacks = packs.filter((p) => prog.packs[p.id] === undefined)
    const signed = new Set((await listSigNames(o.storage, o.signal)).map((s) => s.name))
    const commitsBefore = (await listCommitObjects(o.storage, o.signal)).filter((c) => signed.has(c.name))
    const todoCommits = commitsBefore.filter((c) => !prog.commits.includes(c.name))
    const bytesTotal = todoPacks.reduce((n, p) => n + p.size, 0) + todoCommits.reduce((n, c) => n + c.size, 0)
    const filesTotal = todoPacks.length + todoCommits.length
    let filesDone = 0
    let bytesDone = 0
    let bytesUploaded = 0
    const report = () =>
      progress({ type: 'progress', filesDone, filesTotal, bytesDone, bytesTotal, bytesUploaded })
    // What the index says each pack holds, checked while it is re-encrypted.
    const members = new Map<string, Map<number, string>>()
    for (const [hash, loc] of loaded.state.blobs)
      getOrCreate(members, loc.pack, () => new Map()).set(loc.entry, hash)
    const one = async (h: Handle, oldSize: number) => {
      const expected = h.type === 'pack' ? (members.get(h.name) ?? new Map<number, string>()) : null
      const done = await reencrypt(o.storage, ctx, h, expected, cache.spoolDir, o.signal)
      fault('rotate:object')
      filesDone++
      bytesDone += oldSize
      bytesUploaded += done.size
      report()
      return done
    }

    progress({ type: 'phase', phase: 'pack' })
    report()
    const pool = new TaskPool(o.workers ?? Math.max(1, Math.min(4, o.storage.connections)))
    for (const p of todoPacks) {
      o.signal?.throwIfAborted()
      await pool.add(async () => {
        prog.packs[p.id] = (await one({ type: 'pack', name: p.id }, p.size)).size
        await save()
      })
    }
    await pool.wait()

    // The index records each pack's object size (verify checks it): record the new sizes in a
    // maintenance commit, which is itself encrypted to the new set.
    progress({ type: 'phase', phase: 'commit' })
    const resized: WirePack[] = []
    for (const p of packs) {
      const size = prog.packs[p.id]
      if (size === undefined || size === p.size) continue
      const blobs: WireBlob[] = []
      for (const [hash, loc] of loaded.state.blobs)
        if (loc.pack === p.id) blobs.push([hash, loc.size, loc.tarPath, loc.entry])
      resized.push([p.id, size, p.contentBytes, blobs])
    }
    if (resized.length) {
      const committed = await repo.commit(
        loaded,
        { packs: resized, dropPacks: [], add: [], del: [], forget: [] },
        unchangedFacts(loaded.facts),
        null,
      )
      fault('rotate:committed')
      prog.commits.push(committed.ref.name)
      bytesUploaded += committed.ref.size
      await save()
    }

    // Each commit re-encrypted, then its signature made again for its new bytes (same chain).
    for (const c of todoCommits) {
      o.signal?.throwIfAborted()
      const sig = await readSig(o.storage, config.signingKey, config.id, c.name, o.signal)
      if (typeof sig === 'string') continue
      const done = await one({ type: 'commit', name: c.name }, c.size)
      await saveSig(o.storage, { ...sig, size: done.size, sha256: done.sha256 }, repo.key!, o.signal)
      prog.commits.push(c.name)
      await save()
    }
    await saving
    // Everything is now for the current recipients alone: the removed keys leave the settings, and the
    // repository key's secret half is encrypted to the current recipients.
    if (config.formerRecipients.length) await publish(repo, { formerRecipients: [] }, repo.key)
    else if (repo.key) await saveSigningKeyObject(o.storage, { encryption: config.encryption }, repo.key)
    return {
      recipients,
      packsRotated: todoPacks.length,
      packsSkipped: packs.length - todoPacks.length,
      commitsRotated: todoCommits.length,
      commitsSkipped: commitsBefore.length - todoCommits.length,
      indexUpdated: resized.length > 0,
      bytesUploaded,
      durationMs: Date.now() - t0,
    }
  } finally {
    await repo.close()
  }
}

/**
 * reencrypt downloads one object, pipes it through `gpg --decrypt | gpg --encrypt` into a spool file
 * (ciphertext only) and saves it back under the same name (an atomic replace). Returns the new size.
 */
async function reencrypt(
  storage: Storage,
  ctx: GpgContext,
  h: Handle,
  expected: ReadonlyMap<number, string> | null,
  spoolDir: string,
  signal?: AbortSignal,
): Promise<{ size: number; sha256: string }> {
  await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 })
  const spool = path.join(spoolDir, `rotate-${process.pid}-${randomBytes(6).toString('hex')}`)
  const what = `${h.type} ${h.name}`
  try {
    try {
      await storage.load(
        h,
        undefined,
        async (stream) => {
          // May run again on a retry: start the spool file afresh each time.
          const fh = await fs.open(spool, 'w', 0o600)
          try {
            const dec = spawnGpg(ctx, 'decrypt', 'pipe', 'pipe')
            const enc = spawnGpg(ctx, 'encrypt', 'pipe', fh.fd)
            const input = dec.child.stdin!
            input.on('error', () => {})
            stream.on('error', (err) => input.destroy(err))
            stream.pipe(input)
            // The plaintext passes through memory only, to check it is what seb sealed (a zstd frame):
            // gpg may "decrypt" some garbage to nothing and exit 0, and that must not replace a pack.
            const checked = pipeline(dec.child.stdout!, archiveCheck(what, expected), enc.child.stdin!).catch(
              (err: unknown) => {
                dec.child.kill('SIGKILL')
                enc.child.kill('SIGKILL')
                throw err
              },
            )
            const [check, ...gpgs] = await Promise.allSettled([checked, dec.done, enc.done])
            // Our damage verdict first (gpg was killed for it), then gpg's own reasons.
            if (check!.status === 'rejected' && check!.reason instanceof DamageError) throw check!.reason
            for (const r of [...gpgs, check!]) if (r.status === 'rejected') throw r.reason
          } finally {
            await fh.close()
          }
        },
        signal,
      )
    } catch (err) {
      throw explain(err, what)
    }
    const size = (await fs.stat(spool)).size
    const hash = createHash('sha256')
    for await (const c of createReadStream(spool)) hash.update(c as Buffer)
    await storage.save(h, fileBody(spool, size), signal)
    return { size, sha256: hash.digest('hex') }
  } finally {
    await fs.rm(spool, { force: true })
  }
}

/**
 * archiveCheck passes the plaintext through while reading it with the one archive reader: a pack or
 * commit is re-encrypted only if it is a whole, undamaged archive, and a pack only if every member the
 * index locates in it hashes to what the index says (`expected`: ordinal → SHA-256). gpg may "decrypt"
 * garbage to nothing and exit 0, and that must never replace a pack.
 */
function archiveCheck(what: string, expected: ReadonlyMap<number, string> | null): Transform {
  const hashes = memberHashes((entry) => expected?.has(entry) ?? false)
  const stream = new PackStream(hashes.visitor)
  const verdict = (): Error | null => {
    const damage = stream.finish()
    if (damage) return new DamageError(`${what} is damaged: ${damage.message}`)
    for (const [entry, hash] of expected ?? [])
      if (hashes.hashes.get(entry) !== hash)
        return new DamageError(`${what} is damaged: member ${entry} does not match the index; run seb verify`)
    return null
  }
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      stream.push(chunk)
      if (stream.error) return done(new DamageError(`${what} is damaged: ${stream.error.message}`))
      done(null, chunk)
    },
    flush(done) {
      done(verdict())
    },
  })
}

async function readProgress(file: string): Promise<RotateProgress | null> {
  try {
    const p = JSON.parse(await fs.readFile(file, 'utf8')) as RotateProgress
    return p?.v === 1 && typeof p.recipients === 'string' && p.packs && Array.isArray(p.commits) ? p : null
  } catch {
    return null
  }
}
