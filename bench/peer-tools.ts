// Why: the peers table and the memory-scaling runs drive each tool with its own command lines (seb, a second
// seb build for before/after comparisons, restic, borg with two compressors); this module says how each one
// initialises, backs up and restores, and whether it is installed.

import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { GpgHome } from './gpg-home.js'
import { type Measured, runMeasured, which } from './run.js'
import { sebNodeArgs, sebNodeEnv } from './seb-cli.js'

/** Tool is one backup program of the peers table. */
export interface Tool {
  name: string
  available: () => string | null
  init: () => Promise<void>
  backup: (label: string) => Promise<Measured>
  restore: (target: string) => Promise<Measured>
  /** Where the restored tree's copy of src sits inside target. */
  restoredRoot: (target: string) => string
  repo: string
}

/** What makeTools needs: the work folder, the tree to back up, the key and the seb builds to run. */
export interface ToolSetup {
  work: string
  src: string
  gpg: GpgHome
  /** the seb CLI to measure (null: no seb) */
  seb: string | null
  /** a second seb CLI run in the same rounds, for before/after comparisons (null: none) */
  sebBaseline?: string | null
  /** include borg (default true; the memory-scaling runs compare with restic only) */
  borg?: boolean
}

/** SEB and SEB_BASELINE are the tool names of the two seb builds. */
export const SEB = 'seb'
export const SEB_BASELINE = 'seb baseline'

/**
 * makeTools returns the tools in their column order: seb, the seb baseline (when given), restic, borg lz4
 * and borg zstd,3, each with its repository under the work folder and its own cache there.
 */
export function makeTools(o: ToolSetup): Tool[] {
  const { work, src, gpg } = o
  const tools: Tool[] = []
  const env = {
    ...gpg.env,
    RESTIC_PASSWORD: 'bench',
    RESTIC_CACHE_DIR: join(work, 'restic-cache'),
    BORG_PASSPHRASE: 'bench',
    BORG_BASE_DIR: join(work, 'borg-home'),
  }
  const sebTool = (name: string, seb: string, slug: string): Tool => {
    const repo = join(work, `peer-${slug}`)
    // Each build keeps its local cache apart, in the work folder, never in the user's ~/.cache/seb.
    const sebEnv = { ...env, ...sebNodeEnv(seb), SEB_CACHE_DIR: join(work, `cache-${slug}`) }
    const run = (args: string[]) =>
      runMeasured(process.execPath, [...sebNodeArgs(seb), ...args], { env: sebEnv })
    return {
      name,
      repo,
      available: () => (existsSync(seb) ? null : `${seb} not built`),
      init: async () => {
        await rm(sebEnv.SEB_CACHE_DIR, { recursive: true, force: true })
        await run(['init', repo, '--recipient', gpg.fingerprint])
      },
      backup: () => run(['backup', src, repo, '--json']),
      restore: (t) => run(['restore', repo, t, '--json']),
      restoredRoot: (t) => t,
    }
  }
  if (o.seb) tools.push(sebTool(SEB, o.seb, 'seb'))
  if (o.sebBaseline) tools.push(sebTool(SEB_BASELINE, o.sebBaseline, 'seb-baseline'))
  {
    const repo = join(work, 'peer-restic')
    tools.push({
      name: 'restic',
      repo,
      available: () => (which('restic') ? null : 'restic not installed (Debian package `restic`)'),
      init: async () => {
        await runMeasured('restic', ['--repo', repo, 'init'], { env })
      },
      backup: () => runMeasured('restic', ['--repo', repo, 'backup', '--quiet', src], { env }),
      restore: (t) => runMeasured('restic', ['--repo', repo, 'restore', 'latest', '--target', t], { env }),
      restoredRoot: (t) => join(t, src),
    })
  }
  for (const comp of o.borg === false ? [] : ['lz4', 'zstd,3']) {
    const repo = join(work, `peer-borg-${comp.replace(',', '')}`)
    tools.push({
      name: `borg ${comp}`,
      repo,
      available: () => (which('borg') ? null : 'borg not installed (Debian package `borgbackup`)'),
      init: async () => {
        await runMeasured('borg', ['init', '--encryption', 'repokey-blake2', repo], { env })
      },
      backup: (label) =>
        runMeasured('borg', ['create', '--compression', comp, `${repo}::${label}`, src], { env }),
      restore: async (t) => {
        const list = await runMeasured('borg', ['list', '--short', repo], { env })
        const last = list.stdout.trim().split('\n').pop()!
        return runMeasured('borg', ['extract', `${repo}::${last}`], { env, cwd: t })
      },
      restoredRoot: (t) => join(t, src),
    })
  }
  return tools
}

/**
 * roundOrder is the order the tools run in round `round`: as given, except that the two seb builds swap
 * places every other round, so that neither always runs right after the same tool.
 */
export function roundOrder<T extends { name: string }>(tools: readonly T[], round: number): T[] {
  const out = [...tools]
  const a = out.findIndex((t) => t.name === SEB)
  const b = out.findIndex((t) => t.name === SEB_BASELINE)
  if (round % 2 === 1 && a >= 0 && b >= 0) [out[a], out[b]] = [out[b]!, out[a]!]
  return out
}
