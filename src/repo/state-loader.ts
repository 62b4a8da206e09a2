// Why: every command starts from the repository's index at its newest authenticated commit. The local
// cache gives it for free when it is at that commit, or when it holds that commit as pending (a run of
// this machine made it and was killed before its cache followed: adopted with the public key only).
// Otherwise the index is rebuilt from the destination by replaying commits from the newest checkpoint
// (this decrypts them: the secret key, once). A damaged commit does not make the repository unusable:
// replay stops at the newest consistent point before it, and says so.
import { FactsTable } from '../core/facts-table.js'
import { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import type { LocalCache } from './cache.js'
import { type CommitSig, chainAfter, readSig, seqOf } from './commit-sigs.js'
import { readCommitInto } from './commits.js'
import { type History, readHistory } from './history.js'
import type { HeadPin } from './machine-data.js'

/** LoadedState is the index a command works from. */
export interface LoadedState {
  readonly state: RepoState
  /** local facts of the last run (empty after a rebuild: every file is read once more) */
  readonly facts: FactsTable
  /** the newest authenticated commit (null for an empty repository) */
  readonly head: CommitSig | null
  /** the history as read (signature objects, those that failed, a rollback accepted) */
  readonly history: History
  /** true when the state came from the destination rather than the cache */
  readonly rebuilt: boolean
  /** commits that could not be read (damage), newest first */
  readonly damaged: { name: string; error: string }[]
  /** the commit of the cache's state file, when the state came from the cache */
  readonly cacheBase: string | null
  /** commits logged on top of that state file */
  readonly cacheLogLines: number
}

/** LoadOptions say where the index comes from and what to do on the way. */
export interface LoadOptions {
  /**
   * with it, a rebuilt state that cannot be saved in the cache is reported here and the load goes on
   * (restore: a disaster restore must not stop at a read-only home); without it, the failure is the load's
   */
  readonly onSaveError?: (err: unknown) => void
}

/** LoadContext is what loading needs from the opened repository. */
export interface LoadContext {
  readonly storage: Storage
  readonly ctx: GpgContext
  readonly cache: LocalCache | null
  readonly repository: string
  readonly signingKey: string
  readonly pin: HeadPin | null
  readonly acceptRollback?: boolean
  /** a private folder for downloaded commits */
  readonly spoolDir: string
  readonly signal?: AbortSignal
  /** records the newest commit seen (the machine's pin) */
  readonly onHead: (head: CommitSig) => Promise<void>
}

/** loadState returns the index at the destination's newest authenticated, readable commit. */
export async function loadState(c: LoadContext, o: LoadOptions = {}): Promise<LoadedState> {
  const history = await readHistory(c.storage, {
    repository: c.repository,
    signingKey: c.signingKey,
    pin: c.pin,
    toCheckpoint: false,
    acceptRollback: c.acceptRollback,
    signal: c.signal,
  })
  const empty = (h: History): LoadedState => ({
    state: new RepoState(),
    facts: new FactsTable(),
    head: null,
    history: h,
    rebuilt: false,
    damaged: [],
    cacheBase: null,
    cacheLogLines: 0,
  })
  const { head } = history
  if (!head) return empty(history)
  let cached = c.cache ? await c.cache.load() : null
  // A commit this machine prepared, made, and did not live to record: adopt it.
  const pending = cached ? cached.pending : null
  if (c.cache && cached && cached.commit !== head.name && pending?.commit === head.name) {
    if (await c.cache.promote(head.name)) cached = await c.cache.load()
  } else if (c.cache && !cached && (await c.cache.promote(head.name))) cached = await c.cache.load()
  if (cached && cached.commit === head.name) {
    if (c.pin?.name !== head.name) await c.onHead(head)
    return {
      state: cached.state,
      facts: cached.facts,
      head,
      history,
      rebuilt: false,
      damaged: [],
      cacheBase: cached.base,
      cacheLogLines: cached.logLines,
    }
  }
  await c.cache?.dropPending().catch(() => {})
  const full = await readHistory(c.storage, {
    repository: c.repository,
    signingKey: c.signingKey,
    pin: c.pin,
    toCheckpoint: true,
    acceptRollback: c.acceptRollback,
    signal: c.signal,
  })
  const { state, damaged } = await replay(c, full)
  // Facts stay valid for paths whose version is unchanged; others are simply read again.
  const facts = cached?.facts ?? new FactsTable()
  // Keep what was rebuilt, so that the next backup needs public keys only again. Not after damage:
  // the cache would then claim to be at a head it does not reflect.
  if (c.cache && !damaged.length) {
    try {
      await c.cache.save(head.name, state, facts)
    } catch (err) {
      if (!o.onSaveError) throw err
      o.onSaveError(err)
    }
  }
  if (c.pin?.name !== head.name) await c.onHead(head)
  return { state, facts, head, history: full, rebuilt: true, damaged, cacheBase: null, cacheLogLines: 0 }
}

/**
 * replay applies the commits from the newest checkpoint to the head. A commit that cannot be read
 * stops it there: the state is then replayed again up to the commit before (a commit half applied is
 * never kept); a damaged checkpoint sends it to the checkpoint before.
 */
async function replay(
  c: LoadContext,
  history: History,
): Promise<{ state: RepoState; damaged: LoadedState['damaged'] }> {
  const damaged: LoadedState['damaged'] = []
  let list = history.fromCheckpoint
  for (;;) {
    if (!list.length)
      throw new DamageError(
        `${c.storage.location}: no readable index: every commit needed is damaged or missing (${damaged.map((d) => d.error).join('; ')})`,
      )
    const state = new RepoState()
    let failed = -1
    for (let i = 0; i < list.length; i++) {
      try {
        if (i > 0 && list[i]!.kind === 'delta' && state.seq !== list[i]!.seq - 1) throw new DamageError('gap')
        await readCommitInto(c.storage, c.ctx, list[i]!, state, c.spoolDir, c.signal)
      } catch (err) {
        if (err instanceof KeyError || !(err instanceof DamageError)) throw err
        damaged.unshift({ name: list[i]!.name, error: err.message })
        failed = i
        break
      }
    }
    if (failed < 0) return { state, damaged }
    if (failed > 0) {
      // The commits before the damaged one, again: the state the loop left may hold half of it.
      list = list.slice(0, failed)
      continue
    }
    // The checkpoint itself is damaged: go to the one before it, and replay up to this one.
    list = await olderCheckpoint(c, list[0]!)
  }
}

/** olderCheckpoint returns the commits from the checkpoint before `cp` up to the commit before it. */
async function olderCheckpoint(c: LoadContext, cp: CommitSig): Promise<CommitSig[]> {
  const names = new Map<number, string[]>()
  for await (const o of c.storage.list('sig', c.signal)) {
    const seq = seqOf(o.name)
    if (seq < cp.seq) names.set(seq, [...(names.get(seq) ?? []), o.name])
  }
  const chain: CommitSig[] = []
  let want = cp
  for (let seq = cp.seq - 1; seq >= 1; seq--) {
    let found: CommitSig | null = null
    for (const name of names.get(seq) ?? []) {
      const s = await readSig(c.storage, c.signingKey, c.repository, name, c.signal).catch(() => null)
      if (s && typeof s !== 'string' && chainAfter(s.chain, want.name) === want.chain) {
        found = s
        break
      }
    }
    if (!found) return []
    chain.push(found)
    want = found
    if (found.kind === 'checkpoint' || found.seq === 1) return chain.reverse()
  }
  return []
}
