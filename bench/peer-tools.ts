// Why: the peers table runs each tool with its own command lines (seb, restic, borg with two compressors);
// this module says how each one initialises, backs up and restores, and whether it is installed.

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { GpgHome } from './gpg-home.js'
import { type Measured, runMeasured, which } from './run.js'
import { sebNodeArgs } from './seb-cli.js'

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

/** What makeTools needs: the work folder, the tree to back up, the key and the seb CLI (null: no seb). */
export interface ToolSetup {
  work: string
  src: string
  gpg: GpgHome
  seb: string | null
}

/**
 * makeTools returns the peers table's tools in their column order: seb (when given), restic, borg lz4 and
 * borg zstd,3, each with its repository under the work folder and its own cache there.
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
  if (o.seb) {
    const repo = join(work, 'peer-seb')
    const seb = o.seb
    tools.push({
      name: 'seb',
      repo,
      available: () => (existsSync(seb) ? null : `${seb} not built`),
      init: async () => {
        await runMeasured(
          process.execPath,
          [...sebNodeArgs(seb), 'init', repo, '--recipient', gpg.fingerprint],
          { env },
        )
      },
      backup: () =>
        runMeasured(process.execPath, [...sebNodeArgs(seb), 'backup', src, repo, '--json'], { env }),
      restore: (t) =>
        runMeasured(process.execPath, [...sebNodeArgs(seb), 'restore', repo, t, '--json'], { env }),
      restoredRoot: (t) => t,
    })
  }
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
  for (const comp of ['lz4', 'zstd,3']) {
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
