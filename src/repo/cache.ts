// Why: the local cache makes daily runs cheap and lets backup run with public keys only: it holds the
// plaintext index replayed up to the last commit, the local facts (inode, ctime…) that tell a file is
// unchanged without reading it, and a journal of packs uploaded by a run that has not committed yet.
// It is only a cache: delete it and the next run rebuilds it from the destination (that one step needs
// the secret key). Files are owner-only (0600 in a 0700 folder): the index names every message.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CommitRecord, WirePack, WireVersion } from '../core/commit-codec.js'
import { jsonChunks } from '../core/json-chunks.js'
import type { LocalFacts, SnapshotInfo } from '../core/model.js'
import { RepoState } from '../core/repo-state.js'

/** cacheBase is where seb keeps caches: $SEB_CACHE_DIR, else $XDG_CACHE_HOME/seb, else ~/.cache/seb. */
export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEB_CACHE_DIR) return env.SEB_CACHE_DIR
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'seb')
  return path.join(os.homedir(), '.cache', 'seb')
}

interface StateFile {
  v: 1
  commit: string
  seq: number
  checkpointSeq: number
  packs: WirePack[]
  versions: WireVersion[]
  snapshots: SnapshotInfo[]
  facts: [string, number, number, number, number][]
}

/** CachedState is what the cache remembers after a commit. */
export interface CachedState {
  readonly commit: string
  readonly state: RepoState
  readonly facts: Map<string, LocalFacts>
  /** commits recorded in the log since the state file was written */
  readonly logLines: number
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

/** LocalCache is one repository's cache folder. */
export class LocalCache {
  readonly dir: string
  readonly spoolDir: string

  constructor(base: string, repoId: string) {
    this.dir = path.join(base, repoId)
    this.spoolDir = path.join(this.dir, 'spool')
  }

  private get stateFile(): string {
    return path.join(this.dir, 'state.json')
  }

  private get logFile(): string {
    return path.join(this.dir, 'log.jsonl')
  }

  private get journalFile(): string {
    return path.join(this.dir, 'pending.jsonl')
  }

  /** ensure creates the folder, owner-only. */
  async ensure(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    await fs.chmod(this.dir, 0o700)
  }

  /** load returns the cached state, or null when there is none or it cannot be read. */
  async load(): Promise<CachedState | null> {
    let raw: StateFile
    try {
      raw = JSON.parse(await fs.readFile(this.stateFile, 'utf8')) as StateFile
    } catch {
      return null
    }
    if (raw?.v !== 1) return null
    const state = new RepoState()
    state.applyCommit({
      seb: 1,
      kind: 'checkpoint',
      seq: raw.seq,
      time: '',
      snapshot: null,
      packs: raw.packs,
      versions: raw.versions,
      snapshots: raw.snapshots,
      dropPacks: [],
      add: [],
      del: [],
      forget: [],
    })
    state.checkpointSeq = raw.checkpointSeq
    const facts = new Map<string, LocalFacts>()
    for (const [p, size, mtimeMs, ino, ctimeMs] of raw.facts) facts.set(p, { size, mtimeMs, ino, ctimeMs })
    let commit = raw.commit
    // Commits made since the state file was written, one line each (see append).
    let log = ''
    try {
      log = await fs.readFile(this.logFile, 'utf8')
    } catch {}
    for (const line of log.split('\n')) {
      if (!line) continue
      let entry: LogEntry
      try {
        entry = JSON.parse(line) as LogEntry
        if (entry.base !== raw.commit) continue // a log left over from an older state file
        state.applyCommit(entry.record)
      } catch {
        break // a line cut by a crash: the cache is at the previous commit, which the loader notices
      }
      for (const [p, size, mtimeMs, ino, ctimeMs] of entry.setFacts)
        facts.set(p, { size, mtimeMs, ino, ctimeMs })
      for (const p of entry.dropFacts) facts.delete(p)
      commit = entry.commit
    }
    return { commit, state, facts, logLines: log.split('\n').filter(Boolean).length }
  }

