// Why: a format-2 commit record is JSON lines (docs/design.md, "Commit record"), so that a commit is
// written straight from the index's tables and read back into them a line at a time: a checkpoint of a
// million files is never held whole, in either direction. This module is that codec: the lines of a
// delta (from a run's changes) and of a checkpoint (from the whole state), and the applier that
// validates each line and applies it to a RepoState. Pure.
import {
  BadCommit,
  type CommitRecord,
  check,
  checkEntry,
  checkSnapshot,
  FORMAT_VERSION,
  headerTexts,
  isCount,
  type WireEntry,
  type WireHeaders,
} from './commit-codec.js'
import { isHexHash } from './hash-column.js'
import { BadPatchError, decodePatch } from './header-noise.js'
import { MAX_HEADER_CHARS } from './mail-headers.js'
import type { SnapshotInfo } from './model.js'
import { isSafeRelativePath } from './path-bytes.js'
import type { RepoState } from './repo-state.js'

/** MAX_LINE is the longest line a reader accepts (a path is at most 4 KiB; a snapshot a few hundred bytes). */
export const MAX_LINE = 1024 * 1024

/** CommitHeader is a record's first line. */
export interface CommitHeader {
  readonly seb: number
  readonly repository: string
  readonly kind: 'delta' | 'checkpoint'
  readonly seq: number
  readonly time: string
  readonly snapshot: SnapshotInfo | null
}

const json = (v: unknown) => JSON.stringify(v)

/** deltaLines yields the lines of a delta record (its header first, its count last). */
export function* deltaLines(record: CommitRecord, repository: string): Generator<string> {
  let n = 0
  const line = (v: unknown) => {
    n++
    return json(v)
  }
  yield json(header(record, repository))
  for (const p of record.del) yield line(['d', p])
  for (const e of record.add) yield line(['a', ...e])
  for (const [id, size, contentBytes, blobs] of record.packs) {
    yield line(['p', id, size, contentBytes])
    for (const b of blobs) yield line(['b', ...b])
  }
  for (const t of record.twins ?? []) yield line(['t', ...t])
  // A header's JSON text is `[<hash>,…]`: its line is the same text after the tag.
  if (record.headers)
    for (const t of headerTexts(record.headers)) {
      n++
      yield `["h",${t.slice(1)}`
    }
  for (const id of record.dropPacks) yield line(['x', id])
  for (const s of record.forget) yield line(['f', s])
  yield json(['e', n])
}

/**
 * checkpointLines yields the lines of a checkpoint of `state` (every retained version, pack, content,
 * twin and snapshot), made straight from its tables, with the search headers `headers` gives (those of
 * the contents the state keeps: the caller has them, the state does not).
 */
export function* checkpointLines(
  state: RepoState,
  h: { repository: string; seq: number; time: string; snapshot: SnapshotInfo | null },
  headers: Iterable<WireHeaders> = [],
): Generator<string> {
  let n = 0
  const line = (v: unknown) => {
    n++
    return json(v)
  }
  yield json({
    seb: FORMAT_VERSION,
    repository: h.repository,
    kind: 'checkpoint',
    seq: h.seq,
    time: h.time,
    snapshot: h.snapshot,
  })
  for (const v of state.live.values())
    yield line(['v', v.path, v.kind, v.ref, v.size, v.mtimeMs, v.mode, v.from, v.to])
  for (const v of state.history)
    yield line(['v', v.path, v.kind, v.ref, v.size, v.mtimeMs, v.mode, v.from, v.to])
  const byPack = new Map<string, number[]>()
  const blobs = state.blobs.exportColumns()
  for (const id of state.packs.keys()) byPack.set(id, [])
  for (let i = 0; i < blobs.packOf.length; i++) byPack.get(blobs.packIds[blobs.packOf[i]!]!)?.push(i)
  const norms = state.normsByBase()
  const other = new Map(blobs.otherKeys)
  const hashAt = (i: number) =>
    other.get(i) ?? Buffer.from(blobs.hashes.buffer, blobs.hashes.byteOffset + 32 * i, 32).toString('hex')
  for (const p of state.packs.values()) {
    yield line(['p', p.id, p.size, p.contentBytes])
    for (const i of byPack.get(p.id) ?? []) {
      const hash = hashAt(i)
      const b = ['b', hash, blobs.sizeOf[i], blobs.tarPaths[i], blobs.entryOf[i]]
      const norm = norms.get(hash)
      yield line(norm ? [...b, norm] : b)
    }
  }
  for (const [hash, size, base, patch] of state.wireTwins())
    yield line(['t', hash, size, shortBase(state, base), patch])
  for (const hl of headers) yield line(['h', ...hl])
  for (const s of state.snapshots) yield line(['s', s])
  yield json(['e', n])
}

