// Why: reading an archive (a pack or a commit) on the main thread, for verify, compaction, key rotation
// and the commit loader: get the ciphertext (a local file gpg reads itself, or the download stream),
// `gpg --decrypt` it, and push the plaintext through the one archive reader (pack-stream.ts) that
// restore's workers use too. Members are identified by their ordinal (the index records it), never by
// the names inside the tar, so a crafted pack cannot steer where anything is written.
import { createHash, type Hash } from 'node:crypto'
import { createWriteStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError, NotFoundError, SebError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import { type MemberVisitor, PackStream } from './pack-stream.js'
import { startDecrypt } from './seal.js'
import { FrameDecompressor } from './zstd.js'

/** ArchiveDamage is damage found in an archive's zstd frames or tar (explain names the object). */
export class ArchiveDamage extends DamageError {}

/**
 * ArchiveVisitor receives each member, synchronously (see MemberVisitor). `drain`, when given, is
 * awaited after each piece of input: a visitor that hands members to asynchronous work (a pack writer)
 * lets it catch up there, and the reading waits meanwhile.
 */
export interface ArchiveVisitor extends MemberVisitor {
  drain?(): Promise<void>
}

/** readPack walks every member of a pack; damage is reported as DamageError naming the pack. */
export function readPack(
  storage: Storage,
  ctx: GpgContext,
  packId: string,
  visitor: ArchiveVisitor,
  signal?: AbortSignal,
): Promise<void> {
  return withPack(storage, packId, (input) => readSealed(ctx, input, visitor), signal)
}

/**
 * packFile gives the path of a file holding a pack's ciphertext, for a reader that runs gpg on it: the
 * object itself on a local destination, else a copy downloaded into `spoolDir` (ciphertext only), which
 * `release` removes. Failures are explained (a missing pack is DamageError naming it).
 */
export async function packFile(
  storage: Storage,
  packId: string,
  spoolDir: string,
  signal?: AbortSignal,
): Promise<{ path: string; release: () => Promise<void> }> {
  const h = { type: 'pack', name: packId } as const
  const local = storage.localPath?.(h)
  if (local) {
    signal?.throwIfAborted()
    return { path: local, release: async () => {} }
  }
  const file = path.join(spoolDir, `pack-${packId}`)
  const release = () => fs.rm(file, { force: true })
  try {
    await storage.load(
      h,
      undefined,
      (input) => pipeline(input, createWriteStream(file, { mode: 0o600 })),
      signal,
    )
  } catch (err) {
    await release()
    throw explain(err, `pack ${packId}`)
  }
  return { path: file, release }
}

/**
 * withPack hands `use` a pack's ciphertext: the file descriptor of a local pack (gpg then reads the
 * file itself, no bytes pass through Node), else the download stream. Failures are explained.
 */
async function withPack(
  storage: Storage,
  packId: string,
  use: (input: Readable | number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const h = { type: 'pack', name: packId } as const
  try {
    const local = storage.localPath?.(h)
    if (local) {
      signal?.throwIfAborted()
      const fh = await fs.open(local, 'r').catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'ENOENT' ? new NotFoundError(`pack ${packId}`) : err
      })
      try {
        await use(fh.fd)
      } finally {
        await fh.close()
      }
      return
    }
    await storage.load(h, undefined, use, signal)
  } catch (err) {
    throw explain(err, `pack ${packId}`)
  }
}

/**
 * readSealed decrypts an archive (a stream, or the descriptor of a local file gpg reads itself) and
 * walks it. gpg's verdict comes first (a damaged message also breaks the archive, but gpg says why),
 * then the archive's own damage; a visitor's error is rethrown as it is.
 */
export async function readSealed(
  ctx: GpgContext,
  input: Readable | number,
  visitor: ArchiveVisitor,
): Promise<void> {
  // A download that breaks ends gpg's input early: the message then looks cut short, but the fault is
  // the transfer's (transient, retried by the storage layer), not damage of the object.
  let inputError: unknown = null
  if (typeof input !== 'number')
    input.on('error', (err) => {
      inputError ??= err
    })
  const gpg = startDecrypt(ctx, input)
  const stream = new PackStream(visitor)
  let readError: unknown = null
  try {
    for await (const chunk of gpg.child.stdout!) {
      stream.push(chunk as Buffer)
      if (stream.error) break
      if (visitor.drain) await visitor.drain()
    }
  } catch (err) {
    readError = err
  }
  if (stream.error || readError) gpg.child.kill('SIGKILL')
  const damage = stream.error ?? stream.finish()
  if (stream.visitorError) {
    await gpg.done.catch(() => {})
    throw stream.visitorError
  }
  await gpg.done.catch((err: unknown) => {
    // Killed by us after damage, or fed a broken download: that is the verdict, not gpg's.
    if (!damage && !readError && !inputError) throw err
  })
  if (inputError) throw inputError
  if (readError) throw readError
  if (damage) throw new ArchiveDamage(damage.message)
  if (visitor.drain) await visitor.drain()
}

