// Why: every command starts from the repository's state at its newest commit. The local cache gives it
// for free when it is current; otherwise it is rebuilt from the destination by replaying commits from
// the newest readable checkpoint (this needs the secret key). A damaged commit does not make the
// repository unusable: replay stops at the newest consistent point before it, and says so.

import type { CommitRecord } from '../core/commit-codec.js'
import { FactsTable } from '../core/facts-table.js'
import { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import type { LocalCache } from './cache.js'
import { type CommitRef, listCommits, readCommit } from './commits.js'

/** LoadedState is the state a command works from. */
export interface LoadedState {
  readonly state: RepoState
  /** local facts of the last run (empty after a rebuild: every file is read once more) */
  readonly facts: FactsTable
  /** every commit object on the destination, oldest first */
  readonly commits: CommitRef[]
  /** the newest commit object (null for an empty repository) */
  readonly head: CommitRef | null
  /** true when the state came from the destination rather than the cache */
  readonly rebuilt: boolean
  /** commits that could not be read (damage), newest first */
  readonly damaged: { ref: CommitRef; error: string }[]
  /** the commit of the cache's state file, when the state came from the cache */
  readonly cacheBase: string | null
  /** commits logged on top of that state file */
  readonly cacheLogLines: number
}

/**
 * LoadOptions: with `onSaveError`, a rebuilt state that cannot be saved in the cache is reported there
 * and the load goes on (restore: a disaster restore must not stop at a read-only home); without it, the
 * failure is the load's.
 */
export interface LoadOptions {
  readonly onSaveError?: (err: unknown) => void
}

/** loadState returns the repository state at its newest readable commit. */
export async function loadState(
  storage: Storage,
  ctx: GpgContext,
  cache: LocalCache | null,
  signal?: AbortSignal,
  options: LoadOptions = {},
): Promise<LoadedState> {
  const commits = await listCommits(storage, signal)
  const head = commits[commits.length - 1] ?? null
  if (!head)
    return {
      state: new RepoState(),
      facts: new FactsTable(),
      commits,
      head,
      rebuilt: false,
      damaged: [],
      cacheBase: null,
      cacheLogLines: 0,
    }
  const cached = cache ? await cache.load() : null
  if (cached && cached.commit === head.name) {
    return {
      state: cached.state,
      facts: cached.facts,
      commits,
      head,
      rebuilt: false,
      damaged: [],
      cacheBase: cached.base,
      cacheLogLines: cached.logLines,
    }
  }
  const { state, damaged } = await replay(storage, ctx, commits, signal)
  // Facts stay valid for paths whose version is unchanged; others are simply read again.
  const facts = cached?.facts ?? new FactsTable()
  // Keep what was rebuilt, so that the next backup needs public keys only again. Not after damage:
  // the cache would then claim to be at a head it does not reflect.
  if (cache && !damaged.length) {
    try {
      await cache.save(head.name, state, facts)
    } catch (err) {
      if (!options.onSaveError) throw err
      options.onSaveError(err)
    }
  }
  return { state, facts, commits, head, rebuilt: true, damaged, cacheBase: null, cacheLogLines: 0 }
}

async function replay(
  storage: Storage,
  ctx: GpgContext,
  commits: CommitRef[],
  signal?: AbortSignal,
): Promise<{ state: RepoState; damaged: LoadedState['damaged'] }> {
  const damaged: LoadedState['damaged'] = []
  // Walk back from the newest commit to a checkpoint (or the first commit), collecting records.
  let chain: CommitRecord[] = []
  for (let i = commits.length - 1; i >= 0; i--) {
    const ref = commits[i]!
    let record: CommitRecord
    try {
      record = await readCommit(storage, ctx, ref, signal)
    } catch (err) {
      if (err instanceof KeyError || !(err instanceof DamageError)) throw err
      damaged.push({ ref, error: err.message })
      chain = [] // newer commits build on the damaged one: fall back to what precedes it
      continue
    }
    if (chain.length && chain[chain.length - 1]!.seq !== record.seq + 1) chain = []
    chain.push(record)
    if (record.kind === 'checkpoint' || record.seq === 1) break
  }
  const state = new RepoState()
  const first = chain[chain.length - 1]
  if (first && (first.kind === 'checkpoint' || first.seq === 1)) {
    for (let i = chain.length - 1; i >= 0; i--) state.applyCommit(chain[i]!)
  } else if (commits.length) {
    throw new DamageError(
      `${storage.location}: no readable index: every commit object is damaged or missing (${damaged.map((d) => d.error).join('; ')})`,
    )
  }
  return { state, damaged }
}
