// Why: the repository's whole index as one in-memory value, built by replaying commit records in
// sequence. Backup, restore, verify and compact all read it; only applyCommit changes it, so the local
// cache and a rebuild from the destination always agree. Pure: no I/O.

import { BlobTable } from './blob-table.js'
import type { CommitRecord, WireBlob, WireEntry, WirePack, WireTwin, WireVersion } from './commit-codec.js'
import type { PackInfo, SnapshotInfo, Version } from './model.js'
import { NormTable, type TwinInfo } from './twin-index.js'
import { VersionTable } from './version-table.js'

/**
 * RepoState is the replayed index: packs, where each content lives, every retained version, snapshots.
 * The per-file parts (live versions, blob locations) are compact tables (version-table.ts,
 * blob-table.ts): a million files must fit in a few hundred MB.
 */
export class RepoState {
  /** seq of the last commit applied (0 for an empty repository) */
  seq = 0
  /** seq of the last checkpoint applied (0 when none) */
  checkpointSeq = 0
  readonly packs = new Map<string, PackInfo>()
  readonly blobs: BlobTable
  /** live versions by path (to === 0) */
  readonly live: VersionTable
  /** closed versions (to > 0) kept for history */
  readonly history: Version[] = []
  readonly snapshots: SnapshotInfo[] = []
  /** normalized hash (without sync-tool noise) → stored content, for contents that have noise */
  readonly norms = new NormTable()
  /** twins: hash → the stored content it is rebuilt from, and the patch (docs/design.md) */
  readonly twins = new Map<string, TwinInfo>()

  /** A new state is empty, or starts from tables loaded in bulk (the cache's state file). */
  constructor(tables?: { live: VersionTable; blobs: BlobTable }) {
    this.live = tables?.live ?? new VersionTable()
    this.blobs = tables?.blobs ?? new BlobTable()
  }

  /** applyCommit replays one commit record; commits must come in sequence. */
  applyCommit(c: CommitRecord): void {
    if (c.kind === 'checkpoint') {
      this.beginCheckpoint(c.seq)
      this.live.reserve(c.versions.length)
      this.reserveBlobs(c.packs)
      for (const v of c.versions) this.loadVersion(...v)
      for (const p of c.packs) this.addPack(p, c.seq)
      for (const t of c.twins ?? []) this.addTwin(...t)
      this.snapshots.push(...c.snapshots)
      this.endCommit(c.seq, null, [], [])
      return
    }
    this.beginDelta(c.seq)
    this.live.reserve(this.live.size + c.add.length)
    this.reserveBlobs(c.packs)
    for (const path of c.del) this.deleteEntry(path, c.seq)
    // Onto an empty tree (a first backup, or the first commit of a replay) nothing is closed: 87,000
    // lookups saved. A path added twice still ends as its last version, set over the first.
    const replacing = this.live.size > 0
    for (const e of c.add) this.addEntry(e, c.seq, replacing)
    // Packs after the versions, so that their tar paths share the versions' strings.
    for (const p of c.packs) this.addPack(p, c.seq)
    for (const t of c.twins ?? []) this.addTwin(...t)
    this.endCommit(c.seq, c.snapshot, c.dropPacks, c.forget)
  }

  /** beginCheckpoint starts replaying a checkpoint: the state is replaced by what follows. */
  beginCheckpoint(seq: number): void {
    this.packs.clear()
    this.blobs.clear()
    this.live.clear()
    this.history.length = 0
    this.snapshots.length = 0
    this.norms.clear()
    this.twins.clear()
    this.checkpointSeq = seq
  }

  /** beginDelta starts replaying a delta, which must follow the last commit applied. */
  beginDelta(seq: number): void {
    if (seq !== this.seq + 1) throw new Error(`commit ${seq} does not follow commit ${this.seq}`)
  }

  /** deleteEntry closes the live version of `path` at commit `seq`. */
  deleteEntry(path: string, seq: number): void {
    this.close(path, seq)
  }