/** explain maps a failure while reading an object to KeyError (keys) or DamageError (the object). */
export function explain(err: unknown, what: string): unknown {
  if (err instanceof KeyError) return err
  if (
    err instanceof SebError &&
    (err.code === 'gpg-missing' || err.code === 'not-found' || err.code === 'storage-permanent')
  ) {
    if (err.code === 'not-found') return new DamageError(`${what} is missing from the destination`)
    return err
  }
  if (
    err instanceof SebError &&
    (err.code === 'gpg-corrupt' ||
      err.code === 'gpg' ||
      err.code === 'gpg-unencrypted' ||
      err.code === 'untrusted')
  ) {
    return new DamageError(
      `${what} is ${err.code === 'gpg-corrupt' || err.code === 'gpg' ? 'damaged' : 'refused'}: ${err.message}`,
    )
  }
  if (err instanceof ArchiveDamage) return new DamageError(`${what} is damaged: ${err.message}`)
  return err
}

/**
 * wholeMembers is a visitor that gathers each wanted member's bytes and hands them, member by member,
 * to `use` (awaited: a pack writer may apply backpressure). Members are seb's own sizes (mail), so
 * holding one at a time is fine; `maxBytes` bounds what a hostile header could make it hold.
 */
export function wholeMembers(
  want: (entry: number, size: number) => boolean,
  use: (entry: number, data: Buffer) => Promise<void>,
  maxBytes = 256 * 1024 * 1024,
): ArchiveVisitor {
  let parts: Buffer[] | null = null
  const ready: [number, Buffer][] = []
  return {
    member(entry, size) {
      if (size > maxBytes)
        throw new ArchiveDamage(`member ${entry} claims ${size} bytes, more than a member seb writes`)
      parts = want(entry, size) ? [] : null
    },
    data(_entry, piece) {
      parts?.push(Buffer.from(piece))
    },
    end(entry) {
      if (parts) ready.push([entry, Buffer.concat(parts)])
      parts = null
    },
    async drain() {
      while (ready.length) {
        const [entry, data] = ready.shift()!
        await use(entry, data)
      }
    },
  }
}

/** memberHashes is a visitor that records the SHA-256 of each wanted member, by ordinal. */
export function memberHashes(want: (entry: number) => boolean): {
  visitor: ArchiveVisitor
  hashes: Map<number, string>
} {
  const hashes = new Map<number, string>()
  let h: Hash | null = null
  return {
    hashes,
    visitor: {
      member(entry) {
        h = want(entry) ? createHash('sha256') : null
      },
      data(_entry, piece) {
        h?.update(piece)
      },
      end(entry) {
        if (h) hashes.set(entry, h.digest('hex'))
        h = null
      },
    },
  }
}

/**
 * openSealedBuffer decrypts a small sealed object that is not an archive (zstd frames of plain bytes,
 * as sealBuffer writes them), bounded to `maxBytes` of plaintext.
 */
export async function openSealedBuffer(
  ctx: GpgContext,
  sealed: Buffer,
  maxBytes = 64 * 1024,
): Promise<Buffer> {
  const gpg = startDecrypt(ctx, Readable.from([sealed]))
  const zstd = new FrameDecompressor()
  const out: Buffer[] = []
  let n = 0
  const sink = (piece: Buffer) => {
    n += piece.length
    if (n > maxBytes) throw new DamageError(`a sealed object decrypts to more than ${maxBytes} bytes`)
    out.push(Buffer.from(piece))
  }
  let failure: unknown = null
  try {
    for await (const chunk of gpg.child.stdout!) zstd.push(chunk as Buffer, sink)
    zstd.end(sink)
    if (!zstd.complete) throw new ArchiveDamage('zstd: the compressed stream ends in the middle of a frame')
  } catch (err) {
    failure = err
    gpg.child.kill('SIGKILL')
  }
  await gpg.done.catch((err: unknown) => {
    if (!failure) throw err
  })
  if (failure instanceof DamageError) throw failure
  if (failure) throw new ArchiveDamage(failure instanceof Error ? failure.message : String(failure))
  return Buffer.concat(out)
}
