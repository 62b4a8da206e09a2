// Why: `seb verify` checks what it says it checks (docs/design.md, "Reading"; issue 18): the history's
// signatures; the commit objects from the newest checkpoint to the head, byte for byte against their
// signatures; that the index is the one of the destination's newest commit; every pack the index lists,
// present with its size; every file of every retained snapshot resolving to stored content; and with
// --read-data every pack decrypted and every member hashed through the archive reader restore uses. A
// machine with the public key only runs every check that needs no decryption and says which it could
// not run (the JSON summary lists both).
import { promises as fs } from 'node:fs'
import { DEFAULT_EXCLUDES, makeExcluder } from '../core/excludes.js'
import { getOrCreate } from '../core/maps.js'
import type { Version } from '../core/model.js'
import { encodePath } from '../core/path-bytes.js'
import type { RepoState } from '../core/repo-state.js'
import { checkTools } from '../crypto/gpg.js'
import { canDecrypt } from '../crypto/keyring.js'
import { DamageError, KeyError, UsageError } from '../errors.js'
import { memberHashes, readPack } from '../pack/pack-reader.js'
import { salvagePack } from '../pack/salvage.js'
import { hashFile } from '../pipeline/hash-file.js'
import { scanTree } from '../pipeline/scanner.js'
import { readHistory } from '../repo/history.js'
import { type RepoAccess, withRepository } from '../repo/repository.js'
import { type ProgressSink, silent } from '../ui/progress.js'
import { TaskPool } from '../util/concurrency.js'
import { checkCommitBytes, unresolvedFiles } from './verify-checks.js'

/** VerifyOptions choose what to check. */
export interface VerifyOptions extends RepoAccess {
  readonly readData?: boolean
  /** check only packs n of m (1-based), e.g. {n: 2, m: 7} */
  readonly subset?: { n: number; m: number }
  /** compare this source folder with the latest snapshot */
  readonly against?: string
  readonly excludes?: readonly string[]
  readonly progress?: ProgressSink
}

/**
 * Problem is one damaged object (missing, cut short, corrupt), or one the repository did not write
 * (`untrusted`: a signature object that fails its check), with the files it affects.
 */
export interface Problem {
  readonly kind: 'damaged' | 'untrusted'
  readonly object: string
  readonly message: string
  readonly files: string[]
}

/** VerifyReport is what verify found. */
export interface VerifyReport {
  readonly snapshots: number
  readonly packsChecked: number
  readonly packsRead: number
  readonly filesChecked: number
  readonly problems: Problem[]
  readonly differences: { path: string; change: 'added' | 'changed' | 'missing' }[]
  /** false when the index came from the local cache (no secret key to decrypt the destination's) */
  readonly indexFromDestination: boolean
  /** the checks made, by name (see CHECKS) */
  readonly checked: string[]
  /** the checks this run could not make, and why */
  readonly skipped: { check: string; reason: string }[]
}

/** CHECKS names what verify can check, as its report lists them. */
export const CHECKS = {
  signatures: 'every commit signature verifies with the repository key and the history chains',
  commits: 'the commit objects from the newest checkpoint to the head are the bytes their signatures name',
  index: "the index is the destination's: its commits decrypted and replayed",
  head: "the index is at the destination's newest commit",
  packs: 'every pack the index lists is on the destination with its size',
  files: 'every file of every retained snapshot resolves to stored content in a pack that exists',
  data: 'every pack decrypted and every stored file hashed against the index',
} as const

/** parseSubset reads "N/M" (1 ≤ N ≤ M). */
export function parseSubset(text: string): { n: number; m: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text)
  const n = m ? Number(m[1]) : 0
  const of = m ? Number(m[2]) : 0
  if (!m || of < 1 || n < 1 || n > of)
    throw new UsageError(`--read-data-subset ${text}: give N/M with 1 ≤ N ≤ M, e.g. 3/7`)
  return { n, m: of }
}