  /** addEntry opens a version at commit `seq` (closing the live one first when `replacing`). */
  addEntry([path, kind, ref, size, mtimeMs, mode]: WireEntry, seq: number, replacing = true): void {
    if (replacing) this.close(path, seq)
    this.live.set(path, { path, kind, ref, size, mtimeMs, mode, from: seq, to: 0 })
  }

  /** addPackInfo records a pack (added, or re-sized by key rotation) at commit `seq`. */
  addPackInfo(id: string, size: number, contentBytes: number, seq: number): void {
    this.packs.set(id, { id, size, seq, contentBytes })
  }

  /**
   * addBlob records where a content is stored; its tar path shares the live version's string. `norm`
   * is its SHA-256 without sync-tool noise lines, when it has some.
   */
  addBlob(hash: string, pack: string, size: number, tarPath: string, entry: number, norm?: string): void {
    this.blobs.set(hash, { pack, entry, size, tarPath: this.live.canonicalPath(tarPath) ?? tarPath })
    if (norm !== undefined && norm !== hash) this.norms.set(norm, hash)
  }

  /** addTwin records a twin of the stored content `base` (ignored when `hash` is stored itself). */
  addTwin(hash: string, size: number, base: string, patch: string): void {
    if (hash !== base && !this.blobs.has(hash)) this.twins.set(hash, { size, base, patch })
  }

  /** hasContent says whether a content is in the repository: stored, or a twin of a stored one. */
  hasContent(hash: string): boolean {
    return this.blobs.has(hash) || this.twins.has(hash)
  }

  /** twinBaseFor is the stored content a file with normalized hash `norm` is a twin of, if any. */
  twinBaseFor(norm: string): string | undefined {
    return this.norms.get(norm) ?? (this.blobs.has(norm) ? norm : undefined)
  }

  /** wireTwins lists the twins whose base is stored, for a checkpoint. */
  *wireTwins(): Generator<WireTwin> {
    for (const [hash, t] of this.twins) if (this.blobs.has(t.base)) yield [hash, t.size, t.base, t.patch]
  }

  /** endCommit finishes a commit: packs dropped, snapshots forgotten, its own snapshot recorded. */
  endCommit(
    seq: number,
    snapshot: SnapshotInfo | null,
    dropPacks: readonly string[],
    forget: readonly number[],
  ): void {
    if (dropPacks.length) {
      const dropped = new Set(dropPacks)
      for (const id of dropped) this.packs.delete(id)
      for (const [hash, loc] of this.blobs) if (dropped.has(loc.pack)) this.blobs.delete(hash)
      // A twin lives as long as its base: dropped with it (docs/design.md, "The index as a value").
      this.norms.retain((base) => this.blobs.has(base))
      for (const [hash, t] of this.twins) if (!this.blobs.has(t.base)) this.twins.delete(hash)
    }
    if (forget.length) this.forget(new Set(forget))
    if (snapshot) this.snapshots.push(snapshot)
    this.seq = seq
  }

  /** loadVersion adds one version while loading a saved state (the local cache), line by line. */
  loadVersion(...[path, kind, ref, size, mtimeMs, mode, from, to]: WireVersion): void {
    const v: Version = { path, kind, ref, size, mtimeMs, mode, from, to }
    if (to === 0) this.live.set(path, v)
    else this.history.push(v)
  }

  /** loadPack adds one pack while loading a saved state. */
  loadPack(id: string, size: number, seq: number, contentBytes: number): void {
    this.packs.set(id, { id, size, seq, contentBytes })
  }

  /** loadBlob adds one blob location while loading a saved state (as addBlob). */
  loadBlob(hash: string, pack: string, size: number, tarPath: string, entry: number, norm?: string): void {
    this.addBlob(hash, pack, size, tarPath, entry, norm)
  }

  private reserveBlobs(packs: readonly WirePack[]): void {
    let n = this.blobs.size
    for (const p of packs) n += p[3].length
    this.blobs.reserve(n)
  }

