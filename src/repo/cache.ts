// Why: the local cache makes daily runs cheap and lets backup run with public keys only: it holds the
// plaintext index replayed up to the last commit, the local facts (inode, ctime…) that tell a file is
// unchanged without reading it (the journal of uploaded packs is journal.ts, beside it).
// It is only a cache: delete it and the next run rebuilds it from the destination (that one step needs
// the secret key). Files are owner-only (0600 in a 0700 folder): the index names every message.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CommitRecord, WirePack, WireVersion } from '../core/commit-codec.js'
import type { FactsUpdate } from '../core/diff.js'
import { FactsTable } from '../core/facts-table.js'
import type { LocalFacts, SnapshotInfo } from '../core/model.js'
import { RepoState } from '../core/repo-state.js'
import { appendLineSynced, writeFileAtomic } from '../util/atomic-file.js'
import { encodeState, readState, type StateFile } from './state-file.js'

/** cacheBase is where seb keeps caches: $SEB_CACHE_DIR, else $XDG_CACHE_HOME/seb, else ~/.cache/seb. */
export function cacheBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEB_CACHE_DIR) return env.SEB_CACHE_DIR
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'seb')
  return path.join(os.homedir(), '.cache', 'seb')
}

/**
 * The state file is `state.bin` (src/repo/state-file.ts: a JSON header and the index's columns as raw
 * bytes). seb 0.2 wrote `state.jsonl`: JSON lines, a header and then one line per version, pack, blob
 * (naming its pack by the pack's ordinal among the 'p' lines) and local fact, each an array tagged by
 * its first element. That file is still read, and replaced by the next full save.
 */
interface StateHeader {
  v: 2
  commit: string
  seq: number
  checkpointSeq: number
  snapshots: SnapshotInfo[]
}

/** StateFileVersion1 is the state file of seb 0.1: the whole state as one JSON value. */
interface StateFileVersion1 {
  v: 1
  commit: string
  seq: number
  checkpointSeq: number
  packs: WirePack[]
  versions: WireVersion[]
  snapshots: SnapshotInfo[]
  facts: [string, number, number, number, number][]
}

type StateLine =
  | ['v', ...WireVersion]
  | ['p', string, number, number, number]
  | ['b', string, number, number, string, number]
  | ['f', string, number, number, number, number]

