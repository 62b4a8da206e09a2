// Why: people already have format-1 repositories, whose history whoever holds the destination can forge
// or erase. `seb upgrade` moves one to format 2 in place, once, with the owner's secret key (or the
// passphrase), without uploading a single pack again (docs/design.md, "Format 1 and the upgrade"): it
// reads the whole format-1 index, makes the repository key, writes the state as one signed checkpoint,
// then the owner-signed settings — the commit point — and finally removes format 1's index. Killed
// before the settings are saved, the repository is still format 1 and the upgrade starts over.
import { BadCommit, type CommitRecord, decodeCommit } from '../core/commit-codec.js'
import { checkpointLines } from '../core/commit-lines.js'
import { FactsTable } from '../core/facts-table.js'
import { RepoState } from '../core/repo-state.js'
import { checkTools, type GpgContext } from '../crypto/gpg.js'
import type { Encryption } from '../crypto/gpg-args.js'
import { newSigningKey, signingKeyFromPassphrase } from '../crypto/signing.js'
import { DamageError, SebError, UsageError } from '../errors.js'
import { explain, readSealed, wholeMembers } from '../pack/pack-reader.js'
import { LocalCache } from '../repo/cache.js'
import { chainAfter, genesisChain, saveSig } from '../repo/commit-sigs.js'
import { commitFrames, commitName, writeCommit } from '../repo/commits.js'
import { certify, newManifest, readConfigBytes, writeConfig } from '../repo/config.js'
import { acquireLock, pidNamespace } from '../repo/lock.js'
import { dataBase, MachineData } from '../repo/machine-data.js'
import type { RepoAccess } from '../repo/repository.js'
import { saveSigningKeyObject } from '../repo/signing-key-object.js'
import { isValidName } from '../storage/layout.js'
import type { Storage } from '../storage/storage.js'
import { type ProgressSink, silent } from '../ui/progress.js'

/** UpgradeOptions are the inputs of `seb upgrade`. */
export interface UpgradeOptions extends RepoAccess {
  readonly progress?: ProgressSink
}

/** UpgradeSummary says what the upgrade did. */
export interface UpgradeSummary {
  readonly repository: string
  readonly snapshots: number
  readonly files: number
  /** format 1's commit objects read (and removed) */
  readonly commitsRead: number
  /** the format-2 checkpoint that now holds the history */
  readonly checkpoint: string
}

/** FormatOneConfig is format 1's plaintext config. */
interface FormatOneConfig {
  seb: 'repository'
  version: 1
  id: string
  created: string
  encryption: Encryption
  retentionDays: number
  packBytes: number
}

/** upgrade moves a format-1 repository to format 2 (see the module's comment). */
export async function upgrade(o: UpgradeOptions): Promise<UpgradeSummary> {
  const progress = o.progress ?? silent
  const { storage } = o
  const old = parseFormatOne(await readConfigBytes(storage), storage.location)
  await checkTools()
  const data = new MachineData(o.dataBase ?? dataBase())
  const lock = await acquireLock(storage, 'upgrade', 'exclusive', {
    machine: await data.machineId(),
    pidns: pidNamespace(),
  })
  try {
    const ctx: GpgContext = { encryption: old.encryption, passphrase: o.passphrase }
    if (old.encryption.type === 'passphrase' && !o.passphrase)
      throw new UsageError(
        'this repository is encrypted with a passphrase: give it (the passphrase file setting)',
      )
    progress({ type: 'phase', phase: 'index' })
    const { state, commits } = await readFormatOne(storage, ctx, o.signal)
    // What a killed attempt wrote is started over.
    for (const type of ['commit', 'sig', 'key'] as const)
      for await (const x of storage.list(type, o.signal))
        await storage.remove({ type, name: x.name }).catch(() => {})
    const key =
      old.encryption.type === 'passphrase' ? signingKeyFromPassphrase(o.passphrase!, old.id) : newSigningKey()
    const manifest = {
      ...newManifest(old.encryption, key.publicKey, {
        retentionDays: old.retentionDays,
        packBytes: old.packBytes,
      }),
      repository: old.id,
      created: old.created,
    }
    const config = await certify(manifest, { passphraseKey: key })
    if (old.encryption.type === 'recipients') await saveSigningKeyObject(storage, ctx, key)
    progress({ type: 'phase', phase: 'commit' })
    const seq = state.seq + 1
    const time = new Date().toISOString()
    state.checkpointSeq = seq
    state.seq = seq
    const name = commitName(seq)
    const links = []
    for (const v of state.live.values()) {
      if (v.kind !== 'f') continue
      const row = state.blobs.locate(v.ref)
      if (row >= 0 && state.blobs.tarPathAt(row) !== v.path)
        links.push({ path: v.path, target: state.blobs.tarPathAt(row), mtimeMs: v.mtimeMs, mode: v.mode })
    }
    const cache = new LocalCache(o.cacheBase, old.id)
    await cache.ensure()
    const frames = commitFrames(
      seq,
      time,
      checkpointLines(state, { repository: old.id, seq, time, snapshot: null }),
      links,
      cache.spoolDir,
    )
    const ref = await writeCommit(storage, ctx, name, frames, cache.spoolDir, o.signal)
    const sig = {
      repository: old.id,
      seq,
      name,
      kind: 'checkpoint' as const,
      time,
      size: ref.size,
      sha256: ref.sha256,
      chain: chainAfter(genesisChain(old.id), name),
    }
    await saveSig(storage, sig, key, o.signal)
    // ---- the commit point: the owner-signed settings of format 2 ----
    await writeConfig(storage, config)
    for (const c of commits) await storage.remove({ type: 'index', name: c }).catch(() => {})
    if (old.encryption.type === 'recipients') await data.saveSigningKey(old.id, key)
    await data.savePins({
      repository: old.id,
      manifest: config.manifestText,
      serial: config.serial,
      head: { seq, name, chain: sig.chain },
    })
    await data.rememberLocation(storage.location, old.id)
    await cache.save(name, state, new FactsTable())
    return {
      repository: old.id,
      snapshots: state.snapshots.length,
      files: state.live.fileTotals().files,
      commitsRead: commits.length,
      checkpoint: name,
    }
  } finally {
    await lock.release()
  }
}