  /**
   * append records one commit made on top of the cached state: a line with the commit record and the
   * facts that changed. Much cheaper than save() for a daily run; save() rewrites the whole state
   * when the log grows long (LOG_MAX lines) or after a checkpoint.
   */
  async append(
    commit: string,
    base: string,
    record: CommitRecord,
    oldFacts: ReadonlyMap<string, LocalFacts>,
    facts: ReadonlyMap<string, LocalFacts>,
  ): Promise<void> {
    const setFacts: LogEntry['setFacts'] = []
    const dropFacts: string[] = []
    for (const [p, f] of facts) {
      const o = oldFacts.get(p)
      if (!o || o.size !== f.size || o.mtimeMs !== f.mtimeMs || o.ino !== f.ino || o.ctimeMs !== f.ctimeMs)
        setFacts.push([p, f.size, f.mtimeMs, f.ino, f.ctimeMs])
    }
    for (const p of oldFacts.keys()) if (!facts.has(p)) dropFacts.push(p)
    const entry: LogEntry = { commit, base, record, setFacts, dropFacts }
    const fh = await fs.open(this.logFile, 'a', 0o600)
    try {
      await fh.write(`${JSON.stringify(entry)}\n`)
      await fh.sync()
    } finally {
      await fh.close()
    }
  }

  /** save writes the state after a commit (atomically: temp file, fsync, rename). */
  async save(commit: string, state: RepoState, facts: ReadonlyMap<string, LocalFacts>): Promise<void> {
    await this.ensure()
    const lists = state.checkpointLists()
    const body: StateFile = {
      v: 1,
      commit,
      seq: state.seq,
      checkpointSeq: state.checkpointSeq,
      ...lists,
      facts: [...facts].map(([p, f]) => [p, f.size, f.mtimeMs, f.ino, f.ctimeMs]),
    }
    await writeAtomic(this.stateFile, jsonChunks(body))
    await fs.rm(this.logFile, { force: true })
  }

  /** drop removes the cached state (it will be rebuilt from the destination). */
  async drop(): Promise<void> {
    await fs.rm(this.stateFile, { force: true })
    await fs.rm(this.logFile, { force: true })
  }

  /** baseCommit returns the commit the state file (without the log) is at. */
  async baseCommit(): Promise<string | null> {
    try {
      const fh = await fs.open(this.stateFile, 'r')
      try {
        const head = Buffer.alloc(200)
        await fh.read(head, 0, 200, 0)
        return /"commit":"([^"]+)"/.exec(head.toString('utf8'))?.[1] ?? null
      } finally {
        await fh.close()
      }
    } catch {
      return null
    }
  }

  /** readJournal returns the packs uploaded by runs that did not commit. */
  async readJournal(): Promise<WirePack[]> {
    let text = ''
    try {
      text = await fs.readFile(this.journalFile, 'utf8')
    } catch {
      return []
    }
    const out: WirePack[] = []
    for (const line of text.split('\n')) {
      if (!line) continue
      try {
        out.push(JSON.parse(line) as WirePack)
      } catch {
        // A line cut by a crash: that pack is an orphan and will be removed as such.
      }
    }
    return out
  }

  /** appendJournal records an uploaded pack before anything refers to it. */
  async appendJournal(p: WirePack): Promise<void> {
    await this.ensure()
    const fh = await fs.open(this.journalFile, 'a', 0o600)
    try {
      await fh.write(`${JSON.stringify(p)}\n`)
      await fh.sync()
    } finally {
      await fh.close()
    }
  }

  /** clearJournal forgets pending packs once a commit refers to them. */
  async clearJournal(): Promise<void> {
    await fs.rm(this.journalFile, { force: true })
  }

  /** cleanSpool removes spool files left by earlier runs of this process's host (they are ciphertext). */
  async cleanSpool(): Promise<void> {
    await fs.rm(this.spoolDir, { recursive: true, force: true })
  }
}

async function writeAtomic(file: string, pieces: Iterable<string>): Promise<void> {
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`
  const fh = await fs.open(tmp, 'w', 0o600)
  try {
    // Written a megabyte at a time: the state of a large mailbox is never one giant string.
    let pending: string[] = []
    let size = 0
    for (const piece of pieces) {
      pending.push(piece)
      size += piece.length
      if (size >= 1 << 20) {
        await fh.write(pending.join(''))
        pending = []
        size = 0
      }
    }
    if (pending.length) await fh.write(pending.join(''))
    await fh.sync()
  } finally {
    await fh.close()
  }
  await fs.rename(tmp, file)
}
