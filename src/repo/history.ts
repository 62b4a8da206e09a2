// Why: which commits are the repository's history, decided from the signature objects alone, before any
// commit is decrypted (docs/design.md, "Reading: authenticate, then parse"): the head is the newest
// commit whose signature verifies and whose chain links down to what this machine pinned (or, on a
// machine without a pin, to a checkpoint or the first commit). A history older than the pin, one that
// no longer holds the pinned commit, or two signed commits at one sequence number, is refused with exit
// code 14 — unless the user accepts a rollback deliberately.
import { AuthenticityError } from '../errors.js'
import type { ObjectInfo, Storage } from '../storage/storage.js'
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
}

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
  const checked = new Map<string, CommitSig | string>()
  const check = async (name: string): Promise<CommitSig | null> => {
    let r = checked.get(name)
    if (r === undefined) {
      r = await readSig(storage, o.signingKey, o.repository, name, o.signal).catch((err: unknown) =>
        err instanceof Error ? `cannot be read (${err.message})` : String(err),
      )
      checked.set(name, r)
      if (typeof r === 'string') invalid.push({ name, reason: r })
    }
    return typeof r === 'string' ? null : r
  }
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
    // Our own newest commit needs no second look: this machine signed and pinned it.
    const names = bySeq.get(seq)!
    if (pin && seq === pin.seq && names.length === 1 && names[0] === pin.name && seq === seqs[0]) {
      const own: CommitSig = {
        repository: o.repository,
        seq,
        name: pin.name,
        kind: 'delta',
        time: '',
        size: 0,
        sha256: '',
        chain: pin.chain,
      }
      head = o.toCheckpoint ? ((await check(pin.name)) ?? own) : own
      break
    }
    const valid = (await Promise.all(names.map(check))).filter((s): s is CommitSig => s !== null)
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
  if (!head) return { head, fromCheckpoint: [], invalid, listed, rolledBack }

  // Walk down the chain from the head: every link must hold, down to the pin (which must be where it
  // was) and, when asked, to the newest checkpoint.
  const chain: CommitSig[] = [head]
  let cur = head
  let pinMet = !pin || rolledBack !== null || cur.name === pin.name
  if (pin && !rolledBack && cur.seq === pin.seq && cur.name !== pin.name)
    rollback(`commit ${pin.seq} is not the one this machine saw`)
  const done = () => pinMet && (!o.toCheckpoint || cur.kind === 'checkpoint')
  while (!done()) {
    if (cur.seq === 1) {
      if (cur.chain !== chainAfter(genesisChain(o.repository), cur.name))
        throw new AuthenticityError(
          `${where}: commit ${cur.name} does not start this repository's history; refused`,
        )
      break
    }
    const below = bySeq.get(cur.seq - 1) ?? []
    let prev: CommitSig | null = null
    for (const name of below) {
      const s = await check(name)
      if (s && chainAfter(s.chain, cur.name) === cur.chain) {
        prev = s
        break
      }
    }
    if (!prev) {
      if (pin && !rolledBack && cur.seq - 1 >= pin.seq)
        rollback(`the commit ${pin.name} this machine saw is no longer in the history`)
      // Below what must be checked, a gap is damage handled by the loader (a missing checkpoint).
      if (pinMet) break
      throw new AuthenticityError(`${where}: the history breaks below commit ${cur.name}; refused`)
    }
    cur = prev
    chain.push(cur)
    if (pin && !rolledBack && cur.seq === pin.seq) {
      if (cur.name !== pin.name || cur.chain !== pin.chain)
        rollback(`commit ${pin.seq} is not the one this machine saw`)
      pinMet = true
    }
  }
  const fromCheckpoint = o.toCheckpoint ? chain.reverse() : []
  return { head, fromCheckpoint, invalid, listed, rolledBack }
}
