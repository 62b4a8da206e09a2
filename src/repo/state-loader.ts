// Why: every command starts from the repository's index at its newest authenticated commit. The local
// cache gives it for free when it is at that commit, or when it holds that commit as pending (a run of
// this machine made it and was killed before its cache followed: adopted with the public key only).
// Otherwise the index is rebuilt from the destination by replaying commits from the newest checkpoint
// (this decrypts them: the secret key, once). A damaged commit does not make the repository unusable:
// replay stops at the newest consistent point before it, and says so.
import type { WireHeaders } from '../core/commit-codec.js'
import { FactsTable } from '../core/facts-table.js'
import { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import type { LocalCache } from './cache.js'
import { type CommitSig, chainAfter, readSig, seqOf } from './commit-sigs.js'
import { readCommitInto } from './commits.js'
import { HeaderCache } from './header-cache.js'
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
  /**
   * the sequence number the next commit takes: above the head, and above every commit this machine
   * has seen (after an accepted rollback, a number once seen is never used for another commit)
   */
  readonly nextSeq: number
  /** the commit the cache is at when that is not the head (after an accepted rollback) */
  readonly cacheAt?: string
}

/** LoadOptions say where the index comes from and what to do on the way. */
export interface LoadOptions {
  /**
   * with it, a rebuilt state that cannot be saved in the cache is reported here and the load goes on
   * (restore: a disaster restore must not stop at a read-only home); without it, the failure is the load's
   */
  readonly onSaveError?: (err: unknown) => void
  /**
   * a read-only command's load: a cache at the destination's head is taken without the tables only a
   * backup uses (the local facts, the normalized hashes), so the state must not be saved or committed;
   * any other case loads the cache whole, since it may be saved
   */
  readonly lean?: boolean
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
  const known = (await c.cache?.knownSigs(c.signingKey)) ?? new Map<string, CommitSig>()
  const history = await readHistory(c.storage, {
    repository: c.repository,
    signingKey: c.signingKey,
    pin: c.pin,
    toCheckpoint: false,
    acceptRollback: c.acceptRollback,
    signal: c.signal,
    known,
  })
  for (const s of history.verified) known.set(s.name, s)
  await c.cache?.rememberSigs(c.signingKey, history.verified)
  const empty = (h: History): LoadedState => ({
    state: new RepoState(),
    facts: new FactsTable(),
    head: null,
    history: h,
    rebuilt: false,
    damaged: [],
    cacheBase: null,
    cacheLogLines: 0,
    nextSeq: Math.max(c.pin?.seq ?? 0, 0) + 1,
  })
  const { head } = history
  const nextSeq = (stateSeq: number) => Math.max(head?.seq ?? 0, stateSeq, c.pin?.seq ?? 0) + 1
  const rolledBackFrom = history.rolledBack?.from.name
  if (!head && !rolledBackFrom) return empty(history)
  let cached = c.cache ? await c.cache.load({ lean: o.lean }) : null
  // A commit this machine prepared, made, and did not live to record: adopt it.
  const pending = cached ? cached.pending : null
  if (head && c.cache && cached && cached.commit !== head.name && pending?.commit === head.name) {
    if (await c.cache.promote(head.name)) cached = await c.cache.load({ lean: o.lean })
  } else if (head && c.cache && !cached && (await c.cache.promote(head.name)))
    cached = await c.cache.load({ lean: o.lean })
  // Lean is for a cache at the head only: every other way on may save or build on what was loaded.
  if (o.lean && c.cache && cached && cached.commit !== head?.name) cached = await c.cache.load()
  if (head && cached && cached.commit === head.name) {
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
      nextSeq: nextSeq(cached.state.seq),
    }
  }
  // A rollback accepted on the machine whose cache is at the commit the destination lost: that state
  // is this machine's own and is kept (the next commit, a checkpoint, puts it back), less what lived
  // in packs no longer there (those files are read and uploaded again). The pin stays where it was.
  if (cached && rolledBackFrom && cached.commit === rolledBackFrom) {
    await forgetMissingPacks(c.storage, cached.state, cached.facts, c.signal)
    return {
      state: cached.state,
      facts: cached.facts,
      head,
      history,
      rebuilt: false,
      damaged: [],
      cacheBase: null,
      cacheLogLines: 0,
      nextSeq: nextSeq(cached.state.seq),
      cacheAt: cached.commit,
    }
  }
  if (!head) return empty(history)
  await c.cache?.dropPending().catch(() => {})
  const full = await historyToCheckpoint(c, known)
  const { state, damaged, headers } = await replay(c, full).catch((err: unknown) => {
    // Without the secret key, say plainly why the index is being rebuilt and what it takes, once.
    if (!(err instanceof KeyError) || !c.cache) throw err
    const why = cached
      ? `this machine's cache is at commit ${cached.commit}, behind the destination's newest commit ${head.name}, which this machine did not make (or whose cache save was lost)`
      : "this machine's cache holds no index for this repository (deleted, lost, or a new machine)"
    throw new KeyError(
      `${c.storage.location}: ${why}; rebuilding the index decrypts the commits and needs the owner's secret key (or the passphrase) once: run 'seb key setup ${c.storage.location}' (or this command) with it, after which backups need the public key only again (${err.message})`,
      { cause: err },
    )
  })
  // Facts stay valid for paths whose version is unchanged; others are simply read again.
  const facts = cached?.facts ?? new FactsTable()
  // Keep what was rebuilt, so that the next backup needs public keys only again. Not after damage:
  // the cache would then claim to be at a head it does not reflect.
  if (c.cache && !damaged.length) {
    try {
      await c.cache.save(head.name, state, facts)
      await saveHeaders(c.cache.dir, headers, state, head.name)
    } catch (err) {
      if (!o.onSaveError) throw err
      o.onSaveError(err)
    }
  }
  if (c.pin?.name !== head.name && !full.rolledBack) await c.onHead(head)
  return {
    state,
    facts,
    head,
    history: full,
    rebuilt: true,
    damaged,
    cacheBase: null,
    cacheLogLines: 0,
    nextSeq: nextSeq(state.seq),
  }
}

