// Why: writing and reading format-2 commit objects (commits/<seq>-<random>). A commit is an OpenPGP
// message of a zstd-compressed tar: the commit record as JSON lines (`.seb-index/<seq>.jsonl`), hard
// links that give deduplicated files (renamed, moved, copied mail) their current names for a restore
// without seb, and the mtimes of those copies (`.seb-index/<seq>.mtimes`) for its last step. A commit
// is read only after its bytes match the SHA-256 its signature names, and then a line at a time into
// the state, so no commit is ever held whole, however large (docs/design.md, "Commits").
import { createHash, randomBytes } from 'node:crypto'
import {
  closeSync,
  createReadStream,
  createWriteStream,
  promises as fs,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { BadCommit, type WireHeaders } from '../core/commit-codec.js'
import { CommitApplier, MAX_LINE } from '../core/commit-lines.js'
import { encodePath } from '../core/path-bytes.js'
import type { RepoState } from '../core/repo-state.js'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError } from '../errors.js'
import { END_OF_ARCHIVE, memberHeader, paddingFor } from '../pack/member.js'
import { explain, readSealed } from '../pack/pack-reader.js'
import {
  indexTextCompressor,
  mainThreadFrames,
  sealFramesToFile,
  smallIndexTextCompressor,
} from '../pack/seal.js'
import { TextFrames } from '../pack/zstd.js'
import { fileBody, type Storage } from '../storage/storage.js'
import type { CommitSig } from './commit-sigs.js'

/** HardLink gives `path` the content stored under `target` (a path inside some pack). */
export interface HardLink {
  readonly path: string
  readonly target: string
  readonly mtimeMs: number
  readonly mode: number
}

/** WrittenCommit is a commit object as saved: its name, size and SHA-256. */
export interface WrittenCommit {
  readonly name: string
  readonly seq: number
  readonly size: number
  readonly sha256: string
}

/** INDEX_DIR_IN_TAR is where a commit's record sits inside its tar (exclude it in a manual restore). */
export const INDEX_DIR_IN_TAR = '.seb-index'

/** commitName makes the object name for a commit. */
export function commitName(seq: number): string {
  return `${String(seq).padStart(10, '0')}-${randomBytes(8).toString('hex')}`
}

const seqText = (seq: number) => String(seq).padStart(10, '0')

/**
 * mtimesMember is the NUL-separated `path\0seconds\0` list of the hard-linked files with their own
 * mtimes (a hard link shares its target's inode, and so its mtime: the last step of a restore without
 * seb gives each its own).
 */
