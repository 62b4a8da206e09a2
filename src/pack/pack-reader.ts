// Why: the reverse of the pack writer, for restore and verify: download a pack, `gpg -d | zstd -d` it
// and walk its tar members in order. Members are identified by their ordinal (the index records it),
// never by the names inside the tar, so a crafted pack cannot steer where restore writes.
import { createWriteStream, promises as fs } from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { extract, type Header } from 'tar-stream'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError, NotFoundError, SebError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import { startOpen } from './seal.js'

/** PackEntryHandler receives each member: its ordinal, its tar header and a stream of its data. */
export type PackEntryHandler = (entry: number, header: Header, data: AsyncIterable<Buffer>) => Promise<void>

/** readPack streams every member of a pack to `onEntry`; damage is reported as DamageError naming the pack. */
export function readPack(
  storage: Storage,
  ctx: GpgContext,
  packId: string,
  onEntry: PackEntryHandler,
  signal?: AbortSignal,
): Promise<void> {
  return withPack(storage, packId, (input) => walkSealedTar(ctx, input, onEntry), signal)
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

/** walkSealedTar opens an encrypted tar.zst stream and hands each member to `onEntry`. */
export async function walkSealedTar(
  ctx: GpgContext,
  stream: Readable | number,
  onEntry: PackEntryHandler,
): Promise<void> {
  const opener = startOpen(ctx, stream)
  const ex = extract()
  opener.output.pipe(ex)
  let index = 0
  let walkError: unknown = null
  try {
    for await (const member of ex) {
      await onEntry(index++, member.header, member as AsyncIterable<Buffer>)
      member.resume()
    }
  } catch (err) {
    walkError = err
    opener.kill()
  }
  // gpg's and zstd's verdict explains a tar error (a damaged message yields a broken tar).
  await opener.done
  if (walkError) throw walkError
}

/** explain maps a failure while reading an object to KeyError (keys) or DamageError (the object). */
export function explain(err: unknown, what: string): unknown {
  if (err instanceof KeyError) return err
  if (
    err instanceof SebError &&
    (err.code === 'gpg-missing' ||
      err.code === 'zstd-missing' ||
      err.code === 'not-found' ||
      err.code === 'storage-permanent')
  ) {
    if (err.code === 'not-found') return new DamageError(`${what} is missing from the destination`)
    return err
  }
  if (err instanceof SebError && (err.code === 'gpg-corrupt' || err.code === 'zstd' || err.code === 'gpg')) {
    return new DamageError(`${what} is damaged: ${err.message}`)
  }
  if (err instanceof Error && /tar|header|Unexpected end|premature/i.test(err.message))
    return new DamageError(`${what} is damaged: ${err.message}`)
  return err
}
