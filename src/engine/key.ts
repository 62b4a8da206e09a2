// Why: who can read a repository is the list of recipient fingerprints in its config (the one
// plaintext object). `key add` / `key remove` change that list, so new packs and commits go to the new
// set; `key rotate` then re-encrypts what is already stored — every pack and every commit, piped
// `gpg --decrypt | gpg --encrypt` with no plaintext on disk — saving each under the same name (the
// content and member ordinals do not change, so the index stays valid). Rotation records its progress
// in the cache, so a rerun after a kill or a network failure skips what is done.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { WirePack } from '../core/commit-codec.js'
import { unchangedFacts } from '../core/diff.js'
import { getOrCreate } from '../core/maps.js'
import { checkTools, type GpgContext, spawnGpg } from '../crypto/gpg.js'
import { hasSecretKey, type KeyInfo, listKeys, resolveRecipients } from '../crypto/keyring.js'
import { DamageError, SebError, UsageError } from '../errors.js'
import { explain, memberHashes } from '../pack/pack-reader.js'
import { PackStream } from '../pack/pack-stream.js'
import { sealBuffer } from '../pack/seal.js'
import { LocalCache } from '../repo/cache.js'
import { commitChanges } from '../repo/commit-writer.js'
import { listCommits } from '../repo/commits.js'
import { type RepoConfig, readConfig, writeConfig } from '../repo/config.js'
import { acquireLock } from '../repo/lock.js'
import { loadState } from '../repo/state-loader.js'
import { fileBody, type Handle, type Storage } from '../storage/storage.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { TaskPool } from '../util/concurrency.js'

/** RecipientInfo is one recipient of the repository, with what the local keyring knows of it. */
export interface RecipientInfo {
  readonly fingerprint: string
  /** the key's first user id, or null when the public key is not in the keyring */
  readonly uid: string | null
  readonly canEncrypt: boolean
  readonly expired: boolean
  readonly revoked: boolean
  /** whether this machine holds the secret key (can restore) */
  readonly secretKey: boolean
}

/** Recipients is what `seb key list` shows. */
export interface Recipients {
  readonly encryption: 'recipients' | 'passphrase'
  readonly recipients: RecipientInfo[]
}

/** listRecipients returns the repository's recipients, looked up in the local keyring. */
export async function listRecipients(storage: Storage, gpgPath = 'gpg'): Promise<Recipients> {
  const config = await readConfig(storage)
  if (config.encryption.type === 'passphrase') return { encryption: 'passphrase', recipients: [] }
  const out: RecipientInfo[] = []
  for (const fpr of config.encryption.recipients) {
    const key = (await listKeys([fpr], false, gpgPath))[0]
    out.push({
      fingerprint: fpr,
      uid: key?.uid ?? null,
      canEncrypt: key?.canEncrypt ?? false,
      expired: key?.expired ?? false,
      revoked: key?.revoked ?? false,
      secretKey: await hasSecretKey(fpr, gpgPath),
    })
  }
  return { encryption: 'recipients', recipients: out }
}

/** KeyChange says what `key add` / `key remove` did. */
export interface KeyChange {
  /** false when nothing had to change (the key was already a recipient) */
  readonly changed: boolean
  readonly key: { readonly fingerprint: string; readonly uid: string | null }
  /** the recipient fingerprints now in the config */
  readonly recipients: string[]
}

function recipientsOf(config: RepoConfig, what: string): string[] {
  if (config.encryption.type !== 'recipients') {
    throw new UsageError(
      `seb key ${what}: not applicable: this repository is encrypted with a passphrase, not to GnuPG keys (to use keys, create a new repository with 'seb init DEST --recipient KEY' and back up to it)`,
    )
  }
  return [...config.encryption.recipients]
}

/** addRecipient adds a GnuPG key to the recipients; new packs and commits are encrypted to it too. */
export async function addRecipient(storage: Storage, key: string): Promise<KeyChange> {
  const config = await readConfig(storage)
  const current = recipientsOf(config, 'add')
  const [info] = await resolveRecipients([key])
  const k = info as KeyInfo
  if (current.some((f) => f.toUpperCase() === k.fingerprint.toUpperCase())) {
    return { changed: false, key: { fingerprint: k.fingerprint, uid: k.uid }, recipients: current }
  }
  const next = [...current, k.fingerprint]
  await updateRecipients(storage, config, next)
  return { changed: true, key: { fingerprint: k.fingerprint, uid: k.uid }, recipients: next }
}

/** removeRecipient removes a key from the recipients; it refuses to remove the last one. */
export async function removeRecipient(storage: Storage, key: string, gpgPath = 'gpg'): Promise<KeyChange> {
  const config = await readConfig(storage)
  const current = recipientsOf(config, 'remove')
  const fpr = await matchRecipient(current, key, gpgPath)
  if (current.length === 1) {
    throw new SebError(
      'last-recipient',
      `${fpr} is the only recipient: removing it would leave nobody able to read new backups; add another first with 'seb key add ${storage.location} KEY'`,
    )
  }
  const next = current.filter((f) => f !== fpr)
  const uid = (await listKeys([fpr], false, gpgPath))[0]?.uid ?? null
  await updateRecipients(storage, config, next)
  return { changed: true, key: { fingerprint: fpr, uid }, recipients: next }
}