/** verify runs the checks and returns what it found (it throws only when it could not check). */
export async function verify(o: VerifyOptions): Promise<VerifyReport> {
  const progress = o.progress ?? silent
  await checkTools()
  // Objects a reader would ignore with a warning are what verify reports.
  return withRepository({ ...o, warn: undefined }, { lock: 'shared', command: 'verify' }, async (repo) => {
    const { ctx } = repo
    // Read the index from the destination itself (not the cache) when this machine can decrypt it.
    const decrypts = await canDecrypt(ctx)
    const loaded = await repo.loadState({ fromDestination: decrypts })
    const { state } = loaded
    const checked: string[] = ['signatures']
    const skipped: VerifyReport['skipped'] = []
    const fromDestination = loaded.rebuilt || !loaded.head
    if (fromDestination) checked.push('index')
    else
      skipped.push({
        check: 'index',
        reason: `the index is this machine's cache at commit ${loaded.head?.name}; decrypting the destination's commits needs the secret key`,
      })
    const problems: Problem[] = [
      ...loaded.history.invalid.map((b) => ({
        kind: 'untrusted' as const,
        object: `sigs/${b.name}`,
        message: `sigs/${b.name} is ${b.reason}: not written by this repository`,
        files: [],
      })),
      ...loaded.damaged.map((d) => ({
        kind: 'damaged' as const,
        object: `commits/${d.name}`,
        message: d.error,
        files: [],
      })),
    ]
    progress({ type: 'phase', phase: 'verify' })
    // The commit objects a rebuild reads, checked against their signatures without decrypting them.
    if (loaded.head) {
      const history = await readHistory(o.storage, {
        repository: repo.config.id,
        signingKey: repo.config.signingKey,
        pin: null,
        toCheckpoint: true,
        signal: o.signal,
      })
      const reported = new Set(loaded.damaged.map((d) => d.name))
      for (const sig of history.fromCheckpoint) {
        const why = await checkCommitBytes(o.storage, sig, o.signal)
        if (why && !reported.has(sig.name))
          problems.push({ kind: 'damaged', object: `commits/${sig.name}`, message: why, files: [] })
      }
    }
    checked.push('commits')
    if (loaded.head && state.seq !== loaded.head.seq && !loaded.damaged.length)
      problems.push({
        kind: 'damaged',
        object: 'index',
        message: `the index is at commit ${state.seq}, the destination's newest commit is ${loaded.head.name}`,
        files: [],
      })
    checked.push('head')
    const listed = new Map<string, number>()
    for await (const p of o.storage.list('pack', o.signal)) listed.set(p.name, p.size)
    const filesOf = filesByPack(state)
    for (const p of state.packs.values()) {
      const size = listed.get(p.id)
      if (size === undefined)
        problems.push({
          kind: 'damaged',
          object: `pack ${p.id}`,
          message: `pack ${p.id} is missing`,
          files: filesOf(p.id),
        })
      else if (size !== p.size)
        problems.push({
          kind: 'damaged',
          object: `pack ${p.id}`,
          message: `pack ${p.id} has ${size} bytes, the index says ${p.size} (truncated or damaged)`,
          files: filesOf(p.id),
        })
    }
    checked.push('packs')
    const unresolved = unresolvedFiles(state, listed)
    const inMissingPacks = new Set(problems.flatMap((p) => (p.object.startsWith('pack ') ? p.files : [])))
    const storedNowhere = unresolved.filter((f) => !inMissingPacks.has(f))
    if (storedNowhere.length)
      problems.push({
        kind: 'damaged',
        object: 'index',
        message: `${storedNowhere.length} file${storedNowhere.length === 1 ? '' : 's'} of retained snapshots ha${storedNowhere.length === 1 ? 's' : 've'} no stored content (in no pack the index and the destination hold)`,
        files: storedNowhere,
      })
    checked.push('files')
    let packsRead = 0
    let filesChecked = 0
    const readData = Boolean(o.readData || o.subset)
    if (readData && !decrypts)
      skipped.push({ check: 'data', reason: 'decrypting the packs needs the secret key (or the passphrase)' })
    else if (!readData) skipped.push({ check: 'data', reason: 'not asked (--read-data)' })
    else {
      checked.push('data')
      const ids = [...state.packs.keys()].sort()
      const chosen = o.subset ? ids.filter((_, i) => i % o.subset!.m === o.subset!.n - 1) : ids
      const expected = new Map<string, Map<number, string>>()
      for (const [hash, loc] of state.blobs) {
        getOrCreate(expected, loc.pack, () => new Map<number, string>()).set(loc.entry, hash)
      }
      const pool = new TaskPool(2)
      for (const id of chosen) {
        if (!listed.has(id)) continue // already reported missing
        await pool.add(async () => {
          const want = expected.get(id) ?? new Map<number, string>()
          const bad: string[] = []
          const read = memberHashes((entry) => want.has(entry))
          try {
            await readPack(o.storage, ctx, id, read.visitor, o.signal)
          } catch (err) {
            if (err instanceof KeyError) throw err
            // Damage costs only what it touches: every content whose bytes still verify is counted as
            // checked (read before the damage, or salvaged from the frames after it).
            const good = new Set<string>()
            for (const [entry, hash] of want) if (read.hashes.get(entry) === hash) good.add(hash)
            const sizes = new Map<string, number>()
            for (const hash of want.values()) sizes.set(hash, state.blobs.get(hash)?.size ?? -1)
            const salvaged = await salvagePack(o.storage, ctx, id, sizes, repo.spoolDir, o.signal)
            for (const hash of salvaged.recovered.keys()) good.add(hash)
            const lost = new Set([...want.values()].filter((h) => !good.has(h)))
            filesChecked += good.size
            const message = err instanceof DamageError ? err.message : String((err as Error).message)
            problems.push({
              kind: 'damaged',
              object: `pack ${id}`,
              message: `${message}; ${good.size} of ${want.size} stored files in it verify (${salvaged.framesLost} of ${salvaged.frames} zstd frames lost)`,
              files: filesWithContent(state, lost),
            })
            return
          } finally {
            packsRead++
          }
          filesChecked += read.hashes.size
          for (const [entry, hash] of want) if (read.hashes.get(entry) !== hash) bad.push(hash)
          if (bad.length)
            problems.push({
              kind: 'damaged',
              object: `pack ${id}`,
              message: `pack ${id}: ${bad.length} stored files do not match the index`,
              files: filesWithContent(state, new Set(bad)),
            })
        })
      }
      await pool.wait()
      // A pack read after its size was found wrong (cut short, or damaged in place): the files it
      // costs are those its reading lost, not every file the index locates in it.
      const read = new Set(
        problems.filter((p) => p.message.includes('zstd frames lost')).map((p) => p.object),
      )
      for (const [i, p] of problems.entries())
        if (read.has(p.object) && p.message.includes('the index says')) problems[i] = { ...p, files: [] }
    }
    const differences = o.against ? await compareWithSource(state, o.against, o.excludes ?? [], o.signal) : []
    return {
      snapshots: state.snapshots.length,
      packsChecked: state.packs.size,
      packsRead,
      filesChecked,
      problems,
      differences,
      indexFromDestination: fromDestination,
      checked,
      skipped,
    }
  })
}

