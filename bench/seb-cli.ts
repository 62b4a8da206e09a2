// Why: the benchmark measures seb as a user runs it: the built CLI as a child process, with the V8 flags of
// its first line, reading the JSON summary it prints last. The tests start seb the same way.

import { readFileSync } from 'node:fs'
import type { GpgHome } from './gpg-home.js'
import { type Measured, runMeasured, type Timing, timingOf } from './run.js'

/**
 * sebNodeArgs is what `node` is given to run the seb executable `bin` as its first line says
 * (`#!/usr/bin/env -S [NAME=VALUE…] node FLAGS`): the flags, then `bin`. The benchmark and the tests run
 * seb so, with the same V8 flags a user's `seb` gets, whichever `node` is on the PATH; sebNodeEnv is the
 * environment that line sets (glibc's malloc settings, which only apply from a process's start).
 */
export function sebNodeArgs(bin: string): string[] {
  return [...launcher(bin).flags, bin]
}

/** sebNodeEnv is the environment the first line of `bin` sets for node (empty when none). */
export function sebNodeEnv(bin: string): Record<string, string> {
  return launcher(bin).env
}

function launcher(bin: string): Launcher {
  let l = launchers.get(bin)
  if (!l) {
    const first = readFileSync(bin, 'utf8').split('\n', 1)[0]!
    const m = /^#!\/usr\/bin\/env -S((?: [A-Za-z_]\w*=\S*)*) node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first)
    if (!m)
      throw new Error(`${bin}: first line is not '#!/usr/bin/env -S [NAME=VALUE…] node [flags]': ${first}`)
    const env: Record<string, string> = {}
    for (const a of m[1]!.split(' ').filter(Boolean))
      env[a.slice(0, a.indexOf('='))] = a.slice(a.indexOf('=') + 1)
    l = { flags: m[2]!.split(' ').filter(Boolean), env }
    launchers.set(bin, l)
  }
  return l
}

interface Launcher {
  readonly flags: string[]
  readonly env: Record<string, string>
}

/** the flags and environment read from each executable's first line (read once: the tests run seb hundreds of times) */
const launchers = new Map<string, Launcher>()

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
      env: { ...this.gpg.env, ...sebNodeEnv(this.bin) },
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
