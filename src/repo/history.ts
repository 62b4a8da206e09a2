// Why: which commits are the repository's history, decided from the signature objects alone, before any
// commit is decrypted (docs/design.md, "Reading: authenticate, then parse"): the head is the newest
// commit whose signature verifies and whose chain links down to what this machine pinned (or, on a
// machine without a pin, to a checkpoint or the first commit). A history older than the pin, one that
// no longer holds the pinned commit, or two signed commits at one sequence number, is refused with exit
// code 14 — unless the user accepts a rollback deliberately.
import { AuthenticityError, NotFoundError } from '../errors.js'
import type { ObjectInfo, Storage } from '../storage/storage.js'
import { TaskPool } from '../util/concurrency.js'
import { type CommitSig, chainAfter, genesisChain, listSigNames, readSig, seqOf } from './commit-sigs.js'
import type { HeadPin } from './machine-data.js'

/** History is the authenticated history as far as it was read. */
export interface History {
  /** the newest commit (null: an empty repository) */
  readonly head: CommitSig | null
  /** the commits from the newest checkpoint at or below the head up to the head, oldest first (when asked) */
  readonly fromCheckpoint: CommitSig[]
  /** signature objects that failed their check, with why (ignored; writers refuse to go on) */
  readonly invalid: { readonly name: string; readonly reason: string }[]
  /** every signature object listed */
  readonly listed: ObjectInfo[]
  /** the valid signature objects this read verified that were not known before (to remember) */
  readonly verified: CommitSig[]
  /** a rollback accepted with --accept-rollback (what was pinned, what is there now) */
  readonly rolledBack: { readonly from: HeadPin; readonly to: CommitSig | null } | null
}

/** HistoryOptions say what the reader must establish. */
export interface HistoryOptions {
  readonly repository: string
  readonly signingKey: string
  readonly pin: HeadPin | null
  /** read down to the newest checkpoint too (to rebuild the index) */
  readonly toCheckpoint: boolean
  readonly acceptRollback?: boolean
  readonly signal?: AbortSignal
  /**
   * signature objects this machine verified before (the cache's record), by name: not downloaded
   * again. What the destination holds under those names now does not matter; what was verified does.
   */
  readonly known?: ReadonlyMap<string, CommitSig>
}

/** SIG_READS is how many signature objects are downloaded at once. */
const SIG_READS = 8

/** readHistory reads and checks the signature objects (see the module's comment). */
export async function readHistory(storage: Storage, o: HistoryOptions): Promise<History> {
  const listed = await listSigNames(storage, o.signal)
  const where = storage.location
  const invalid: { name: string; reason: string }[] = []
  const bySeq = new Map<number, string[]>()
  for (const l of listed) {
    const seq = seqOf(l.name)
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), l.name])
  }
  // Every signature object is checked, once per machine: foreign ones are reported wherever they are.
  const checked = new Map<string, CommitSig | null>()
  const verified: CommitSig[] = []
  const pool = new TaskPool(SIG_READS)
  for (const l of listed) {
    const known = o.known?.get(l.name)
    if (known) {
      checked.set(l.name, known)
      continue
    }
    await pool.add(async () => {
      // A transfer that fails is the transfer's error (not a foreign object); one gone since the
      // listing is as if never listed.
      const r = await readSig(storage, o.signingKey, o.repository, l.name, o.signal).catch((err: unknown) => {
        if (err instanceof NotFoundError) return null
        throw err
      })
      if (r === null) checked.set(l.name, null)
      else if (typeof r === 'string') {
        invalid.push({ name: l.name, reason: r })
        checked.set(l.name, null)
      } else {
        verified.push(r)
        checked.set(l.name, r)
      }
    })
  }
  await pool.wait()
  invalid.sort((a, b) => (a.name < b.name ? -1 : 1))
  const check = (name: string): CommitSig | null => checked.get(name) ?? null
  const rollback = (why: string): never => {
    throw new AuthenticityError(
      `${where}: ${why}: refusing a rolled-back or replaced history (--accept-rollback accepts it deliberately)`,
    )
  }
  const pin = o.pin
  const seqs = [...bySeq.keys()].sort((a, b) => b - a)
  // The head: the newest sequence number holding a valid signature.
  let head: CommitSig | null = null
  for (const seq of seqs) {
    const valid = bySeq
      .get(seq)!
      .map(check)
      .filter((s): s is CommitSig => s !== null)
    if (valid.length > 1)
      throw new AuthenticityError(
        `${where}: two signed commits with sequence number ${seq} (${valid.map((v) => v.name).join(', ')}): the history has forked; refused`,
      )
    if (valid.length === 1) {
      head = valid[0]!
      break
    }
  }
  let rolledBack: History['rolledBack'] = null
  if (pin && (!head || head.seq < pin.seq)) {
    if (!o.acceptRollback)
      rollback(
        `the newest commit is ${head ? head.seq : 'none'}, older than commit ${pin.seq} this machine has seen`,
      )
    rolledBack = { from: pin, to: head }
  }
  if (!head) return { head, fromCheckpoint: [], invalid, listed, verified, rolledBack }

  // Walk down the chain from the head: every link must hold, down to the pin (which must be where it
  // was) and, when asked, to the newest checkpoint.
  const chain: CommitSig[] = [head]
  let cur = head
  let pinMet = !pin || rolledBack !== null || cur.name === pin.name
  if (pin && !rolledBack && cur.seq === pin.seq && cur.name !== pin.name)
    rollback(`commit ${pin.seq} is not the one this machine saw`)
  const done = () => pinMet && (!o.toCheckpoint || cur.kind === 'checkpoint')
  // The valid signatures by seq, newest first: a commit's predecessor is normally at seq - 1, but a
  // commit made after an accepted rollback follows the highest seq its machine had seen, leaving a gap.
  const validBelow = [...checked.values()]
    .filter((x): x is CommitSig => x !== null)
    .sort((a, b) => b.seq - a.seq)
  const predecessor = (c: CommitSig): CommitSig | null => {
    for (const name of bySeq.get(c.seq - 1) ?? []) {
      const s = check(name)
      if (s && chainAfter(s.chain, c.name) === c.chain) return s
    }
    for (const s of validBelow) if (s.seq < c.seq - 1 && chainAfter(s.chain, c.name) === c.chain) return s
    return null
  }
  while (!done()) {
    const prev = predecessor(cur)
    if (!prev) {
      if (cur.chain === chainAfter(genesisChain(o.repository), cur.name)) break // the first commit
      if (cur.seq === 1)
        throw new AuthenticityError(
          `${where}: commit ${cur.name} does not start this repository's history; refused`,
        )
      if (pin && !rolledBack && cur.seq - 1 >= pin.seq)
        rollback(`the commit ${pin.name} this machine saw is no longer in the history`)
      // Below what must be checked, a gap is damage handled by the loader (a missing checkpoint).
      if (pinMet) break
      throw new AuthenticityError(`${where}: the history breaks below commit ${cur.name}; refused`)
    }
    if (pin && !rolledBack && !pinMet && prev.seq < pin.seq)
      rollback(`the commit ${pin.name} this machine saw is no longer in the history`)
    cur = prev
    chain.push(cur)
    if (pin && !rolledBack && cur.seq === pin.seq) {
      if (cur.name !== pin.name || cur.chain !== pin.chain)
        rollback(`commit ${pin.seq} is not the one this machine saw`)
      pinMet = true
    }
  }
  const fromCheckpoint = o.toCheckpoint ? chain.reverse() : []
  return { head, fromCheckpoint, invalid, listed, verified, rolledBack }
}