function parseFormatOne(bytes: Buffer, location: string): FormatOneConfig {
  let c: FormatOneConfig
  try {
    c = JSON.parse(bytes.toString('utf8')) as FormatOneConfig
  } catch {
    throw new DamageError(`${location}/config: not valid JSON; the repository config is damaged`)
  }
  if (c?.seb !== 'repository') throw new UsageError(`${location}: no seb repository here`)
  if ((c.version as number) === 2)
    throw new SebError('format-2', `${location}: already in format 2; nothing to upgrade`)
  if (c.version !== 1)
    throw new SebError(
      'format',
      `${location}: repository format ${String(c.version)} is not one this seb can upgrade`,
    )
  if (!/^[0-9a-f]{32}$/.test(c.id) || !c.encryption || !Number.isSafeInteger(c.packBytes))
    throw new DamageError(`${location}/config: missing fields; the repository config is damaged`)
  return c
}

/**
 * readFormatOne replays format 1's index: every commit object from the newest checkpoint (or the first
 * commit) to the newest, each decrypted and validated. Any damage stops the upgrade: it must not drop
 * history that a damaged commit still describes.
 */
async function readFormatOne(
  storage: Storage,
  ctx: GpgContext,
  signal?: AbortSignal,
): Promise<{ state: RepoState; commits: string[] }> {
  const names: string[] = []
  for await (const o of storage.list('index', signal)) if (isValidName('index', o.name)) names.push(o.name)
  names.sort()
  const chain: CommitRecord[] = []
  for (let i = names.length - 1; i >= 0; i--) {
    const record = await readFormatOneCommit(storage, ctx, names[i]!, signal)
    chain.push(record)
    if (record.kind === 'checkpoint' || record.seq === 1) break
  }
  const state = new RepoState()
  for (const r of chain.reverse()) state.applyCommit(r)
  return { state, commits: names }
}

async function readFormatOneCommit(
  storage: Storage,
  ctx: GpgContext,
  name: string,
  signal?: AbortSignal,
): Promise<CommitRecord> {
  const what = `index ${name}`
  try {
    let json: Buffer | null = null
    await storage.load(
      { type: 'index', name },
      undefined,
      (stream) =>
        readSealed(
          ctx,
          stream,
          wholeMembers(
            (entry) => entry === 0,
            async (_e, d) => {
              json = d
            },
          ),
        ),
      signal,
    )
    if (!json) throw new DamageError(`${what}: empty commit`)
    return decodeCommit(json)
  } catch (err) {
    const e = err instanceof BadCommit ? new DamageError(`${what}: ${err.message}`) : explain(err, what)
    if (e instanceof DamageError)
      throw new DamageError(
        `${e.message}; the upgrade stops (nothing was changed): check the repository with seb 0.3 first`,
      )
    throw e
  }
}
