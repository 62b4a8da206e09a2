// Why: the local cache's state file is read by every run, and as JSON lines (one per version, blob and
// fact) it took 0.8 s at 87,000 files and 10.5 s at a million, most of a run with nothing changed and
// of a restore's start. This is the same content in the in-memory tables' own shape: one JSON header
// (everything that is text, the paths as one string) followed by the numeric columns as raw bytes, so
// loading is one JSON.parse, a split, and a read per column.
import { promises as fs } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { BlobTable } from '../core/blob-table.js'
import type { WireTwin, WireVersion } from '../core/commit-codec.js'
import { FactsTable } from '../core/facts-table.js'
import type { SnapshotInfo } from '../core/model.js'
import { RepoState } from '../core/repo-state.js'
import { VersionTable } from '../core/version-table.js'

/**
 * STATE_MAGIC starts a binary state file (version 5 of the cache's state: format-2 repositories, with
 * twins; the live paths are raw UTF-8 after the columns, not a string inside the JSON header). Version 4
 * (before twins) is still read, as a state without twins: nothing wrote any then.
 */
export const STATE_MAGIC = Buffer.from('SEBSTAT5')
const STATE_MAGIC_4 = Buffer.from('SEBSTAT4')
/** paths are written this many at a time (a few hundred kB): never the whole list as one string */
const PATHS_PER_PIECE = 4096
const LONE_SURROGATE = /\p{Cs}/u

interface Header {
  v: 4 | 5
  commit: string
  seq: number
  checkpointSeq: number
  snapshots: SnapshotInfo[]
  /** [id, size, seq, contentBytes] */
  packs: [string, number, number, number][]
  /** closed versions, kept for history */
  history: WireVersion[]
  /** v4, or v5 when a path is not well-formed UTF-16 (a name with bytes that are not UTF-8): live paths joined by NUL (no name holds one) */
  paths?: string
  /** v5: the number of live paths; their UTF-8, joined by NUL, is the rest of the file after the columns */
  pathCount?: number
  /** v5: the length of that UTF-8 */
  pathBytes?: number
  otherRefs: [number, string][]
  blobCount: number
  blobPacks: string[]
  otherKeys: [number, string][]
  /** blobs whose tar path is not a live path: [blob index, tar path] */
  otherTarPaths: [number, string][]
  factCount: number
  /** facts of paths that are not live: [fact index, path] */
  otherFactPaths: [number, string][]
  /** pairs (normalized hash → stored hash) in the columns */
  normCount: number
  /** twins: [hash, size, base, patch] */
  twins: WireTwin[]
}

/** StateFile is what a state file holds. */
export interface StateFile {
  readonly commit: string
  readonly state: RepoState
  readonly facts: FactsTable
}

/**
 * indexInto names each path by its position among the live paths (`pos` by the live table's row), or
 * -1 with the path in `others`. The live table's own Map finds the row: no second Map of a million paths.
 */
function indexInto(live: VersionTable, pos: Int32Array | null, paths: readonly string[]) {
  const out = { index: new Int32Array(paths.length), others: [] as [number, string][] }
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!
    const r = live.rowIndex(p)
    out.index[i] = r < 0 ? -1 : pos ? pos[r]! : r
    if (r < 0) out.others.push([i, p])
  }
  return out
}

/**
 * encodeState lays out the state and facts as a state file, in pieces made as they are written: the
 * paths go a few thousand at a time (at a million files, the paths joined and then quoted as JSON were
 * some 180 MB of transient strings and buffers at the commit, where a first backup peaks).
 */
