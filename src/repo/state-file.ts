// Why: the local cache's state file is read by every run, and as JSON lines (one per version, blob and
// fact) it took 0.8 s at 87,000 files and 10.5 s at a million, most of a run with nothing changed and
// of a restore's start. This is the same content in the in-memory tables' own shape: one JSON header
// (everything that is text, the paths as one string) followed by the numeric columns as raw bytes, so
// loading is one JSON.parse, a split, and a read per column.
import { promises as fs } from 'node:fs'
import { BlobTable } from '../core/blob-table.js'
import type { WireTwin, WireVersion } from '../core/commit-codec.js'
import { FactsTable } from '../core/facts-table.js'
import type { SnapshotInfo } from '../core/model.js'
import { RepoState } from '../core/repo-state.js'
import { VersionTable } from '../core/version-table.js'

/**
 * STATE_MAGIC starts a binary state file (version 5 of the cache's state: format-2 repositories, with
 * twins). Version 4 (before twins) is still read, as a state without twins: nothing wrote any then.
 */
export const STATE_MAGIC = Buffer.from('SEBSTAT5')
const STATE_MAGIC_4 = Buffer.from('SEBSTAT4')

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
  /** live paths joined by NUL (no name holds one) */
  paths: string
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

/** indexInto names each path by its index in `index`, or -1 with the path in `others`. */
function indexInto(index: ReadonlyMap<string, number>, paths: readonly string[]) {
  const out = { index: new Int32Array(paths.length), others: [] as [number, string][] }
  paths.forEach((p, i) => {
    const at = index.get(p)
    out.index[i] = at ?? -1
    if (at === undefined) out.others.push([i, p])
  })
  return out
}

/** encodeState lays out the state and facts as a state file, in pieces (written one after another). */
export function encodeState(commit: string, state: RepoState, facts: FactsTable): Uint8Array[] {
  const live = state.live.exportColumns()
  const index = new Map<string, number>()
  for (let i = 0; i < live.paths.length; i++) index.set(live.paths[i]!, i)
  const blobs = state.blobs.exportColumns()
  const tar = indexInto(index, blobs.tarPaths)
  const f = facts.exportColumns()
  const fact = indexInto(index, f.paths)
  const norms = state.norms.exportColumns()
  const header: Header = {
    v: 5,
    commit,
    seq: state.seq,
    checkpointSeq: state.checkpointSeq,
    snapshots: state.snapshots,
    packs: [...state.packs.values()].map((p) => [p.id, p.size, p.seq, p.contentBytes]),
    history: state.history.map((v) => [v.path, v.kind, v.ref, v.size, v.mtimeMs, v.mode, v.from, v.to]),
    paths: live.paths.join('\0'),
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
  return [
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
}

/**
 * readState reads a state file, each column straight into its own typed array (the file is never held
 * whole: at a million files it is 230 MB); null when it is not one, or not exactly as long as its
 * header says (cut short by a crash: the cache is then rebuilt).
 */
export async function readState(file: string): Promise<StateFile | null> {
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
    const v4 = start.subarray(0, 8).equals(STATE_MAGIC_4)
    if (!v4 && !start.subarray(0, 8).equals(STATE_MAGIC)) return null
    const jsonLength = start.readUInt32LE(8)
    if (12 + jsonLength > size) return null
    const h = JSON.parse((await read(Buffer.alloc(jsonLength))).toString('utf8')) as Header
    if (h?.v !== (v4 ? 4 : 5)) return null
    if (v4) {
      h.normCount = 0
      h.twins = []
    }
    const paths = h.paths ? h.paths.split('\0') : []
    const n = paths.length
    const m = h.blobCount
    const k = h.factCount
    const q = h.normCount
    if (size !== at + n * (1 + 4 + 4 + 8 + 8 + 32) + m * (32 + 4 + 4 + 8 + 4) + k * (4 + 32) + q * 64)
      return null
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
    const factIndex = await read(new Int32Array(k))
    const factPaths = new Array<string>(k)
    for (let i = 0; i < k; i++) factPaths[i] = paths[factIndex[i]!]!
    for (const [i, p] of h.otherFactPaths) factPaths[i] = p
    const facts = FactsTable.fromColumns(factPaths, await read(new Float64Array(4 * k)))
    const state = new RepoState({ live, blobs })
    state.norms.loadColumns({
      norms: await read(new Uint8Array(32 * q)),
      bases: await read(new Uint8Array(32 * q)),
    })
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