function header(record: CommitRecord, repository: string): CommitHeader {
  return {
    seb: FORMAT_VERSION,
    repository,
    kind: record.kind,
    seq: record.seq,
    time: record.time,
    snapshot: record.snapshot,
  }
}

/**
 * CommitApplier applies a record's lines, in order, to a state: `line` for each, then `end`. Every line
 * is validated before it changes anything; a malformed one throws BadCommit (the commit is then
 * damaged: its authenticated bytes say something seb would not write).
 */
export class CommitApplier {
  private head: CommitHeader | null = null
  private lines = 0
  private pack: string | null = null
  private replacing = false
  private readonly drops: string[] = []
  private readonly forgets: number[] = []
  private ended = false

  /**
   * `onHeaders` receives the record's search headers (`h` lines), which are not part of the state; a
   * checkpoint first calls it with null (what came before is replaced).
   */
  constructor(
    private readonly state: RepoState,
    private readonly expect: { readonly repository: string; readonly seq: number },
    private readonly onHeaders?: (h: WireHeaders | null) => void,
  ) {}

  /** kind is the record's kind, once its header is read. */
  get kind(): 'delta' | 'checkpoint' | null {
    return this.head?.kind ?? null
  }

  /** line applies one line of the record. */
  line(text: string): void {
    check(!this.ended, 'lines after the end')
    check(text.length <= MAX_LINE, 'a line is too long')
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      throw new BadCommit('malformed commit record: a line is not JSON')
    }
    if (!this.head) {
      this.start(v as CommitHeader)
      return
    }
    check(Array.isArray(v) && typeof v[0] === 'string', 'a line is not a tagged list')
    const l = v as unknown[]
    const delta = this.head.kind === 'delta'
    const seq = this.head.seq
    if (l[0] !== 'e') this.lines++
    switch (l[0]) {
      case 'd':
        check(
          delta && l.length === 2 && typeof l[1] === 'string' && isSafeRelativePath(l[1]),
          'bad deleted path',
        )
        this.state.deleteEntry(l[1] as string, seq)
        return
      case 'a':
        check(delta && l.length === 7, 'bad added entry')
        checkEntry(l.slice(1))
        this.state.addEntry(l.slice(1) as WireEntry, seq, this.replacing)
        return
      case 'v':
        check(!delta && l.length === 9, 'bad version')
        checkEntry(l.slice(1, 7))
        check(
          isCount(l[7]) && isCount(l[8]) && (l[8] === 0 || (l[7] as number) < (l[8] as number)),
          'bad version range',
        )
        this.state.loadVersion(...(l.slice(1) as Parameters<RepoState['loadVersion']>))
        return
      case 'p':
        check(l.length === 4 && isHexHash(l[1]) && isCount(l[2]) && isCount(l[3]), 'bad pack')
        this.pack = l[1] as string
        this.state.addPackInfo(l[1] as string, l[2] as number, l[3] as number, seq)
        return
      case 'b':
        check(this.pack !== null, 'a content before any pack')
        check(
          (l.length === 5 || l.length === 6) &&
            isHexHash(l[1]) &&
            isCount(l[2]) &&
            typeof l[3] === 'string' &&
            isSafeRelativePath(l[3]) &&
            isCount(l[4]) &&
            (l.length === 5 || isHexHash(l[5])),
          'bad content',
        )
        this.state.addBlob(
          l[1] as string,
          this.pack!,
          l[2] as number,
          l[3] as string,
          l[4] as number,
          l[5] as string | undefined,
        )
        return
      case 't': {
        check(
          l.length === 5 && isHexHash(l[1]) && isCount(l[2]) && typeof l[3] === 'string' && isPatch(l[4]),
          'bad twin',
        )
        // The base is named by its hash, or by a prefix of it that names one stored content.
        const base = isHexHash(l[3]) ? l[3] : this.state.blobs.findPrefix(l[3] as string)
        check(base !== null, 'a twin of no stored content')
        this.state.addTwin(l[1] as string, l[2] as number, base, l[4] as string)
        return
      }
      case 'h':
        check(isHeaderLine(l), 'bad search headers')
        this.onHeaders?.(l.slice(1) as WireHeaders)
        return
      case 'x':
        check(delta && l.length === 2 && isHexHash(l[1]), 'bad dropped pack')
        this.drops.push(l[1] as string)
        return
      case 'f':
        check(delta && l.length === 2 && isCount(l[1]), 'bad forgotten snapshot')
        this.forgets.push(l[1] as number)
        return
      case 's':
        check(!delta && l.length === 2, 'bad snapshot')
        checkSnapshot(l[1] as SnapshotInfo)
        this.state.snapshots.push(l[1] as SnapshotInfo)
        return
      case 'e':
        check(
          l.length === 2 && l[1] === this.lines,
          `the record ends after ${this.lines} lines, not ${String(l[1])}`,
        )
        this.ended = true
        return
      default:
        throw new BadCommit(`malformed commit record: unknown line ${JSON.stringify(l[0]).slice(0, 20)}`)
    }
  }

  private start(h: CommitHeader): void {
    check(typeof h === 'object' && h !== null, 'no header')
    check(
      h.seb === FORMAT_VERSION,
      `format ${String(h.seb)} is not supported (this seb reads ${FORMAT_VERSION})`,
    )
    check(h.repository === this.expect.repository, 'the record belongs to another repository')
    check(h.kind === 'delta' || h.kind === 'checkpoint', 'bad kind')
    check(h.seq === this.expect.seq, `the record is commit ${String(h.seq)}, not ${this.expect.seq}`)
    check(typeof h.time === 'string' && h.time.length < 64, 'bad time')
    if (h.snapshot !== null) checkSnapshot(h.snapshot)
    this.head = h
    if (h.kind === 'checkpoint') {
      this.state.beginCheckpoint(h.seq)
      this.onHeaders?.(null)
    } else {
      this.state.beginDelta(h.seq)
      // Onto an empty tree nothing is closed (a first backup: 87,000 lookups saved).
      this.replacing = this.state.live.size > 0
    }
  }

  /** end checks that the record was whole and finishes applying it. */
  end(): void {
    check(this.head !== null && this.ended, 'the record is cut short')
    // A checkpoint lists its own snapshot among its `s` lines; a delta's is in its header.
    const h = this.head!
    this.state.endCommit(h.seq, h.kind === 'delta' ? h.snapshot : null, this.drops, this.forgets)
  }
}

