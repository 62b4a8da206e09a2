// Why: a twin (docs/design.md) has no content of its own in any pack: it is its base's bytes with the
// sync-tool noise lines swapped for the patch's. Restore gets each base needed through the ordinary
// unpack path (checked against its hash) into a private staging folder inside the target, then here
// rebuilds every twin from it, checks the result's SHA-256 and size against the index, and writes it
// like any restored file (never through a symlink, with its mode and mtime). The unpack workers are
// not changed: twins are rare, and a message is small.
import { hash, randomBytes } from 'node:crypto'
import { constants, promises as fs } from 'node:fs'
import { applyPatch, decodePatch, findNoise } from '../core/header-noise.js'
import type { Version } from '../core/model.js'
import type { RepoState } from '../core/repo-state.js'

/** TwinPlan is the twins among a restore's files and the staged bases that rebuild them. */
export interface TwinPlan {
  /** the files that are stored (not twins), then one staged base per base needed */
  readonly files: Version[]
  /** the staged bases (a subset of `files`), not counted as restored */
  readonly staged: Set<Version>
  /** twin files and the staged base each is rebuilt from */
  readonly twins: { readonly version: Version; readonly stage: Version }[]
  /** the staging folder (relative to the target), or null when there are no twins */
  readonly stageDir: string | null
}

/** planTwins separates the twins from the stored files and adds a staged copy of each base they need. */
export function planTwins(files: readonly Version[], state: RepoState): TwinPlan {
  const out: Version[] = []
  const staged = new Set<Version>()
  const twins: TwinPlan['twins'] = []
  const byBase = new Map<string, Version>()
  let stageDir: string | null = null
  for (const v of files) {
    const t = state.blobs.has(v.ref) ? undefined : state.twins.get(v.ref)
    if (!t) {
      out.push(v)
      continue
    }
    stageDir ??= `.seb-twins-${randomBytes(8).toString('hex')}`
    let stage = byBase.get(t.base)
    if (!stage) {
      const size = state.blobs.get(t.base)?.size ?? 0
      stage = {
        path: `${stageDir}/${byBase.size}`,
        kind: 'f',
        ref: t.base,
        size,
        mtimeMs: 0,
        mode: 0o600,
        from: 0,
        to: 0,
      }
      byBase.set(t.base, stage)
      staged.add(stage)
      out.push(stage)
    }
    twins.push({ version: v, stage })
  }
  return { files: out, staged, twins, stageDir }
}

/** TwinOutcome is what rebuilding the twins gave: files and bytes written, and the failures. */
export interface TwinOutcome {
  files: number
  bytes: number
  readonly failed: { path: string; reason: string }[]
}

/**
 * restoreTwins rebuilds each twin from its staged base, checks it and writes it (`out` gives a path's
 * bytes under the target, `ensureParent` makes its folders), then removes the staging folder.
 */
export async function restoreTwins(
  plan: TwinPlan,
  state: RepoState,
  out: (rel: string) => Buffer,
  ensureParent: (rel: string) => void,
  seconds: (mtimeMs: number) => number,
): Promise<TwinOutcome> {
  const result: TwinOutcome = { files: 0, bytes: 0, failed: [] }
  if (!plan.stageDir) return result
  try {
    for (const { version: v, stage } of plan.twins) {
      const t = state.twins.get(v.ref)!
      let base: Buffer
      try {
        base = await fs.readFile(out(stage.path), { flag: constants.O_RDONLY | constants.O_NOFOLLOW })
      } catch {
        result.failed.push({ path: v.path, reason: 'the content it is a twin of could not be restored' })
        continue
      }
      let bytes: Buffer
      try {
        bytes = applyPatch(base, findNoise(base), decodePatch(t.patch))
      } catch (err) {
        result.failed.push({
          path: v.path,
          reason: `its patch does not fit its base (${(err as Error).message})`,
        })
        continue
      }
      if (bytes.length !== v.size || hash('sha256', bytes, 'hex') !== v.ref) {
        result.failed.push({
          path: v.path,
          reason: 'rebuilt from its base, it does not match its hash (damaged index)',
        })
        continue
      }
      try {
        ensureParent(v.path)
        const fh = await fs.open(
          out(v.path),
          constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
          0o600,
        )
        try {
          await fh.writeFile(bytes)
          await fh.chmod(v.mode)
          await fh.utimes(seconds(v.mtimeMs), seconds(v.mtimeMs))
        } finally {
          await fh.close()
        }
        result.files++
        result.bytes += v.size
      } catch (err) {
        const e = err as NodeJS.ErrnoException
        result.failed.push({
          path: v.path,
          reason:
            e.code === 'ELOOP'
              ? 'a symlink is in the way (refusing to write through it)'
              : (e.message ?? String(err)),
        })
      }
    }
  } finally {
    await fs.rm(out(plan.stageDir), { recursive: true, force: true })
  }
  return result
}
