// Why: damage costs only what it touches (issue 18). When a pack turns out damaged during a restore,
// the files its worker could not write are looked for again in the frames of the pack that still
// decode (src/pack/salvage.ts): each content found there has already been checked against its SHA-256,
// and is written the way restore writes every file (never through a symlink, created exclusively unless
// overwriting, with its mode and mtime). Only what is really lost stays listed as not restored.
import { constants, promises as fs } from 'node:fs'
import type { Version } from '../core/model.js'
import type { GpgContext } from '../crypto/gpg.js'
import { KeyError } from '../errors.js'
import { salvagePack } from '../pack/salvage.js'
import type { Storage } from '../storage/storage.js'

/** Failed is one file restore could not write, and why. */
interface Failed {
  path: string
  reason: string
}

/** RestoreSalvageContext is what restoring from a damaged pack needs. */
export interface RestoreSalvageContext {
  readonly storage: Storage
  readonly ctx: GpgContext
  readonly spoolDir: string
  readonly overwrite: boolean
  readonly out: (rel: string) => Buffer
  readonly toSeconds: (mtimeMs: number) => number
  readonly signal?: AbortSignal
}

/**
 * restoreSalvaged writes the files of `failed[from…]` (those of pack `packId`, sent as `sent`) whose
 * content can be salvaged from the pack, and removes them from `failed`; it returns what it wrote.
 */
export async function restoreSalvaged(
  c: RestoreSalvageContext,
  packId: string,
  sent: readonly Version[],
  failed: Failed[],
  from: number,
): Promise<{ files: number; bytes: number }> {
  const done = { files: 0, bytes: 0 }
  const byPath = new Map(sent.map((v) => [v.path, v]))
  // Only what the pack's damage cost (its reasons name the pack), never a file that failed for a reason
  // of its own (a file in the way, a full disk).
  const candidates = failed.slice(from).filter((f) => byPath.has(f.path) && f.reason.includes(packId))
  if (!candidates.length) return done
  const wanted = new Map<string, number>()
  for (const f of candidates) {
    const v = byPath.get(f.path)!
    wanted.set(v.ref, v.size)
  }
  let recovered: Map<string, Buffer>
  try {
    recovered = (await salvagePack(c.storage, c.ctx, packId, wanted, c.spoolDir, c.signal)).recovered
  } catch (err) {
    if (err instanceof KeyError) throw err
    return done
  }
  const written = new Set<string>()
  for (const f of candidates) {
    const v = byPath.get(f.path)!
    const data = recovered.get(v.ref)
    if (!data) continue
    try {
      await writeTarget(c, v, data)
      written.add(f.path)
      done.files++
      done.bytes += data.length
    } catch {
      // Left as not restored, with the pack's reason.
    }
  }
  for (let i = failed.length - 1; i >= from; i--) if (written.has(failed[i]!.path)) failed.splice(i, 1)
  return done
}

/** writeTarget writes one verified content to its path, as the unpack workers do. */
async function writeTarget(c: RestoreSalvageContext, v: Version, data: Buffer): Promise<void> {
  const p = c.out(v.path)
  if (c.overwrite) {
    const st = await fs.lstat(p).catch(() => null)
    if (st?.isSymbolicLink()) await fs.unlink(p)
  }
  const flags =
    constants.O_WRONLY |
    constants.O_CREAT |
    constants.O_NOFOLLOW |
    (c.overwrite ? constants.O_TRUNC : constants.O_EXCL)
  const fh = await fs.open(p, flags, 0o600)
  try {
    await fh.writeFile(data)
    await fh.chmod(v.mode)
    const t = c.toSeconds(v.mtimeMs)
    await fh.utimes(t, t)
  } finally {
    await fh.close()
  }
}
