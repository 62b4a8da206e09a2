// Why: damage costs only what it touches (issue 18). A pack is an OpenPGP message (SEIPD v1: CFB with
// an MDC) of a run of independent zstd frames, each holding whole tar members. A flipped ciphertext byte
// garbles one plaintext byte and the 16-byte block after it; gpg still writes every plaintext byte and
// only then reports the MDC failure (docs/design.md, "Damage"). So when the normal reader stops at
// damage, this one takes gpg's whole output, splits it at zstd frame boundaries, decompresses each frame
// alone (a frame's checksum rejects a damaged one), walks the tar of the frames that decode, and keeps
// each member whose bytes hash to a content the index locates in this pack. Members are identified by
// their SHA-256 alone, never by name or position: nothing unverified is ever handed out. It is the slow,
// rare path (the pack is held in memory), taken only after the fast reader found damage. What it holds
// is bounded by what the index says the pack holds, never by what a frame claims: a frame that would
// decode past that (a zstd bomb put there by whoever holds the destination) counts as lost.
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import type { GpgContext } from '../crypto/gpg.js'
import { DamageError, KeyError, SebError } from '../errors.js'
import type { Storage } from '../storage/storage.js'
import { packFile } from './pack-reader.js'
import { startDecrypt } from './seal.js'
import { FrameDecompressor } from './zstd.js'

/** Salvaged is what could be read back from a damaged pack. */
export interface Salvaged {
  /** contents whose bytes hash to what the index says, by SHA-256 */
  readonly recovered: Map<string, Buffer>
  /** zstd frames found, and how many of them did not decode */
  readonly frames: number
  readonly framesLost: number
}

const MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])
const BLOCK = 512

/**
 * salvagePack reads what it can of a damaged pack: `wanted` maps each content the index locates in it
 * (SHA-256) to its size. A key that cannot decrypt the pack is KeyError; a pack that is not an
 * encrypted message of this repository yields nothing.
 */
export async function salvagePack(
  storage: Storage,
  ctx: GpgContext,
  packId: string,
  wanted: ReadonlyMap<string, number>,
  spoolDir: string,
  signal?: AbortSignal,
): Promise<Salvaged> {
  const none: Salvaged = { recovered: new Map(), frames: 0, framesLost: 0 }
  let file: Awaited<ReturnType<typeof packFile>>
  try {
    file = await packFile(storage, packId, spoolDir, signal)
  } catch (err) {
    if (err instanceof KeyError) throw err
    return none
  }
  let plain: Buffer
  try {
    // zstd never makes an honest pack bigger than its tar by more than its frame headers.
    const limit = Math.min((await fs.stat(file.path)).size, tarBudget(wanted)) + 1024 * 1024
    const fh = await fs.open(file.path, 'r')
    try {
      plain = await decryptAll(ctx, fh.fd, limit)
    } finally {
      await fh.close()
    }
  } catch (err) {
    if (err instanceof KeyError) throw err
    return none
  } finally {
    await file.release()
  }
  return salvageFrames(plain, wanted)
}

/**
 * decryptAll returns everything gpg writes for the ciphertext, whatever its verdict on integrity, as
 * long as it decrypted with a key of the repository: a key failure is KeyError, a message that was not
 * encrypted for this repository is refused (DamageError).
 */
async function decryptAll(ctx: GpgContext, fd: number, limit: number): Promise<Buffer> {
  const gpg = startDecrypt(ctx, fd)
  const parts: Buffer[] = []
  let n = 0
  for await (const chunk of gpg.child.stdout!) {
    n += (chunk as Buffer).length
    if (n > limit) {
      gpg.child.kill('SIGKILL')
      break
    }
    parts.push(chunk as Buffer)
  }
  await gpg.done.catch((err: unknown) => {
    if (err instanceof KeyError) throw err
    // Not encrypted, or not to this repository's keys: nothing from it is used.
    if (err instanceof SebError && (err.code === 'gpg-unencrypted' || err.code === 'untrusted'))
      throw new DamageError(err.message)
  })
  return Buffer.concat(parts)
}