/** CachedState is what the cache remembers after a commit. */
export interface CachedState {
  readonly commit: string
  readonly state: RepoState
  readonly facts: FactsTable
  /** the commit the state file (without the log) is at; null when it must be rewritten before logging */
  readonly base: string | null
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
    return path.join(this.dir, 'state.bin')
  }

  /** the state file of seb 0.2 (JSON lines), still read */
  private get stateLinesFile(): string {
    return path.join(this.dir, 'state.jsonl')
  }

  private get logFile(): string {
    return path.join(this.dir, 'log.jsonl')
  }

  /** ensure creates the folder, owner-only. */
  async ensure(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 })
    await fs.chmod(this.dir, 0o700)
  }

  /** load returns the cached state, or null when there is none or it cannot be read. */
  async load(): Promise<CachedState | null> {
    let decoded: StateFile | null = null
    try {
      decoded = await readState(this.stateFile)
      if (!decoded) return null
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null
    }
    if (decoded) return this.withLog(decoded.commit, decoded.state, decoded.facts, true)
    const state = new RepoState()
    const facts = new FactsTable()
    const header = (await this.loadLines(state, facts)) ?? (await this.loadVersion1(state, facts))
    if (!header) return null
    state.seq = header.seq
    state.checkpointSeq = header.checkpointSeq
    state.snapshots.push(...header.snapshots)
    return this.withLog(header.commit, state, facts, false)
  }

  /**
   * loadLines reads the state file of seb 0.2 (`state.jsonl`, JSON lines), so that an upgrade keeps
   * its cache: rebuilding it would need the secret key, which a backup must not need.
   */
  private async loadLines(state: RepoState, facts: FactsTable): Promise<StateHeader | null> {
    let header: StateHeader | null = null
    const packs: string[] = []
    try {
      for await (const line of readLines(this.stateLinesFile)) {
        if (!header) {
          header = JSON.parse(line) as StateHeader
          if (header?.v !== 2) return null
          continue
        }
        const l = JSON.parse(line) as StateLine
        switch (l[0]) {
          case 'v':
            state.loadVersion(l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8])
            break
          case 'p':
            packs.push(l[1])
            state.loadPack(l[1], l[2], l[4], l[3])
            break
          case 'b': {
            const pack = packs[l[2]]
            if (pack === undefined) return null
            state.loadBlob(l[1], pack, l[3], l[4], l[5])
            break
          }
          case 'f':
            // The same string as the version's path: one copy of each path in memory.
            facts.put(state.live.canonicalPath(l[1]) ?? l[1], l[2], l[3], l[4], l[5])
            break
          default:
            return null
        }
      }
    } catch {
      return null
    }
    return header
  }

  /** withLog replays the log (commits made since the state file was written) on top of it. */
  private async withLog(
    fileCommit: string,
    state: RepoState,
    facts: FactsTable,
    current: boolean,
  ): Promise<CachedState> {
    let commit = fileCommit
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
        if (entry.base !== fileCommit) continue // a log left over from an older state file
        state.applyCommit(entry.record)
      } catch {
        break // a line cut by a crash: the cache is at the previous commit, which the loader notices
      }
      for (const [p, size, mtimeMs, ino, ctimeMs] of entry.setFacts)
        facts.put(state.live.canonicalPath(p) ?? p, size, mtimeMs, ino, ctimeMs)
      for (const p of entry.dropFacts) facts.delete(p)
      commit = entry.commit
    }
    return {
      commit,
      state,
      facts,
      base: current ? fileCommit : null,
      logLines: log.split('\n').filter(Boolean).length,
    }
  }

  /**
   * loadVersion1 reads the state file of seb 0.1 (one JSON value, `state.json`), so that an upgrade
   * keeps its cache: rebuilding it would need the secret key, which a backup must not need.
   */
  private async loadVersion1(state: RepoState, facts: FactsTable): Promise<StateHeader | null> {
    let raw: StateFileVersion1
    try {
      raw = JSON.parse(await fs.readFile(path.join(this.dir, 'state.json'), 'utf8')) as StateFileVersion1
    } catch {
      return null
    }
    if (raw?.v !== 1) return null
    for (const v of raw.versions) state.loadVersion(...v)
    for (const [id, size, contentBytes, blobs] of raw.packs) {
      state.loadPack(id, size, raw.seq, contentBytes)
      for (const [hash, bsize, tarPath, entry] of blobs) state.loadBlob(hash, id, bsize, tarPath, entry)
    }
    for (const [p, size, mtimeMs, ino, ctimeMs] of raw.facts)
      facts.put(state.live.canonicalPath(p) ?? p, size, mtimeMs, ino, ctimeMs)
    return {
      v: 2,
      commit: raw.commit,
      seq: raw.seq,
      checkpointSeq: raw.checkpointSeq,
      snapshots: raw.snapshots,
    }
  }

  /**
   * append records one commit made on top of the cached state: a line with the commit record and the
   * facts that changed. Much cheaper than save() for a daily run; save() rewrites the whole state
   * when the log grows long (LOG_MAX lines) or after a checkpoint.
   */
  async append(commit: string, base: string, record: CommitRecord, facts: FactsUpdate): Promise<void> {
    const setFacts: LogEntry['setFacts'] = []
    for (const p of facts.set) {
      const f = facts.table.get(p)
      if (f) setFacts.push([p, f.size, f.mtimeMs, f.ino, f.ctimeMs])
    }
    const dropFacts = facts.drop
    const entry: LogEntry = { commit, base, record, setFacts, dropFacts }
    await appendLineSynced(this.logFile, JSON.stringify(entry))
  }

  /** save writes the state after a commit (atomically: temp file, fsync, rename). */
  async save(commit: string, state: RepoState, facts: ReadonlyMap<string, LocalFacts>): Promise<void> {
    await this.ensure()
    const table = facts instanceof FactsTable ? facts : FactsTable.of(facts)
    await writeFileAtomic(this.stateFile, encodeState(commit, state, table))
    await fs.rm(this.logFile, { force: true })
    // the formats before: seb 0.2's JSON lines, seb 0.1's one JSON value
    await fs.rm(this.stateLinesFile, { force: true })
    await fs.rm(path.join(this.dir, 'state.json'), { force: true })
  }

  /** drop removes the cached state (it will be rebuilt from the destination). */
  async drop(): Promise<void> {
    await fs.rm(this.stateFile, { force: true })
    await fs.rm(this.stateLinesFile, { force: true })
    await fs.rm(this.logFile, { force: true })
  }

  /** cleanSpool removes spool files left by earlier runs of this process's host (they are ciphertext). */
  async cleanSpool(): Promise<void> {
    await fs.rm(this.spoolDir, { recursive: true, force: true })
  }
}

/** readLines yields the lines of a file, reading it a megabyte at a time. */
async function* readLines(file: string): AsyncGenerator<string> {
  const fh = await fs.open(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(1 << 20)
    let rest = ''
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null)
      if (!bytesRead) break
      const text = rest + buf.toString('utf8', 0, bytesRead)
      const lines = text.split('\n')
      rest = lines.pop()!
      for (const l of lines) if (l) yield l
    }
    if (rest) throw new Error('state file cut short')
  } finally {
    await fh.close()
  }
}