  private addPack(p: WirePack, seq: number): void {
    const [id, size, contentBytes, blobs] = p
    this.addPackInfo(id, size, contentBytes, seq)
    for (const [hash, bsize, tarPath, entry, norm] of blobs)
      this.addBlob(hash, id, bsize, tarPath, entry, norm)
  }

  private close(path: string, seq: number): void {
    const v = this.live.get(path)
    if (!v) return
    this.live.delete(path)
    v.to = seq
    if (v.from < seq) this.history.push(v)
  }

  /** forget drops snapshots and the closed versions no retained snapshot can see any more. */
  private forget(seqs: Set<number>): void {
    const kept = this.snapshots.filter((s) => !seqs.has(s.seq))
    this.snapshots.length = 0
    this.snapshots.push(...kept)
    const keptSeqs = kept.map((s) => s.seq)
    const visible = (v: Version) => keptSeqs.some((s) => v.from <= s && s < v.to)
    const history = this.history.filter(visible)
    this.history.length = 0
    this.history.push(...history)
  }

  /**
   * snapshotVersions returns the versions that made up the tree at commit `seq`, sorted by path unless
   * `sorted` is false (restore needs no order, and sorting 87,000 paths took 60 ms of its start).
   */
  snapshotVersions(seq: number, sorted = true): Version[] {
    const out: Version[] = []
    for (const v of this.live.values()) if (v.from <= seq) out.push(v)
    for (const v of this.history) if (v.from <= seq && seq < v.to) out.push(v)
    return sorted ? out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) : out
  }

  /** findSnapshot resolves a snapshot by id (or unique id prefix), or 'latest'. */
  findSnapshot(id: string): SnapshotInfo | undefined {
    if (id === 'latest') return this.snapshots[this.snapshots.length - 1]
    const hits = this.snapshots.filter((s) => s.id.startsWith(id))
    return hits.length === 1 ? hits[0] : undefined
  }

  /** referencedHashes returns every content hash a retained version needs (twins: their base too). */
  referencedHashes(): Set<string> {
    const out = new Set<string>()
    for (const v of this.live.values()) if (v.kind === 'f') out.add(v.ref)
    for (const v of this.history) if (v.kind === 'f') out.add(v.ref)
    return this.withTwinBases(out)
  }

  /** withTwinBases adds to a set of content hashes the base of every twin in it. */
  withTwinBases(hashes: Set<string>): Set<string> {
    if (this.twins.size) for (const [hash, t] of this.twins) if (hashes.has(hash)) hashes.add(t.base)
    return hashes
  }

  /** normsByBase maps each stored content with noise to its normalized hash (for a checkpoint's b lines). */
  normsByBase(): Map<string, string> {
    const out = new Map<string, string>()
    for (const [norm, base] of this.norms.entries()) out.set(base, norm)
    return out
  }

  /** checkpointLists exports the whole state as the lists of a checkpoint commit. */
  checkpointLists(): Pick<CommitRecord, 'packs' | 'versions' | 'snapshots' | 'twins'> {
    const byPack = new Map<string, WireBlob[]>()
    const norms = this.normsByBase()
    for (const id of this.packs.keys()) byPack.set(id, [])
    for (const [hash, loc] of this.blobs) {
      const norm = norms.get(hash)
      byPack
        .get(loc.pack)
        ?.push(
          norm ? [hash, loc.size, loc.tarPath, loc.entry, norm] : [hash, loc.size, loc.tarPath, loc.entry],
        )
    }
    const packs: WirePack[] = [...this.packs.values()].map((p) => [
      p.id,
      p.size,
      p.contentBytes,
      byPack.get(p.id) ?? [],
    ])
    const versions: WireVersion[] = []
    for (const v of [...this.live.values(), ...this.history])
      versions.push([v.path, v.kind, v.ref, v.size, v.mtimeMs, v.mode, v.from, v.to])
    return { packs, versions, snapshots: [...this.snapshots], twins: [...this.wireTwins()] }
  }
}
