// Why: the one place a repository is opened and everything read from the destination is checked before
// a command uses it (docs/design.md, "Reading: authenticate, then parse"). A command opens it with the
// lock it needs and gets, as one object: the owner-signed settings (trust.ts decides whose signature
// counts, and pins them), how to run gpg for it, the local cache and journal, the index at the newest
// authenticated commit, and the write steps in the order the design fixes (upload, commit, cleanup).
// Every command — backup, restore, verify, compact, key management, the read-only views — goes through
// here.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { WireHeaders, WirePack } from '../core/commit-codec.js'
import type { FactsUpdate } from '../core/diff.js'
import type { SnapshotInfo } from '../core/model.js'
import type { RepoState } from '../core/repo-state.js'
import { checkTools, type GpgContext } from '../crypto/gpg.js'
import { recipientKeyIds } from '../crypto/keyring.js'
import type { SigningKey } from '../crypto/signing.js'
import { AuthenticityError, KeyError } from '../errors.js'
import type { FinishedPack } from '../pack/pack-writer.js'
import type { Storage } from '../storage/storage.js'
import { safeText } from '../util/terminal-text.js'
import { LocalCache } from './cache.js'
import { type Cleaned, removeOrphans } from './cleanup.js'
import type { CommitSig } from './commit-sigs.js'
import { type Changes, type Committed, commitChanges, listCommitObjects } from './commit-writer.js'
import { type RepoConfig, readConfigObject } from './config.js'
import { Journal } from './journal.js'
import { acquireLock, type Lock, type LockKind, pidNamespace } from './lock.js'
import { dataBase, MachineData, type Pins } from './machine-data.js'
import {
  type LoadContext,
  type LoadedState,
  type LoadOptions,
  loadHeaders,
  loadState,
} from './state-loader.js'
import { authenticateConfig } from './trust.js'
import { uploadPack } from './upload.js'

/** LockMode is the lock a command needs: none (dry runs), or a lock kind (see lock.ts). */
export type LockMode = 'none' | LockKind

/**
 * RepoAccess is what every command that opens a repository is given: where it is, this machine's
 * cache and data folders, the passphrase, whether a rollback is accepted, how to stop, and where
 * warnings go (objects ignored because they are not the repository's).
 */
export interface RepoAccess {
  readonly storage: Storage
  readonly cacheBase: string
  /** the machine data folder (default: $SEB_DATA_DIR, else ~/.local/share/seb) */
  readonly dataBase?: string
  readonly passphrase?: Buffer
  /** accept a destination older than what this machine has seen (a deliberate rollback) */
  readonly acceptRollback?: boolean
  readonly signal?: AbortSignal
  /** receives one line per thing a reader ignored and the user should know of */
  readonly warn?: (message: string) => void
}

/** OpenHow is how a command opens a repository: the lock it needs, and its name in the lock. */
export interface OpenHow {
  readonly lock: LockMode
  /** the command, as recorded in the lock */
  readonly command: string
  /**
   * accept objects encrypted to keys that are no longer recipients at all (key rotation reads what
   * was written before `seb key remove`, whatever the settings say)
   */
  readonly anyFormerRecipient?: boolean
}

type OpenOptions = RepoAccess & OpenHow

/** Repository is an opened repository; close() releases its lock. */
export class Repository {
  /** the signature objects a reader already said it ignored */
  private readonly warned = new Set<string>()

  private constructor(
    readonly storage: Storage,
    readonly config: RepoConfig,
    readonly ctx: GpgContext,
    readonly cache: LocalCache,
    readonly journal: Journal,
    readonly data: MachineData,
    private pins: Pins,
    /** the repository key: this machine's copy, or derived from the passphrase (null: cannot commit) */
    readonly key: SigningKey | null,
    private readonly lock: Lock | null,
    private readonly mode: LockMode,
    private readonly options: OpenOptions,
    /** where downloaded commits wait to be read: the cache's spool, or a private temporary folder */
    readonly spoolDir: string,
  ) {}