/** salvageFrames decodes each zstd frame of `plain` alone and keeps the verified members. */
export function salvageFrames(plain: Buffer, wanted: ReadonlyMap<string, number>): Salvaged {
  let budget = tarBudget(wanted)
  const starts: number[] = []
  for (let at = plain.indexOf(MAGIC); at >= 0; at = plain.indexOf(MAGIC, at + 1)) starts.push(at)
  starts.push(plain.length)
  // Consecutive frames that decode form a run of tar bytes; damage ends a run.
  const runs: Buffer[][] = [[]]
  let frames = 0
  let framesLost = 0
  for (let i = 0; i + 1 < starts.length; i++) {
    frames++
    let decoded = tryDecompress(plain.subarray(starts[i]!, starts[i + 1]!), budget)
    // The frame magic can occur inside compressed bytes: try the frame up to the candidate after.
    if (!decoded && i + 2 < starts.length) {
      decoded = tryDecompress(plain.subarray(starts[i]!, starts[i + 2]!), budget)
      if (decoded) i++
    }
    if (decoded) {
      budget -= decoded.length
      runs[runs.length - 1]!.push(decoded)
    } else {
      framesLost++
      if (runs[runs.length - 1]!.length) runs.push([])
    }
  }
  const recovered = new Map<string, Buffer>()
  for (const run of runs) if (run.length) walkTar(Buffer.concat(run), wanted, recovered)
  return { recovered, frames, framesLost }
}

/**
 * tarBudget is the most tar bytes the wanted members can take (a header, a pax header and padding
 * each), plus room for the folders and symlinks a pack also holds: no honest pack decodes to more.
 */
function tarBudget(wanted: ReadonlyMap<string, number>): number {
  let budget = SLACK
  for (const size of wanted.values()) budget += Math.ceil(size / BLOCK) * BLOCK + 3 * BLOCK
  return budget
}

/** SLACK: room for a pack's folder and symlink members and its end-of-archive blocks. */
const SLACK = 4 * 1024 * 1024

class OverBudget extends Error {}

/** tryDecompress decodes one whole frame of at most `budget` bytes; anything else (damage, a bomb) is null. */
function tryDecompress(frame: Buffer, budget: number): Buffer | null {
  const zstd = new FrameDecompressor()
  const parts: Buffer[] = []
  let n = 0
  const sink = (piece: Buffer) => {
    n += piece.length
    if (n > budget) throw new OverBudget()
    parts.push(Buffer.from(piece))
  }
  try {
    zstd.push(frame, sink)
    zstd.end(sink)
    return zstd.complete ? Buffer.concat(parts) : null
  } catch {
    return null
  }
}

/**
 * walkTar finds tar headers in `tar` (a run of whole frames: members start on 512-byte blocks; after a
 * lost frame the run may start inside a member, so a block that is not a valid header is skipped) and
 * keeps each regular member whose bytes hash to a wanted content of the same size.
 */
function walkTar(tar: Buffer, wanted: ReadonlyMap<string, number>, out: Map<string, Buffer>): void {
  let off = 0
  let paxSize: number | null = null
  while (off + BLOCK <= tar.length) {
    const h = tar.subarray(off, off + BLOCK)
    if (!validHeader(h)) {
      paxSize = null
      off += BLOCK
      continue
    }
    const type = String.fromCharCode(h[156]!)
    const size = paxSize ?? headerSize(h)
    paxSize = null
    const body = off + BLOCK
    const next = body + Math.ceil(size / BLOCK) * BLOCK
    if (size < 0 || body + size > tar.length) {
      off += BLOCK
      continue
    }
    if (type === 'x') paxSize = paxRecordSize(tar.subarray(body, body + size))
    else if (type === '0' || type === '\0') {
      const data = tar.subarray(body, body + size)
      const hash = createHash('sha256').update(data).digest('hex')
      if (wanted.get(hash) === size && !out.has(hash)) out.set(hash, Buffer.from(data))
    }
    off = next
  }
}

/** validHeader: a ustar header whose checksum holds. */
function validHeader(h: Buffer): boolean {
  if (h.toString('latin1', 257, 262) !== 'ustar') return false
  const stored = Number.parseInt(h.toString('latin1', 148, 156).replace(/[\0 ]/g, ''), 8)
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!
  return sum === stored
}

/** headerSize reads the size field (octal, or base-256 for large members). */
function headerSize(h: Buffer): number {
  if (h[124]! & 0x80) {
    let n = 0
    for (let i = 125; i < 136; i++) n = n * 256 + h[i]!
    return n
  }
  const text = h.toString('latin1', 124, 136).replace(/[\0 ]/g, '')
  return text ? Number.parseInt(text, 8) : 0
}

/** paxRecordSize reads a `size` record from a pax extended header, if there is one. */
function paxRecordSize(body: Buffer): number | null {
  const m = /(?:^|\n)\d+ size=(\d+)\n/.exec(body.toString('latin1'))
  return m ? Number(m[1]) : null
}