/** matchRecipient finds which recipient `key` names: a fingerprint, a key id (its tail), or a keyring lookup. */
async function matchRecipient(current: readonly string[], key: string, gpgPath: string): Promise<string> {
  const hex = key.replace(/^0x/i, '').replace(/\s+/g, '').toUpperCase()
  if (/^[0-9A-F]{8,40}$/.test(hex)) {
    const hits = current.filter((f) => f.toUpperCase().endsWith(hex))
    if (hits.length === 1) return hits[0]!
  }
  const fprs = (await listKeys([key], false, gpgPath)).map((k) => k.fingerprint.toUpperCase())
  const hits = current.filter((f) => fprs.includes(f.toUpperCase()))
  if (hits.length === 1) return hits[0]!
  if (hits.length > 1)
    throw new UsageError(
      `${key}: matches ${hits.length} recipients; give the full fingerprint ('seb key list' shows them)`,
    )
  throw new UsageError(
    `${key}: not a recipient of this repository ('seb key list' shows them: ${current.join(', ')})`,
  )
}

/** updateRecipients proves gpg can encrypt to the new set, then saves the config under the exclusive lock. */
async function updateRecipients(storage: Storage, config: RepoConfig, recipients: string[]): Promise<void> {
  const encryption = { type: 'recipients' as const, recipients }
  await sealBuffer({ encryption }, Buffer.from('seb key check'))
  const lock = await acquireLock(storage, 'key', true)
  try {
    // Re-read under the lock: another `seb key` may have changed the config meanwhile.
    const fresh = await readConfig(storage)
    if (JSON.stringify(fresh.encryption) !== JSON.stringify(config.encryption)) {
      throw new SebError(
        'changed',
        `${storage.location}: the recipients changed while this command ran; run it again`,
      )
    }
    await writeConfig(storage, { ...fresh, encryption })
  } finally {
    await lock.release()
  }
}

/** RotateOptions are the inputs of `seb key rotate`. */
export interface RotateOptions {
  readonly storage: Storage
  readonly cacheBase: string
  readonly progress?: ProgressSink
  readonly signal?: AbortSignal
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
  const config = await readConfig(o.storage)
  const recipients = recipientsOf(config, 'rotate')
  await checkTools()
  const ctx: GpgContext = { encryption: config.encryption }
  const cache = new LocalCache(o.cacheBase, config.id)
  await cache.ensure()
  progress({ type: 'phase', phase: 'lock' })
  const lock = await acquireLock(o.storage, 'key rotate', true)
  try {
    progress({ type: 'phase', phase: 'index' })
    const loaded = await loadState(o.storage, ctx, cache, o.signal)
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
      saving = saving.then(() => writeAtomic(file, JSON.stringify(prog)))
      return saving
    }
    await save()

    const packs = [...loaded.state.packs.values()]
    const todoPacks = packs.filter((p) => prog.packs[p.id] === undefined)
    const commitsBefore = await listCommits(o.storage, o.signal)
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
      const size = await reencrypt(o.storage, ctx, h, expected, cache.spoolDir, o.signal)
      filesDone++
      bytesDone += oldSize
      bytesUploaded += size
      report()
      return size
    }

    progress({ type: 'phase', phase: 'pack' })
    report()
    const pool = new TaskPool(o.workers ?? Math.max(1, Math.min(4, o.storage.connections)))
    for (const p of todoPacks) {
      o.signal?.throwIfAborted()
      await pool.add(async () => {
        prog.packs[p.id] = await one({ type: 'pack', name: p.id }, p.size)
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
      const blobs: WirePack[3] = []
      for (const [hash, loc] of loaded.state.blobs)
        if (loc.pack === p.id) blobs.push([hash, loc.size, loc.tarPath, loc.entry])
      resized.push([p.id, size, p.contentBytes, blobs])
    }
    if (resized.length) {
      const committed = await commitChanges(
        o.storage,
        ctx,
        cache,
        loaded,
        { packs: resized, dropPacks: [], add: [], del: [], forget: [] },
        unchangedFacts(loaded.facts),
        null,
      )
      prog.commits.push(committed.ref.name)
      bytesUploaded += committed.ref.size
      await save()
    }

    for (const c of todoCommits) {
      o.signal?.throwIfAborted()
      await one({ type: 'index', name: c.name }, c.size)
      prog.commits.push(c.name)
      await save()
    }
    await saving
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
    await lock.release()
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
): Promise<number> {
  await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 })
  const spool = path.join(spoolDir, `rotate-${process.pid}-${randomBytes(6).toString('hex')}`)
  const what = h.type === 'pack' ? `pack ${h.name}` : `index ${h.name}`
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
    await storage.save(h, fileBody(spool, size), signal)
    return size
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

async function writeAtomic(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`
  await fs.writeFile(tmp, text, { mode: 0o600 })
  await fs.rename(tmp, file)
}