  get signal(): AbortSignal | undefined {
    return this.options.signal
  }

  /**
   * open reads the config and decides whether it is the owner's (pinning it), checks that gpg can run,
   * finds the repository key, prepares the cache folder and takes the lock.
   */
  static async open(access: RepoAccess, how: OpenHow): Promise<Repository> {
    const o: OpenOptions = { ...access, ...how }
    const { storage } = o
    const data = new MachineData(o.dataBase ?? dataBase())
    const obj = await readConfigObject(storage)
    const trusted = await authenticateConfig(obj, {
      data,
      location: storage.location,
      passphrase: o.passphrase,
      acceptRollback: o.acceptRollback,
    })
    const { config } = trusted
    await checkTools()
    let ctx: GpgContext = { encryption: config.encryption, passphrase: o.passphrase }
    if (config.encryption.type === 'recipients' && !o.anyFormerRecipient) {
      const ids = await recipientKeyIds(config.encryption.recipients)
      const former = await recipientKeyIds(config.formerRecipients)
      if (ids)
        ctx = {
          ...ctx,
          recipientKeyIds: ids,
          formerKeyIds: config.formerRecipients.length ? (former ?? undefined) : new Set(),
        }
    }
    let key = trusted.passphraseKey ?? (await data.signingKey(config.id))
    if (key && key.publicKey !== config.signingKey) key = null
    const writes = o.lock === 'backup' || o.lock === 'exclusive'
    if (writes && !key)
      throw new KeyError(
        `${storage.location}: this machine has no copy of repository ${config.id}'s key, which signs every commit: run 'seb key setup ${storage.location}' once here with the owner's secret key`,
      )
    const cache = new LocalCache(o.cacheBase, config.id)
    // A reader works without a cache it cannot create (a disaster restore on a read-only home): it
    // says so when it tries to save one.
    let spoolDir = cache.spoolDir
    await cache.ensure().catch(async (err: unknown) => {
      if (writes) throw err
      spoolDir = await fs.mkdtemp(path.join(os.tmpdir(), 'seb-read-'))
    })
    const lock =
      o.lock === 'none'
        ? null
        : await acquireLock(storage, o.command, o.lock, {
            machine: await data.machineId(),
            pidns: pidNamespace(),
          })
    return new Repository(
      storage,
      config,
      ctx,
      cache,
      new Journal(cache.dir),
      data,
      trusted.pins,
      key,
      lock,
      o.lock,
      o,
      spoolDir,
    )
  }

  /**
   * loadState returns the index at the destination's newest authenticated commit: from the cache when
   * it is current, else replayed from the commits (which needs the secret key). With `fromDestination`
   * the cache is not used (verify with the secret key reads what the destination holds). A writer
   * refuses to go on when the destination holds signature objects that are not the repository's.
   */
  async loadState(o: LoadOptions & { fromDestination?: boolean } = {}): Promise<LoadedState> {
    const loaded = await loadState(this.loadContext(o.fromDestination ? null : this.cache), o)
    const bad = loaded.history.invalid
    if (bad.length && (this.mode === 'backup' || this.mode === 'exclusive'))
      throw new AuthenticityError(
        `${this.storage.location}: sigs/${safeText(bad[0]!.name)} is ${safeText(bad[0]!.reason)}: the destination holds objects this repository did not write${bad.length > 1 ? ` (${bad.length} in all)` : ''}; nothing was written (seb verify lists them; remove them to go on)`,
      )
    // A reader goes on without them, and says so once per object.
    for (const b of bad)
      if (!this.warned.has(b.name)) {
        this.warned.add(b.name)
        this.options.warn?.(
          `ignored sigs/${safeText(b.name)}: ${safeText(b.reason)} (not this repository's; seb verify lists such objects)`,
        )
      }
    return loaded
  }

