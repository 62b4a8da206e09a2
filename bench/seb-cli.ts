// Why: the benchmark measures seb as a user runs it: the built CLI as a child process, with the V8 flags of
// its first line, reading the JSON summary it prints last. The tests start seb the same way.

import { readFileSync } from 'node:fs'
import type { GpgHome } from './gpg-home.js'
import { type Measured, runMeasured, type Timing, timingOf } from './run.js'

/**
 * sebNodeArgs is what `node` is given to run the seb executable `bin` as its first line says
 * (`#!/usr/bin/env -S node FLAGS`): the flags, then `bin`. The benchmark and the tests run seb so,
 * with the same V8 flags a user's `seb` gets, whichever `node` is on the PATH.
 */
export function sebNodeArgs(bin: string): string[] {
  let flags = nodeFlagsOf.get(bin)
  if (!flags) {
    const first = readFileSync(bin, 'utf8').split('\n', 1)[0]!
    const m = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first)
    if (!m) throw new Error(`${bin}: first line is not '#!/usr/bin/env -S node [flags]': ${first}`)
    flags = m[1]!.split(' ').filter(Boolean)
    nodeFlagsOf.set(bin, flags)
  }
  return [...flags, bin]
}

/** the flags read from each executable's first line (read once: the tests run seb hundreds of times) */
const nodeFlagsOf = new Map<string, string[]>()

/** The summary line of `seb backup --json`. */
export interface BackupSummary {
  type: 'summary'
  command: 'backup'
  snapshot: string
  filesAdded: number
  filesChanged: number
  filesRenamed: number
  filesDeleted: number
  filesUnchanged: number
  bytesRead: number
  bytesUploaded: number
  packsWritten: number
  packsRewritten: number
  indexBytes: number
  durationMs: number
}

/** A measured seb command (wall and CPU time, peak RSS) with its parsed summary. */
export interface SebRun<S> extends Timing {
  summary: S
}

/** lastJsonLine parses the last non-empty stdout line as JSON (seb's summary contract). */
export function lastJsonLine(stdout: string): Record<string, unknown> {
  const lines = stdout.split('\n').filter((l) => l.trim())
  const last = lines[lines.length - 1]
  if (!last) throw new Error('seb printed nothing on stdout')
  return JSON.parse(last) as Record<string, unknown>
}

/** Seb runs one build of the seb CLI with the benchmark's throwaway GnuPG home. */
export class Seb {
  constructor(
    private readonly bin: string,
    private readonly gpg: GpgHome,
  ) {}

  private async run<S>(args: string[]): Promise<SebRun<S>> {
    const r: Measured = await runMeasured(process.execPath, [...sebNodeArgs(this.bin), ...args], {
      env: this.gpg.env,
    })
    return { ...timingOf(r), summary: lastJsonLine(r.stdout) as S }
  }

  async init(dest: string): Promise<void> {
    await runMeasured(
      process.execPath,
      [...sebNodeArgs(this.bin), 'init', dest, '--recipient', this.gpg.fingerprint],
      {
        env: this.gpg.env,
      },
    )
  }

  backup(src: string, dest: string) {
    return this.run<BackupSummary>(['backup', src, dest, '--json'])
  }

  restore(dest: string, target: string) {
    return this.run<{ filesRestored: number; bytesRestored: number; durationMs: number }>([
      'restore',
      dest,
      target,
      '--json',
    ])
  }

  compact(dest: string) {
    return this.run<Record<string, unknown>>(['compact', dest, '--json'])
  }
}