/** isPatch says whether a twin's patch is one decodePatch accepts. */
function isPatch(v: unknown): boolean {
  try {
    decodePatch(v as string)
    return true
  } catch (err) {
    if (err instanceof BadPatchError) return false
    throw err
  }
}

const isText = (v: unknown) => typeof v === 'string' && v.length <= MAX_HEADER_CHARS

/** isHeaderLine validates an `h` line: hash, subject, from, to, date ms or null, message id. */
function isHeaderLine(l: unknown[]): boolean {
  return (
    l.length === 7 &&
    isHexHash(l[1]) &&
    isText(l[2]) &&
    isText(l[3]) &&
    isText(l[4]) &&
    (l[5] === null || (typeof l[5] === 'number' && Number.isFinite(l[5]))) &&
    isText(l[6])
  )
}

/** BASE_PREFIX: hex digits of a twin's base hash written when they name one stored content (64 bits). */
export const BASE_PREFIX = 16

/**
 * shortBase names a twin's base in a `t` line: the first BASE_PREFIX hex digits of its hash when no
 * other stored content starts with them (a re-download of a mailbox: some 24 bytes a message less),
 * else the whole hash. Readers resolve it against the contents stored when the line is applied.
 */
export function shortBase(state: RepoState, base: string): string {
  const prefix = base.slice(0, BASE_PREFIX)
  return state.blobs.findPrefix(prefix) === base ? prefix : base
}