  /**
   * searchHeaders returns the search headers of the messages the index keeps (headers.jsonl, rebuilt
   * from the commits when it is not at the head: that needs the secret key).
   */
  searchHeaders(
    loaded: LoadedState,
    canDecrypt: boolean,
  ): Promise<{ headers: Map<string, WireHeaders>; complete: boolean }> {
    return loadHeaders(this.loadContext(this.cache), loaded, canDecrypt)
  }

  /** loadContext is what reading the index from the destination needs, with `cache` (or none). */
  private loadContext(cache: LocalCache | null): LoadContext {
    return {
      storage: this.storage,
      ctx: this.ctx,
      cache,
      repository: this.config.id,
      signingKey: this.config.signingKey,
      pin: this.pins.head,
      acceptRollback: this.options.acceptRollback,
      spoolDir: this.spoolDir,
      signal: this.signal,
      onHead: (head) => this.pinHead(head),
    }
  }

  /** pinHead records `head` as the newest commit this machine has seen. */
  private async pinHead(head: CommitSig): Promise<void> {
    this.pins = { ...this.pins, head: { seq: head.seq, name: head.name, chain: head.chain } }
    await this.data.savePins(this.pins)
  }

  /** adoptUploaded returns the packs a killed run uploaded and journalled that are still there, whole. */
  async adoptUploaded(state: RepoState): Promise<WirePack[]> {
    const adopted: WirePack[] = []
    for (const p of await this.journal.read()) {
      if (state.packs.has(p[0])) continue
      const remote = await this.storage.stat({ type: 'pack', name: p[0] }).catch(() => null)
      if (remote?.size === p[1]) adopted.push(p)
    }
    return adopted
  }

  /** uploadPack saves a finished pack and journals it; it returns the pack as the commit records it. */
  uploadPack(done: FinishedPack): Promise<WirePack> {
    return uploadPack(this.storage, this.journal, done, this.signal)
  }

  /**
   * commit applies `changes` to the loaded state and makes the commit (docs/design.md, "Write order").
   * `makeSnapshot` describes the snapshot (null for a maintenance commit).
   */
  commit(
    loaded: LoadedState,
    changes: Changes,
    facts: FactsUpdate,
    makeSnapshot: ((state: RepoState, seq: number) => SnapshotInfo) | null,
  ): Promise<Committed> {
    if (!this.key) throw new KeyError(`${this.storage.location}: no repository key to sign the commit with`)
    return commitChanges(
      {
        storage: this.storage,
        ctx: this.ctx,
        cache: this.cache,
        journal: this.journal,
        repository: this.config.id,
        key: this.key,
        checkLock: () => this.lock?.check() ?? Promise.resolve(),
        pinHead: (head) => this.pinHead(head),
        signal: this.signal,
      },
      loaded,
      changes,
      facts,
      makeSnapshot,
    )
  }

  /**
   * removeOrphans deletes what the committed, authenticated index does not use (see cleanup.ts) and
   * commits older than `keepFromSeq`. Only after a commit, under the writer's lock.
   */
  async removeOrphans(state: RepoState, loaded: LoadedState, keepFromSeq: number): Promise<Cleaned> {
    const signed = new Set<string>()
    for await (const s of this.storage.list('sig', this.signal)) signed.add(s.name)
    return removeOrphans(this.storage, state, {
      commits: await listCommitObjects(this.storage, this.signal),
      signed,
      keepFromSeq: loaded.damaged.length ? 0 : keepFromSeq,
      signal: this.signal,
    })
  }

  /** close releases the lock. */
  async close(): Promise<void> {
    await this.lock?.release()
    if (this.spoolDir !== this.cache.spoolDir) await fs.rm(this.spoolDir, { recursive: true, force: true })
  }
}

/** withRepository opens a repository, runs `fn`, and closes it whatever happens. */
export async function withRepository<T>(
  access: RepoAccess,
  how: OpenHow,
  fn: (repo: Repository) => Promise<T>,
): Promise<T> {
  const repo = await Repository.open(access, how)
  try {
    return await fn(repo)
  } finally {
    await repo.close()
  }
}