function mtimesMember(links: readonly HardLink[]): Buffer {
  const parts: Buffer[] = []
  for (const l of links) {
    const us = Math.round(l.mtimeMs * 1000)
    const seconds = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`
    parts.push(encodePath(l.path), Buffer.from([0]), Buffer.from(seconds), Buffer.from([0]))
  }
  return Buffer.concat(parts)
}

/**
 * CommitFrames is a commit's tar compressed, as zstd frames: the record member's header frame, then
 * the body's frames, held in memory or, when a spool file was given, in that file (a first backup's
 * index is some 20 MB compressed at 87,000 files, 230 MB at a million: not held while the commit is
 * written and the cache's state saved).
 */
export class CommitFrames {
  constructor(
    private readonly head: Buffer,
    private readonly body: Buffer[],
    private readonly spool: string | null,
  ) {}

  /** bytes gives the compressed tar in pieces (the body file's pieces need not end on frames). */
  async *bytes(): AsyncGenerator<Buffer> {
    yield this.head
    if (this.spool)
      for await (const piece of createReadStream(this.spool, { highWaterMark: 1 << 20 }))
        yield piece as Buffer
    else yield* this.body
  }

  /** discard removes the spool file, if any. */
  async discard(): Promise<void> {
    if (this.spool) await fs.rm(this.spool, { force: true })
  }
}

/**
 * commitFrames builds the commit's tar already compressed: the record's lines are compressed as they
 * are produced (a large index is held only compressed, in a new file of `spoolDir` when given); the
 * record member's header, which needs its length, is a frame of its own put in front.
 */
export function commitFrames(
  seq: number,
  time: string,
  lines: Iterable<string>,
  links: readonly HardLink[],
  spoolDir?: string,
): CommitFrames {
  const body: Buffer[] = []
  let spool: string | undefined
  if (spoolDir) {
    mkdirSync(spoolDir, { recursive: true, mode: 0o700 })
    spool = path.join(spoolDir, `${seqText(seq)}-${randomBytes(4).toString('hex')}.frames`)
  }
  const fd = spool ? openSync(spool, 'wx', 0o600) : -1
  const add = (frame: Buffer | null) => {
    if (!frame) return
    if (fd < 0) body.push(frame)
    else for (let at = 0; at < frame.length; ) at += writeSync(fd, frame, at)
  }
  try {
    return new CommitFrames(commitTar(seq, time, lines, links, add), body, spool ?? null)
  } finally {
    if (fd >= 0) closeSync(fd)
  }
}

/** commitTar gives the body's frames to `add` and returns the header frame. */
function commitTar(
  seq: number,
  time: string,
  lines: Iterable<string>,
  links: readonly HardLink[],
  add: (frame: Buffer | null) => void,
): Buffer {
  // The record and the members after it go through one compressor buffer, so that the link members'
  // paths are matched against the record's lines (a move of 100 messages: some 20 bytes a message less).
  const text = new TextFrames(indexTextCompressor(), add, smallIndexTextCompressor())
  let batch: string[] = []
  for (const line of lines) {
    batch.push(line)
    if (batch.length === 256) {
      text.push(`${batch.join('\n')}\n`)
      batch = []
    }
  }
  if (batch.length) text.push(`${batch.join('\n')}\n`)
  const recordLength = text.length
  const mtime = Date.parse(time) || 0
  text.pushBytes(paddingFor(recordLength))
  for (const l of links)
    text.pushBytes(
      memberHeader({
        path: l.path,
        type: 'link',
        size: 0,
        mode: l.mode,
        mtimeMs: l.mtimeMs,
        linkPath: l.target,
      }),
    )
  const mtimes = mtimesMember(links)
  text.pushBytes(
    memberHeader({
      path: `${INDEX_DIR_IN_TAR}/${seqText(seq)}.mtimes`,
      type: 'file',
      size: mtimes.length,
      mode: 0o600,
      mtimeMs: mtime,
    }),
  )
  text.pushBytes(mtimes)
  text.pushBytes(paddingFor(mtimes.length))
  text.pushBytes(END_OF_ARCHIVE)
  text.flush(true)
  const builder = mainThreadFrames()
  const head = memberHeader({
    path: `${INDEX_DIR_IN_TAR}/${seqText(seq)}.jsonl`,
    type: 'file',
    size: recordLength,
    mode: 0o600,
    mtimeMs: mtime,
  })
  return (builder.push(head) ?? builder.flush())!
}

/**
 * writeCommit seals and saves a commit object. The ciphertext is written to a spool file (beside its
 * final name on a local destination, which then only renames it; else in `spoolDir`), never held in
 * memory (at a million files it is some 120 MB), and hashed there for its signature.
 */
export async function writeCommit(
  storage: Storage,
  ctx: GpgContext,
  name: string,
  frames: CommitFrames,
  spoolDir: string,
  signal?: AbortSignal,
): Promise<WrittenCommit> {
  const h = { type: 'commit', name } as const
  let file = await storage.spoolPath?.(h)
  if (!file) {
    await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 })
    file = path.join(spoolDir, `${name}.commit`)
  }
  try {
    const size = await sealFramesToFile(ctx, frames.bytes(), file)
    const sha256 = await hashFile(file)
    await storage.save(h, fileBody(file, size), signal)
    return { name, seq: Number.parseInt(name.slice(0, 10), 10), size, sha256 }
  } finally {
    await fs.rm(file, { force: true })
    await frames.discard()
  }
}

async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256')
  for await (const c of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(c as Buffer)
  return h.digest('hex')
}

/** LineSplitter cuts a stream of text into lines, each bounded (a longer one is damage). */
class LineSplitter {
  private rest = ''
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  constructor(private readonly line: (text: string) => void) {}

  push(piece: Uint8Array): void {
    const text = this.rest + this.decoder.decode(piece, { stream: true })
    let start = 0
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      this.line(text.slice(start, nl))
      start = nl + 1
    }
    this.rest = text.slice(start)
    if (this.rest.length > MAX_LINE) throw new DamageError('commit record: a line is too long')
  }

  end(): void {
    if (this.rest || this.decoder.decode().length)
      throw new DamageError('commit record: it ends inside a line')
  }
}

/**
 * readCommitInto downloads the commit `sig` names, checks its size and SHA-256 against the signature,
 * and only then decrypts it and applies its record, line by line, to `state`. Damage (a missing or
 * altered object, a record seb would not write) is a DamageError naming the commit; `state` is then
 * partly changed and must be thrown away by the caller.
 */
export async function readCommitInto(
  storage: Storage,
  ctx: GpgContext,
  sig: CommitSig,
  state: RepoState,
  spoolDir: string,
  signal?: AbortSignal,
  onHeaders?: (h: WireHeaders | null) => void,
): Promise<void> {
  const what = `commit ${sig.name}`
  await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 })
  const file = path.join(spoolDir, `read-${sig.name}-${randomBytes(4).toString('hex')}`)
  try {
    // The bytes are copied once into a private file while hashed: what is decrypted is exactly what
    // was checked.
    let size = 0
    let digest = ''
    try {
      await storage.load(
        { type: 'commit', name: sig.name },
        undefined,
        async (s) => {
          size = 0
          const hash = createHash('sha256')
          const counting = new Transform({
            transform(chunk: Buffer, _e, done) {
              size += chunk.length
              if (size > sig.size) return done(new DamageError(`${what} is larger than its signature says`))
              hash.update(chunk)
              done(null, chunk)
            },
          })
          await pipeline(s, counting, createWriteStream(file, { mode: 0o600 }))
          digest = hash.digest('hex')
        },
        signal,
      )
    } catch (err) {
      throw err instanceof DamageError ? err : explain(err, what)
    }
    if (size !== sig.size || digest !== sig.sha256)
      throw new DamageError(`${what} is damaged: its bytes are not the ones its signature names`)
    const applier = new CommitApplier(state, { repository: sig.repository, seq: sig.seq }, onHeaders)
    const lines = new LineSplitter((l) => applier.line(l))
    let member = -1
    const fh = await fs.open(file, 'r')
    try {
      await readSealed(ctx, fh.fd, {
        member(entry) {
          member = entry
        },
        data(_entry, piece) {
          if (member === 0) lines.push(piece)
        },
        end(entry) {
          if (entry === 0) lines.end()
        },
      })
      applier.end()
    } catch (err) {
      if (err instanceof BadCommit) throw new DamageError(`${what}: ${err.message}`)
      throw explain(err, what)
    } finally {
      await fh.close()
    }
  } finally {
    await fs.rm(file, { force: true })
  }
}
