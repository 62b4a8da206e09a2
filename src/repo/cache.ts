// Why: the local cache makes daily runs cheap and lets backup run with public keys only: it holds the
// plaintext index replayed up to the last commit, and the local facts (inode, ctime…) that tell a file
// is unchanged without reading it (the journal of uploaded packs is journal.ts, beside it). It is only
// a cache: delete it and the next run rebuilds it from the destination (that one step needs the secret
// key). It is written ahead: the state after a commit is recorded as pending before the commit is made,
// and becomes the cache's state once the commit is on the destination, so that a machine can always
// continue from a commit it wrote itself, even when it was killed right after making it
// (docs/design.md, "Write order"). Files are owner-only (0600 in a 0700 folder): the index names every
// message.
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CommitRecord } from '../core/commit-codec.js'
import type { FactsUpdate } from '../core/diff.js'
import type { FactsTable } from '../core/facts-table.js'
import type { RepoState } from '../core/repo-state.js'
import { appendLineSynced, writeFileAtomic } from '../util/atomic-file.js'
import { fault, faultsArmed } from '../util/fault.js'
import { halfwayPieces } from '../util/halfway-fault.js'
import type { CommitSig } from './commit-sigs.js'
import { encodeState, readState } from './state-file.js'

/** cacheBase is where seb keeps caches: $SEB_CACHE_DIR, else $XDG_CACHE_HOME/seb, else ~/.cache/seb. */
export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEB_CACHE_DIR) return env.SEB_CACHE_DIR
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'seb')
  return path.join(os.homedir(), '.cache', 'seb')
}

/** CachedState is what the cache remembers after a commit. */
export interface CachedState {
  readonly commit: string
  readonly state: RepoState
  readonly facts: FactsTable
  /** the commit the state file (without the log) is at */
  readonly base: string
  /** commits recorded in the log since the state file was written */
  readonly logLines: number
  /** a commit prepared but not known to be made: its name, and the commit it builds on */
  readonly pending: { readonly commit: string; readonly base: string } | null
}

/** LOG_MAX: after this many logged commits the whole state is rewritten. */
export const LOG_MAX = 32

interface LogEntry {
  commit: string
  /** the state file's commit this line builds on */
  base: string
  record: CommitRecord
  setFacts: [string, number, number, number, number][]
  dropFacts: string[]
}

/** PendingState is what the cache will be once a commit is made: a log line, or a whole state. */
export type PendingState =
  | {
      readonly kind: 'line'
      readonly commit: string
      readonly base: string
      readonly record: CommitRecord
      readonly facts: FactsUpdate
    }
  | {
      readonly kind: 'state'
      readonly commit: string
      readonly after: string
      readonly state: RepoState
      readonly facts: FactsTable
    }

/** LocalCache is one repository's cache folder. */
export class LocalCache {
  readonly dir: string
  readonly spoolDir: string

  constructor(base: string, repoId: string) {
    this.dir = path.join(base, repoId)
    this.spoolDir = path.join(this.dir, 'spool')
  }

  private file(name: string): string {
    return path.join(this.dir, name)
  }

  /** ensure creates the folder, owner-only. */
  async ensure(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    await fs.chmod(this.dir, 0o700)
  }