export function* encodeState(commit: string, state: RepoState, facts: FactsTable): Generator<Uint8Array> {
  const live = state.live.exportColumns()
  const pos = liveRowsAsPositions(state.live, live.paths)
  const blobs = state.blobs.exportColumns()
  const tar = indexInto(state.live, pos, blobs.tarPaths)
  const f = facts.exportColumns()
  const fact = indexInto(state.live, pos, f.paths)
  const norms = state.norms.exportColumns()
  // Paths that are not well-formed UTF-16 (names with bytes that are not UTF-8, held as lone
  // surrogates) would not survive UTF-8: such a state keeps them in the header, as version 4 did.
  const raw = !live.paths.some((p) => LONE_SURROGATE.test(p))
  const header: Header = {
    v: 5,
    commit,
    seq: state.seq,
    checkpointSeq: state.checkpointSeq,
    snapshots: state.snapshots,
    packs: [...state.packs.values()].map((p) => [p.id, p.size, p.seq, p.contentBytes]),
    history: state.history.map((v) => [v.path, v.kind, v.ref, v.size, v.mtimeMs, v.mode, v.from, v.to]),
    ...(raw
      ? { pathCount: live.paths.length, pathBytes: utf8Length(live.paths) }
      : { paths: live.paths.join('\0') }),
    otherRefs: live.otherRefs,
    blobCount: blobs.tarPaths.length,
    blobPacks: blobs.packIds,
    otherKeys: blobs.otherKeys,
    otherTarPaths: tar.others,
    factCount: f.paths.length,
    otherFactPaths: fact.others,
    normCount: norms.norms.length / 32,
    twins: [...state.wireTwins()],
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8')
  const length = Buffer.alloc(4)
  length.writeUInt32LE(json.length)
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
  yield* [
    STATE_MAGIC,
    length,
    json,
    bytes(live.kinds),
    bytes(live.modes),
    bytes(live.froms),
    bytes(live.sizes),
    bytes(live.mtimes),
    live.refs,
    blobs.hashes,
    bytes(blobs.packOf),
    bytes(blobs.entryOf),
    bytes(blobs.sizeOf),
    bytes(tar.index),
    bytes(fact.index),
    bytes(f.numbers),
    norms.norms,
    norms.bases,
  ]
  if (!raw) return
  const n = live.paths.length
  for (let i = 0; i < n; i += PATHS_PER_PIECE) {
    const piece = live.paths.slice(i, Math.min(n, i + PATHS_PER_PIECE)).join('\0')
    yield Buffer.from(i + PATHS_PER_PIECE < n ? `${piece}\0` : piece, 'utf8')
  }
}

/** utf8Length is the length of `paths` as UTF-8 joined by NUL. */
function utf8Length(paths: readonly string[]): number {
  let n = paths.length ? paths.length - 1 : 0
  for (const p of paths) n += Buffer.byteLength(p, 'utf8')
  return n
}

/** liveRowsAsPositions is null for a dense table (a row is its position), else each row's position. */
function liveRowsAsPositions(live: VersionTable, paths: readonly string[]): Int32Array | null {
  if (live.isDense) return null
  const pos = new Int32Array(live.rowCount)
  for (let i = 0; i < paths.length; i++) pos[live.rowIndex(paths[i]!)] = i
  return pos
}

/** PATH_CHUNK is how much of the paths readPaths reads at a time. */
const PATH_CHUNK = 64 * 1024

/**
 * readPaths reads `length` bytes of UTF-8 paths joined by NUL at `at`, a piece at a time. Read as one
 * Buffer, those bytes (6.7 MB at 87,000 files) stayed in memory as garbage through a whole restore,
 * until V8 next collected in full.
 */
async function readPaths(fh: FileHandle, at: number, length: number): Promise<string[]> {
  const chunk = Buffer.allocUnsafe(Math.min(length, PATH_CHUNK))
  const decoder = new TextDecoder('utf-8')
  const paths: string[] = []
  let carry = ''
  for (let done = 0; done < length; ) {
    const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, length - done), at + done)
    if (!bytesRead) throw new Error('state file cut short')
    done += bytesRead
    const parts = (carry + decoder.decode(chunk.subarray(0, bytesRead), { stream: done < length })).split(
      '\0',
    )
    carry = parts.pop()!
    for (const p of parts) paths.push(p)
  }
  paths.push(carry)
  return paths
}

/**
 * readState reads a state file, each column straight into its own typed array (the file is never held
 * whole: at a million files it is 230 MB); null when it is not one, or not exactly as long as its
 * header says (cut short by a crash: the cache is then rebuilt). `lean` leaves out what only a backup
 * uses, the local facts and the normalized hashes of stored content with noise (about 10 MiB at 87,000
 * files): a reader's state, never to be saved or built on.
 */