function filesByPack(state: RepoState): (pack: string) => string[] {
  let index: Map<string, Set<string>> | null = null
  return (pack) => {
    if (!index) {
      index = new Map()
      for (const [hash, loc] of state.blobs) {
        getOrCreate(index, loc.pack, () => new Set<string>()).add(hash)
      }
    }
    return filesWithContent(state, index.get(pack) ?? new Set())
  }
}

function filesWithContent(state: RepoState, hashes: Set<string>): string[] {
  const out = new Set<string>()
  const visit = (v: Version) => {
    if (v.kind === 'f' && hashes.has(v.ref)) out.add(v.path)
  }
  for (const v of state.live.values()) visit(v)
  for (const v of state.history) visit(v)
  return [...out].sort()
}

async function compareWithSource(
  state: RepoState,
  source: string,
  excludes: readonly string[],
  signal?: AbortSignal,
): Promise<VerifyReport['differences']> {
  const st = await fs.stat(source).catch(() => null)
  if (!st?.isDirectory()) throw new UsageError(`--against ${source}: not a folder`)
  const latest = state.snapshots[state.snapshots.length - 1]
  const versions = new Map(
    (latest ? state.snapshotVersions(latest.seq) : []).filter((v) => v.kind === 'f').map((v) => [v.path, v]),
  )
  const scan = await scanTree(source, makeExcluder([...DEFAULT_EXCLUDES, ...excludes]), signal)
  const out: VerifyReport['differences'] = []
  const root = Buffer.from(source)
  for (const e of scan.entries) {
    if (e.kind !== 'f') continue
    const v = versions.get(e.path)
    versions.delete(e.path)
    if (!v) {
      out.push({ path: e.path, change: 'added' })
      continue
    }
    if (v.size !== e.size) {
      out.push({ path: e.path, change: 'changed' })
      continue
    }
    let hash: string
    try {
      hash = (await hashFile(Buffer.concat([root, Buffer.from('/'), encodePath(e.path)]))).hash
    } catch {
      continue // vanished or unreadable meanwhile: not a difference we can state
    }
    if (hash !== v.ref) out.push({ path: e.path, change: 'changed' })
  }
  for (const p of versions.keys()) out.push({ path: p, change: 'missing' })
  return out.sort((a, b) => (a.path < b.path ? -1 : 1))
}
