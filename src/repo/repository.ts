// Why: the one place a repository is opened and everything read from the destination is checked before
// a command uses it. A command opens it with the lock it needs and gets, as one object, the settings
// (config), how to run gpg for it, the local cache, the journal of uploaded packs, and the
// repository-write steps in the order docs/design.md fixes (upload, commit, cleanup). Every command —
// backup, restore, verify, compact, key rotation, the read-only views — goes through here.
import type { WirePack } from '../core/commit-codec.js'
import type { FactsUpdate } from '../core/diff.js'
import type { SnapshotInfo } from '../core/model.js'
import type { RepoState } from '../core/repo-state.js'
import { checkTools, type GpgContext } from '../crypto/gpg.js'
import { recipientKeyIds } from '../crypto/keyring.js'
import type { FinishedPack } from '../pack/pack-writer.js'
import type { Storage } from '../storage/storage.js'
import { LocalCache } from './cache.js'
import { removeOrphans } from './cleanup.js'
import { type Changes, type Committed, commitChanges } from './commit-writer.js'
import type { CommitRef } from './commits.js'
import { type RepoConfig, readConfig } from './config.js'
import { Journal } from './journal.js'
import { acquireLock, type Lock } from './lock.js'
import { type LoadedState, type LoadOptions, loadState } from './state-loader.js'
import { uploadPack } from './upload.js'

/** LockMode is the lock a command needs: none (dry runs), shared (readers), exclusive (writers). */
export type LockMode = 'none' | 'shared' | 'exclusive'

/** OpenOptions say how a command opens a repository. */
export interface OpenOptions {
  readonly cacheBase: string
  readonly passphrase?: Buffer
  readonly lock: LockMode
  /** the command, as recorded in the lock */
  readonly command: string
  readonly signal?: AbortSignal
  /**
   * accept objects encrypted to keys that are no longer recipients (key rotation reads what was
   * written before `seb key remove`)
   */
  readonly formerRecipientsToo?: boolean
}

/** Repository is an opened repository; close() releases its lock. */
export class Repository {
  private constructor(
    readonly storage: Storage,
    readonly config: RepoConfig,
    readonly ctx: GpgContext,
    readonly cache: LocalCache,
    readonly journal: Journal,
    private readonly lock: Lock | null,
    readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * open reads and checks the config, checks that gpg can run, prepares the cache folder and takes the
   * lock. The gpg context knows the recipients' key ids, so that an object encrypted to any other key
   * is refused.
   */
  static async open(storage: Storage, o: OpenOptions): Promise<Repository> {
    const config = await readConfig(storage)
    await checkTools()
    const ids =
      config.encryption.type === 'recipients' && !o.formerRecipientsToo
        ? await recipientKeyIds(config.encryption.recipients)
        : undefined
    const ctx: GpgContext = {
      encryption: config.encryption,
      passphrase: o.passphrase,
      recipientKeyIds: ids ?? undefined,
    }
    const cache = new LocalCache(o.cacheBase, config.id)
    // A reader works without a cache it cannot create (a disaster restore on a read-only home): it
    // says so when it tries to save one.
    await cache.ensure().catch((err: unknown) => {
      if (o.lock === 'exclusive') throw err
    })
    const lock = o.lock === 'none' ? null : await acquireLock(storage, o.command, o.lock === 'exclusive')
    return new Repository(storage, config, ctx, cache, new Journal(cache.dir), lock, o.signal)
  }

  /**
   * loadState returns the index at the destination's newest readable commit: from the cache when it is
   * current, else replayed from the commits (which needs the secret key). With `fromDestination` the
   * cache is not used (verify with the secret key reads what the destination holds).
   */
  loadState(o: LoadOptions & { fromDestination?: boolean } = {}): Promise<LoadedState> {
    return loadState(this.storage, this.ctx, o.fromDestination ? null : this.cache, this.signal, o)
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
   * commit applies `changes` to the loaded state and writes the commit (the commit point), then brings
   * the cache up to date. `makeSnapshot` describes the snapshot (null for a maintenance commit).
   */
  commit(
    loaded: LoadedState,
    changes: Changes,
    facts: FactsUpdate,
    makeSnapshot: ((state: RepoState, seq: number) => SnapshotInfo) | null,
  ): Promise<Committed> {
    return commitChanges(
      this.storage,
      this.ctx,
      this.cache,
      this.journal,
      loaded,
      changes,
      facts,
      makeSnapshot,
    )
  }

  /**
   * removeOrphans deletes what the committed index does not reference (packs of killed runs, temporary
   * objects) and commits older than `keepFromSeq`. Only after a commit, under the exclusive lock.
   */
  removeOrphans(state: RepoState, commits: readonly CommitRef[], keepFromSeq: number) {
    return removeOrphans(this.storage, state, commits, keepFromSeq)
  }

  /** close releases the lock. */
  async close(): Promise<void> {
    await this.lock?.release()
  }
}

/** withRepository opens a repository, runs `fn`, and closes it whatever happens. */
export async function withRepository<T>(
  storage: Storage,
  o: OpenOptions,
  fn: (repo: Repository) => Promise<T>,
): Promise<T> {
  const repo = await Repository.open(storage, o)
  try {
    return await fn(repo)
  } finally {
    await repo.close()
  }
}