export async function readState(file: string, o: { lean?: boolean } = {}): Promise<StateFile | null> {
  const fh = await fs.open(file, 'r')
  try {
    const size = (await fh.stat()).size
    let at = 0
    const read = async <T extends ArrayBufferView>(into: T): Promise<T> => {
      const view = new Uint8Array(into.buffer, into.byteOffset, into.byteLength)
      let got = 0
      while (got < view.length) {
        const { bytesRead } = await fh.read(view, got, view.length - got, at + got)
        if (!bytesRead) throw new Error('state file cut short')
        got += bytesRead
      }
      at += view.length
      return into
    }
    if (size < 12) return null
    const start = await read(Buffer.alloc(12))
    const v5 = start.subarray(0, 8).equals(STATE_MAGIC)
    if (!v5 && !start.subarray(0, 8).equals(STATE_MAGIC_4)) return null
    const jsonLength = start.readUInt32LE(8)
    if (12 + jsonLength > size) return null
    const h = JSON.parse((await read(Buffer.alloc(jsonLength))).toString('utf8')) as Header
    if (h?.v !== (v5 ? 5 : 4)) return null
    if (!v5) {
      h.normCount = 0
      h.twins = []
    }
    const inHeader = typeof h.paths === 'string'
    const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0
    if (!inHeader && !(v5 && count(h.pathCount) && count(h.pathBytes))) return null
    if (!count(h.normCount)) return null
    let paths: string[] = inHeader ? (h.paths ? h.paths.split('\0') : []) : []
    const n = inHeader ? paths.length : h.pathCount!
    const m = h.blobCount
    const k = h.factCount
    const q = h.normCount
    const columns = at + n * (1 + 4 + 4 + 8 + 8 + 32) + m * (32 + 4 + 4 + 8 + 4) + k * (4 + 32) + q * 64
    if (size !== columns + (inHeader ? 0 : h.pathBytes!)) return null
    if (!inHeader && n) {
      // Read ahead of the columns (the table is keyed by them), then come back.
      const columnsAt = at
      at = columns
      paths = await readPaths(fh, columns, size - columns)
      if (paths.length !== n) return null
      at = columnsAt
    }
    const live = VersionTable.fromColumns({
      paths,
      kinds: await read(new Uint8Array(n)),
      modes: await read(new Uint32Array(n)),
      froms: await read(new Uint32Array(n)),
      sizes: await read(new Float64Array(n)),
      mtimes: await read(new Float64Array(n)),
      refs: await read(new Uint8Array(32 * n)),
      otherRefs: h.otherRefs,
    })
    const hashes = await read(new Uint8Array(32 * m))
    const packOf = await read(new Int32Array(m))
    const entryOf = await read(new Int32Array(m))
    const sizeOf = await read(new Float64Array(m))
    const tarIndex = await read(new Int32Array(m))
    const tarPaths = new Array<string>(m)
    for (let i = 0; i < m; i++) tarPaths[i] = paths[tarIndex[i]!]!
    for (const [i, p] of h.otherTarPaths) tarPaths[i] = p
    const blobs = BlobTable.fromColumns({
      hashes,
      otherKeys: h.otherKeys,
      packIds: h.blobPacks,
      packOf,
      entryOf,
      sizeOf,
      tarPaths,
    })
    const state = new RepoState({ live, blobs })
    let facts = new FactsTable()
    // The facts and the normalized hashes are the last columns, and only a backup uses them.
    if (!o.lean) {
      const factIndex = await read(new Int32Array(k))
      const factPaths = new Array<string>(k)
      for (let i = 0; i < k; i++) factPaths[i] = paths[factIndex[i]!]!
      for (const [i, p] of h.otherFactPaths) factPaths[i] = p
      facts = FactsTable.fromColumns(factPaths, await read(new Float64Array(4 * k)))
      state.norms.loadColumns({
        norms: await read(new Uint8Array(32 * q)),
        bases: await read(new Uint8Array(32 * q)),
      })
    }
    for (const t of h.twins) state.addTwin(...t)
    for (const [id, size, seq, contentBytes] of h.packs) state.loadPack(id, size, seq, contentBytes)
    for (const v of h.history) state.loadVersion(...v)
    state.seq = h.seq
    state.checkpointSeq = h.checkpointSeq
    state.snapshots.push(...h.snapshots)
    return { commit: h.commit, state, facts }
  } finally {
    await fh.close()
  }
}
