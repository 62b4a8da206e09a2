// Why: read-only views of a repository (snapshots now; ls, find and stats build on the same loader).
import type { SnapshotInfo } from '../core/model.js'
import type { GpgContext } from '../crypto/gpg.js'
import { LocalCache } from '../repo/cache.js'
import { readConfig } from '../repo/config.js'
import { acquireLock } from '../repo/lock.js'
import { type LoadedState, loadState } from '../repo/state-loader.js'
import type { Storage } from '../storage/storage.js'

/** ReadOptions are what a read-only command needs. */
export interface ReadOptions {
  readonly storage: Storage
  readonly cacheBase: string
  readonly passphrase?: Buffer
  readonly signal?: AbortSignal
}

/** withState runs `fn` on the repository state under a shared lock. */
export async function withState<T>(o: ReadOptions, fn: (loaded: LoadedState, ctx: GpgContext) => Promise<T>, options: { fromDestination?: (ctx: GpgContext) => Promise<boolean> } = {}): Promise<T> {
  const config = await readConfig(o.storage)
  const ctx: GpgContext = { encryption: config.encryption, passphrase: o.passphrase }
  const lock = await acquireLock(o.storage, 'read', false)
  try {
    // Read the index from the destination itself (not the cache) when asked and possible.
    const fresh = options.fromDestination ? await options.fromDestination(ctx) : false
    const loaded = await loadState(o.storage, ctx, fresh ? null : new LocalCache(o.cacheBase, config.id), o.signal)
    return await fn(loaded, ctx)
  } finally {
    await lock.release()
  }
}

/** listSnapshots returns the snapshots, oldest first. */
export async function listSnapshots(o: ReadOptions): Promise<SnapshotInfo[]> {
  return withState(o, async (loaded) => [...loaded.state.snapshots])
}
