// Why: the gpg processes every pack and commit goes through — `gpg --encrypt` of zstd frames to seal,
// `gpg --decrypt` to open (the plaintext is then read by pack-stream.ts, in-process). Compression is
// done in-process too (pack/zstd.ts), mostly on the read workers. `gpg --decrypt | zstd -d | tar -x` is
// what a user types to restore without seb.
import { promises as fs } from 'node:fs'
import type { Readable, Writable } from 'node:stream'
import { type GpgContext, type GpgProcess, spawnGpg } from '../crypto/gpg.js'
import { FrameBuilder, FrameCompressor, INDEX_ZSTD_LEVEL, SMALL_INDEX_ZSTD_LEVEL } from './zstd.js'

export { ZSTD_LEVEL } from './zstd.js'

/** Sealer is a running `gpg --encrypt`: write zstd frames to `input`, await `done`. */
export interface Sealer {
  readonly input: Writable
  /** gpg's stdout when the output was 'pipe' */
  readonly output: Readable | null
  readonly done: Promise<unknown>
  kill(): void
}

/** startSeal starts `gpg --encrypt`, writing the ciphertext to `out` (a file descriptor or 'pipe'). */
export function startSeal(ctx: GpgContext, out: number | 'pipe'): Sealer {
  const gpg = spawnGpg(ctx, 'encrypt', 'pipe', out)
  return {
    input: gpg.child.stdin!,
    output: out === 'pipe' ? gpg.child.stdout : null,
    done: gpg.done,
    kill: () => {
      gpg.child.kill('SIGKILL')
    },
  }
}

let mainCompressor: FrameCompressor | null = null

let indexCompressor: FrameCompressor | null = null

/** indexTextCompressor is the main thread's compressor of commit JSON (INDEX_ZSTD_LEVEL). */
export function indexTextCompressor(): FrameCompressor {
  indexCompressor ??= new FrameCompressor(INDEX_ZSTD_LEVEL)
  return indexCompressor
}

let smallIndexCompressor: FrameCompressor | null = null

/** smallIndexTextCompressor compresses a commit's small last frame (SMALL_INDEX_ZSTD_LEVEL). */
export function smallIndexTextCompressor(): FrameCompressor {
  smallIndexCompressor ??= new FrameCompressor(SMALL_INDEX_ZSTD_LEVEL)
  return smallIndexCompressor
}

/** mainThreadFrames returns a FrameBuilder on the main thread's one compressor (made on first use). */
export function mainThreadFrames(): FrameBuilder {
  mainCompressor ??= new FrameCompressor()
  return new FrameBuilder(mainCompressor)
}

/**
 * startDecrypt starts `gpg --decrypt` reading the ciphertext from `input` (a stream, or a file
 * descriptor gpg reads itself); the plaintext comes out of the child's stdout.
 */
export function startDecrypt(ctx: GpgContext, input: Readable | number): GpgProcess {
  const gpg = spawnGpg(ctx, 'decrypt', typeof input === 'number' ? input : 'pipe', 'pipe')
  if (typeof input !== 'number') {
    const gin = gpg.child.stdin!
    gin.on('error', () => {}) // gpg may exit early on bad data; its exit status carries the error
    input.on('error', (err) => gin.destroy(err))
    input.pipe(gin)
  }
  return gpg
}

/** sealFrames encrypts a zstd stream given as a list of frames (in order, with backpressure). */
export async function sealFrames(ctx: GpgContext, frames: Buffer[]): Promise<Buffer> {
  const s = startSeal(ctx, 'pipe')
  const chunks: Buffer[] = []
  s.output!.on('data', (d: Buffer) => chunks.push(d))
  const outEnded = new Promise<void>((r) => s.output!.on('end', () => r()))
  await feedFrames(s, frames)
  await outEnded
  return Buffer.concat(chunks)
}

/**
 * sealFramesToFile encrypts a zstd stream given as frames into a new file, and returns its size. Each
 * frame is let go once written: a large index is then held once (compressed), not also as ciphertext.
 */
export async function sealFramesToFile(
  ctx: GpgContext,
  frames: (Buffer | null)[] | AsyncIterable<Buffer>,
  file: string,
): Promise<number> {
  const fh = await fs.open(file, 'wx', 0o600)
  try {
    await feedFrames(startSeal(ctx, fh.fd), frames)
    await fh.sync()
    return (await fh.stat()).size
  } finally {
    await fh.close()
  }
}

/**
 * drained waits until gpg's input takes more (drain), or fails (error), or gpg has ended: a gpg that
 * exited, or never started (not installed), sends no drain, and its verdict is the error.
 */
export function drained(s: Sealer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: unknown) => {
      s.input.off('drain', onDrain)
      s.input.off('error', onError)
      if (err) reject(err)
      else resolve()
    }
    const onDrain = () => settle()
    const onError = (err: Error) => settle(err)
    s.input.once('drain', onDrain)
    s.input.once('error', onError)
    s.done.then(
      () => settle(),
      (err: unknown) => settle(err),
    )
  })
}

/** feedFrames writes the frames into gpg (dropping each from the list once written) and waits for it. */
async function feedFrames(s: Sealer, frames: (Buffer | null)[] | AsyncIterable<Buffer>): Promise<void> {
  let failed: unknown = null
  s.input.on('error', (err) => {
    failed ??= err
  })
  const write = async (frame: Buffer) => {
    if (failed || s.input.write(frame)) return
    // An error here is reported below, after gpg's verdict (which names the cause).
    await drained(s).catch(() => {})
  }
  if (Array.isArray(frames))
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]
      frames[i] = null
      if (f) await write(f)
    }
  else for await (const f of frames) await write(f)
  s.input.end()
  await s.done
  if (failed) throw failed
}

/** sealBuffer compresses and encrypts a small plaintext held in memory and returns the ciphertext. */
export function sealBuffer(ctx: GpgContext, plain: Buffer): Promise<Buffer> {
  // One frame, even of nothing: zero bytes are not a zstd stream (`zstd -d` refuses them).
  mainCompressor ??= new FrameCompressor()
  return sealFrames(ctx, [mainCompressor.frame([plain])])
}