  /**
   * knownSigs reads the signature objects this machine verified before with the repository key
   * `publicKey` (`sigs-<key>.jsonl`: their bodies, one per line), so that a run downloads only the new
   * ones. A line that does not parse is skipped.
   */
  async knownSigs(publicKey: string): Promise<Map<string, CommitSig>> {
    const known = new Map<string, CommitSig>()
    let text = ''
    try {
      text = await fs.readFile(this.sigsFile(publicKey), 'utf8')
    } catch {
      return known
    }
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        const s = JSON.parse(line) as CommitSig
        if (typeof s?.name === 'string') known.set(s.name, s)
      } catch {}
    }
    return known
  }

  /** rememberSigs adds signature bodies verified with `publicKey` (best effort: it is a cache). */
  async rememberSigs(publicKey: string, sigs: readonly CommitSig[]): Promise<void> {
    if (!sigs.length) return
    try {
      await this.ensure()
      await fs.appendFile(this.sigsFile(publicKey), sigs.map((s) => `${JSON.stringify(s)}\n`).join(''), {
        mode: 0o600,
      })
    } catch {}
  }

  private sigsFile(publicKey: string): string {
    return this.file(`sigs-${createHash('sha256').update(publicKey).digest('hex').slice(0, 16)}.jsonl`)
  }

  /**
   * load returns the cached state (without what is pending), or null when there is none or it cannot be
   * read; `lean`, without the backup's own tables (readState).
   */
  async load(o: { lean?: boolean } = {}): Promise<CachedState | null> {
    let decoded: Awaited<ReturnType<typeof readState>> = null
    try {
      decoded = await readState(this.file('state.bin'), o)
    } catch {
      return null
    }
    if (!decoded) return null
    const { state, facts } = decoded
    const base = decoded.commit
    let commit = base
    let log = ''
    try {
      log = await fs.readFile(this.file('log.jsonl'), 'utf8')
    } catch {}
    let logLines = 0
    for (const line of log.split('\n')) {
      if (!line) continue
      let entry: LogEntry
      try {
        entry = JSON.parse(line) as LogEntry
        if (entry.base !== base) continue // a log left over from an older state file
        state.applyCommit(entry.record)
      } catch {
        break // a line cut by a crash: the cache is at the previous commit, which the loader notices
      }
      for (const [p, size, mtimeMs, ino, ctimeMs] of entry.setFacts)
        facts.put(state.live.canonicalPath(p) ?? p, size, mtimeMs, ino, ctimeMs)
      for (const p of entry.dropFacts) facts.delete(p)
      commit = entry.commit
      logLines++
    }
    return { commit, state, facts, base, logLines, pending: await this.pendingOf(commit) }
  }

  /** pendingOf names the pending commit that builds on `commit`, if there is one. */
  private async pendingOf(commit: string): Promise<CachedState['pending']> {
    try {
      const line = JSON.parse(await fs.readFile(this.file('next.jsonl'), 'utf8')) as LogEntry & {
        after: string
      }
      if (line.after === commit) return { commit: line.commit, base: commit }
    } catch {}
    try {
      const meta = JSON.parse(await fs.readFile(this.file('next.json'), 'utf8')) as {
        commit: string
        after: string
      }
      if (meta.after === commit) return { commit: meta.commit, base: commit }
    } catch {}
    return null
  }

  /**
   * prepare records the cache's next state before its commit is made (write-ahead): a log line for a
   * daily delta, or a whole state file (after a checkpoint, when the log is long, or when the cache was
   * not at the previous commit). `after` is the commit the cache is at now.
   */
  async prepare(p: PendingState, after: string | null): Promise<void> {
    await this.dropPending()
    if (p.kind === 'line') {
      const setFacts: LogEntry['setFacts'] = []
      for (const path of p.facts.set) {
        const f = p.facts.table.get(path)
        if (f) setFacts.push([path, f.size, f.mtimeMs, f.ino, f.ctimeMs])
      }
      const entry = {
        commit: p.commit,
        base: p.base,
        record: p.record,
        setFacts,
        dropFacts: p.facts.drop,
        after,
      }
      await writeFileAtomic(this.file('next.jsonl'), JSON.stringify(entry))
      return
    }
    await writeFileAtomic(this.file('next.bin'), statePieces(p.commit, p.state, p.facts))
    await writeFileAtomic(this.file('next.json'), JSON.stringify({ commit: p.commit, after }))
  }

  /**
   * promote makes the pending state the cache's state, once its commit is on the destination (right
   * after making it, or on a later run that finds it there).
   */
  async promote(commit: string): Promise<boolean> {
    try {
      const text = await fs.readFile(this.file('next.jsonl'), 'utf8')
      const entry = JSON.parse(text) as LogEntry & { after?: string }
      if (entry.commit !== commit) return false
      const { after: _, ...line } = entry
      fault('cache:promote')
      await appendLineSynced(this.file('log.jsonl'), JSON.stringify(line))
      await fs.rm(this.file('next.jsonl'), { force: true })
      return true
    } catch {}
    try {
      const meta = JSON.parse(await fs.readFile(this.file('next.json'), 'utf8')) as { commit: string }
      if (meta.commit !== commit) return false
      fault('cache:promote')
      await fs.rename(this.file('next.bin'), this.file('state.bin'))
      await fs.rm(this.file('log.jsonl'), { force: true })
      await fs.rm(this.file('next.json'), { force: true })
      return true
    } catch {
      return false
    }
  }

  /** dropPending forgets a pending state whose commit was never made. */
  async dropPending(): Promise<void> {
    for (const f of ['next.jsonl', 'next.bin', 'next.json']) await fs.rm(this.file(f), { force: true })
  }

  /** save writes the whole state at `commit` now (a rebuilt index, kept so the next run needs no key). */
  async save(commit: string, state: RepoState, facts: FactsTable): Promise<void> {
    await this.ensure()
    await writeFileAtomic(this.file('state.bin'), statePieces(commit, state, facts))
    await fs.rm(this.file('log.jsonl'), { force: true })
    await this.dropPending()
  }

  /** drop removes the cached state (it will be rebuilt from the destination). */
  async drop(): Promise<void> {
    for (const f of ['state.bin', 'log.jsonl']) await fs.rm(this.file(f), { force: true })
    await this.dropPending()
  }

  /** cleanSpool removes the spool: ciphertext waiting for upload, and a run's header spool (header-spool.ts). */
  async cleanSpool(): Promise<void> {
    await fs.rm(this.spoolDir, { recursive: true, force: true })
  }
}

/** statePieces encodes a state file; fault point cache:state-half fires half-way through writing it. */
function statePieces(commit: string, state: RepoState, facts: FactsTable): Iterable<Uint8Array> {
  const pieces = encodeState(commit, state, facts)
  // Under a test's fault points only, the pieces are made first: the kill needs their total size.
  return faultsArmed() ? halfwayPieces([...pieces], 'cache:state-half') : pieces
}