/**
 * loadHeaders returns the search headers of the contents the index keeps at `loaded`'s head: from the
 * cache's headers.jsonl when it is complete at that commit, else replayed from the commits (the secret
 * key) and saved there. `canDecrypt` false: what the cache has, however stale (null when nothing).
 */
export async function loadHeaders(
  c: LoadContext,
  loaded: LoadedState,
  canDecrypt: boolean,
): Promise<{ headers: Map<string, WireHeaders>; complete: boolean }> {
  const cached = c.cache ? await new HeaderCache(c.cache.dir).read().catch(() => null) : null
  const head = loaded.head
  if (!head) return { headers: new Map(), complete: true }
  if (cached && cached.at === head.name) return { headers: cached.byHash, complete: true }
  if (!canDecrypt) return { headers: cached?.byHash ?? new Map(), complete: false }
  const known = (await c.cache?.knownSigs(c.signingKey)) ?? new Map<string, CommitSig>()
  const full = await historyToCheckpoint(c, known)
  const { state, damaged, headers } = await replay(c, full)
  for (const hash of headers.keys()) if (!state.blobs.has(hash)) headers.delete(hash)
  if (c.cache && !damaged.length && full.head?.name === head.name)
    await saveHeaders(c.cache.dir, headers, state, head.name).catch(() => {})
  return { headers, complete: !damaged.length }
}

/** saveHeaders writes the search headers of the contents `state` keeps as the cache's headers.jsonl. */
async function saveHeaders(
  dir: string,
  headers: Map<string, WireHeaders>,
  state: RepoState,
  commit: string,
): Promise<void> {
  for (const hash of headers.keys()) if (!state.blobs.has(hash)) headers.delete(hash)
  await new HeaderCache(dir).write(headers.values(), commit)
}

/**
 * forgetMissingPacks drops from a state the packs the destination no longer holds whole, with the
 * contents stored in them, and the local facts of the files that had those contents: the next backup
 * reads them again and, finding their contents stored nowhere, uploads them.
 */
