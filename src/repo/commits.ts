// Why: reading and writing commit objects (index/<seq>-<random>). A commit is an OpenPGP message of a
// zstd-compressed tar holding the commit record as `.seb-index/<seq>.json`, followed by hard-link
// members that give deduplicated files (renamed or copied mail) their current names, so that extracting
// every pack and then every commit with plain gpg and tar yields every file under its current path.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { type CommitRecord, decodeCommit } from '../core/commit-codec.js'
import { jsonBuffers, jsonChunks } from '../core/json-chunks.js'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError } from '../errors.js'
import { END_OF_ARCHIVE, memberHeader, paddingFor } from '../pack/member.js'
import { explain, readSealed, wholeMembers } from '../pack/pack-reader.js'
import { indexTextCompressor, mainThreadFrames, sealFramesToFile } from '../pack/seal.js'
import { TextFrames } from '../pack/zstd.js'
import { isValidName } from '../storage/layout.js'
import { fileBody, type Storage } from '../storage/storage.js'

/** CommitRef is one commit object as listed: its sequence number and full name. */
export interface CommitRef {
  readonly seq: number
  readonly name: string
  readonly size: number
}

/** HardLink gives `path` the content stored under `target` (a path inside some pack). */
export interface HardLink {
  readonly path: string
  readonly target: string
  readonly mtimeMs: number
  readonly mode: number
}

/** INDEX_DIR_IN_TAR is where a commit's JSON sits inside its tar (exclude it in a manual restore). */
export const INDEX_DIR_IN_TAR = '.seb-index'

/** listCommits returns every commit object, oldest first. */
export async function listCommits(storage: Storage, signal?: AbortSignal): Promise<CommitRef[]> {
  const out: CommitRef[] = []
  for await (const o of storage.list('index', signal)) {
    if (!isValidName('index', o.name)) continue
    out.push({ seq: Number.parseInt(o.name.slice(0, 10), 10), name: o.name, size: o.size })
  }
  // Two objects with one seq can only come from writers that ignored the lock: the name breaks the tie.
  return out.sort((a, b) => a.seq - b.seq || (a.name < b.name ? -1 : 1))
}

/** commitName makes the object name for a commit. */
export function commitName(seq: number): string {
  return `${String(seq).padStart(10, '0')}-${randomBytes(8).toString('hex')}`
}

/** encodeCommitTar builds the plaintext tar of a commit as one Buffer (tests and small commits). */
export function encodeCommitTar(record: CommitRecord, links: readonly HardLink[]): Buffer {
  return Buffer.concat(commitTarParts(record, links))
}

/** commitTarParts builds the plaintext tar of a commit as a list of Buffers. */
export function commitTarParts(record: CommitRecord, links: readonly HardLink[]): Buffer[] {
  const { buffers, length } = jsonBuffers(record)
  return [commitHeader(record, length), ...buffers, ...commitTail(length, links)]
}

/** commitHeader is the tar header of the commit record's member. */
function commitHeader(record: CommitRecord, length: number): Buffer {
  return memberHeader({
    path: `${INDEX_DIR_IN_TAR}/${String(record.seq).padStart(10, '0')}.json`,
    type: 'file',
    size: length,
    mode: 0o600,
    mtimeMs: Date.parse(record.time) || 0,
  })
}

/** commitTail is what follows the record: its padding, the hard-link members, the end of the archive. */
function* commitTail(length: number, links: readonly HardLink[]): Generator<Buffer> {
  yield paddingFor(length)
  for (const l of links)
    yield memberHeader({
      path: l.path,
      type: 'link',
      size: 0,
      mode: l.mode,
      mtimeMs: l.mtimeMs,
      linkPath: l.target,
    })
  yield END_OF_ARCHIVE
}

/**
 * commitFrames builds the commit's tar already compressed, as zstd frames. The record's JSON is
 * produced and compressed piece by piece, so a large index is held only compressed (the tar header,
 * which needs the JSON's length, is a frame of its own put in front).
 */
export function commitFrames(record: CommitRecord, links: readonly HardLink[]): Buffer[] {
  const body: Buffer[] = []
  const add = (frame: Buffer | null) => {
    if (frame) body.push(frame)
  }
  const text = new TextFrames(indexTextCompressor(), add)
  for (const piece of jsonChunks(record)) text.push(piece)
  text.flush()
  const builder = mainThreadFrames()
  for (const part of commitTail(text.length, links)) add(builder.push(part))
  add(builder.flush())
  const head = builder.push(commitHeader(record, text.length)) ?? builder.flush()
  return [head!, ...body]
}

/**
 * writeCommit seals and saves a commit; this single atomic save is the commit point of a run. The
 * ciphertext is written to a spool file (beside its final name on a local destination, which then
 * only renames it; else in `spoolDir`), never held in memory: at a million files it is 120 MB.
 */
export async function writeCommit(
  storage: Storage,
  ctx: GpgContext,
  record: CommitRecord,
  links: readonly HardLink[],
  spoolDir: string,
): Promise<CommitRef> {
  const name = commitName(record.seq)
  const h = { type: 'index', name } as const
  let file = await storage.spoolPath?.(h)
  if (!file) {
    await fs.mkdir(spoolDir, { recursive: true, mode: 0o700 })
    file = path.join(spoolDir, `${name}.commit`)
  }
  const spool = file
  try {
    const size = await sealFramesToFile(ctx, commitFrames(record, links), spool)
    await storage.save(h, fileBody(spool, size))
    return { seq: record.seq, name, size }
  } finally {
    await fs.rm(spool, { force: true })
  }
}

/** readCommit downloads, decrypts and decodes one commit; damage is a DamageError naming it. */
export async function readCommit(
  storage: Storage,
  ctx: GpgContext,
  ref: CommitRef,
  signal?: AbortSignal,
): Promise<CommitRecord> {
  try {
    return await storage.load(
      { type: 'index', name: ref.name },
      undefined,
      async (stream) => {
        let json: Buffer | null = null
        let firstType = ''
        const gather = wholeMembers(
          (entry) => entry === 0,
          async (_entry, data) => {
            json = data
          },
        )
        await readSealed(ctx, stream, {
          ...gather,
          member(entry, size, typeflag) {
            if (entry === 0) firstType = typeflag
            gather.member(entry, size, typeflag)
          },
        })
        if (!json || (firstType !== '0' && firstType !== '\0'))
          throw new DamageError(`index ${ref.name}: its first member is not a commit record`)
        const record = decodeCommit(json)
        if (record.seq !== ref.seq)
          throw new DamageError(`index ${ref.name}: holds commit ${record.seq}, not ${ref.seq}`)
        return record
      },
      signal,
    )
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('malformed commit record'))
      throw new DamageError(`index ${ref.name}: ${err.message}`)
    throw explain(err, `index ${ref.name}`)
  }
}