async function forgetMissingPacks(
  storage: Storage,
  state: RepoState,
  facts: FactsTable,
  signal?: AbortSignal,
): Promise<void> {
  const there = new Map<string, number>()
  for await (const p of storage.list('pack', signal)) there.set(p.name, p.size)
  const gone = [...state.packs.values()].filter((p) => there.get(p.id) !== p.size).map((p) => p.id)
  if (!gone.length) return
  const goneSet = new Set(gone)
  const lost = new Set<string>()
  for (const [hash, loc] of state.blobs) if (goneSet.has(loc.pack)) lost.add(hash)
  for (const v of state.live.values()) if (v.kind === 'f' && lost.has(v.ref)) facts.delete(v.path)
  state.endCommit(state.seq, null, gone, [])
}

/**
 * replay applies the commits from the newest checkpoint to the head. A commit that cannot be read
 * stops it there: the state is then replayed again up to the commit before (a commit half applied is
 * never kept); a damaged checkpoint sends it to the checkpoint before.
 */
async function replay(
  c: LoadContext,
  history: History,
): Promise<{ state: RepoState; damaged: LoadedState['damaged']; headers: Map<string, WireHeaders> }> {
  const damaged: LoadedState['damaged'] = []
  let list = history.fromCheckpoint
  for (;;) {
    if (!list.length)
      throw new DamageError(
        `${c.storage.location}: no readable index: every commit needed is damaged or missing (${damaged.map((d) => d.error).join('; ')})`,
      )
    const state = new RepoState()
    // The search headers the commits carry (not part of the state): kept for headers.jsonl.
    const headers = new Map<string, WireHeaders>()
    const onHeaders = (h: WireHeaders | null) => (h ? headers.set(h[0], h) : headers.clear())
    let failed = -1
    for (let i = 0; i < list.length; i++) {
      try {
        if (i > 0 && list[i]!.kind === 'delta' && state.seq !== list[i]!.seq - 1) throw new DamageError('gap')
        list[i] = await readCommitResigned(c, list[i]!, state, onHeaders)
      } catch (err) {
        if (err instanceof KeyError || !(err instanceof DamageError)) throw err
        damaged.unshift({ name: list[i]!.name, error: err.message })
        failed = i
        break
      }
    }
    if (failed < 0) return { state, damaged, headers }
    if (failed > 0) {
      // The commits before the damaged one, again: the state the loop left may hold half of it.
      list = list.slice(0, failed)
      continue
    }
    // The checkpoint itself is damaged: go to the one before it, and replay up to this one.
    list = await olderCheckpoint(c, list[0]!)
  }
}

/**
 * readCommitResigned reads one commit into `state`. Key rotation re-encrypts a commit in place and
 * signs its new size and hash under the same name and chain: a signature body this machine remembers
 * (the cache's record of verified signatures) may name the commit's old bytes. When the bytes do not
 * match, the signature object is read and verified again; a valid one for the same commit and chain
 * that names other bytes is used (and remembered), and the read is tried once more. It returns the
 * signature the commit was read with.
 */
async function readCommitResigned(
  c: LoadContext,
  sig: CommitSig,
  state: RepoState,
  onHeaders: (h: WireHeaders | null) => void,
): Promise<CommitSig> {
  try {
    await readCommitInto(c.storage, c.ctx, sig, state, c.spoolDir, c.signal, onHeaders)
    return sig
  } catch (err) {
    if (!(err instanceof DamageError) || err instanceof KeyError) throw err
    const fresh = await readSig(c.storage, c.signingKey, c.repository, sig.name, c.signal).catch(() => null)
    if (
      !fresh ||
      typeof fresh === 'string' ||
      fresh.seq !== sig.seq ||
      fresh.chain !== sig.chain ||
      (fresh.size === sig.size && fresh.sha256 === sig.sha256)
    )
      throw err
    await c.cache?.rememberSigs(c.signingKey, [fresh])
    await readCommitInto(c.storage, c.ctx, fresh, state, c.spoolDir, c.signal, onHeaders)
    return fresh
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

/** historyToCheckpoint reads the authenticated history from the destination's head back to its newest checkpoint. */
function historyToCheckpoint(c: LoadContext, known: Map<string, CommitSig>) {
  return readHistory(c.storage, {
    repository: c.repository,
    signingKey: c.signingKey,
    pin: c.pin,
    toCheckpoint: true,
    acceptRollback: c.acceptRollback,
    signal: c.signal,
    known,
  })
}
