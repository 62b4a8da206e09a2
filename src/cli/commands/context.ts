// Why: what every command needs from the global options: cache folder, passphrase, output mode.
import type { Command } from 'commander'
import { cacheBase } from '../../repo/cache.js'
import type { CliIO } from '../io.js'
import { makeReporter, type OutputMode } from '../reporter.js'
import { readPassphrase } from '../secrets.js'

/** GlobalOptions are the options every command accepts. */
export interface GlobalOptions {
  cacheDir?: string
  passphraseFile?: string
  passphraseFd?: string
  json?: boolean
  quiet?: boolean
}

/** commandContext resolves the global options of the running command. */
export function commandContext(cmd: Command, io: CliIO) {
  const g = cmd.optsWithGlobals() as GlobalOptions
  const mode: OutputMode = { json: Boolean(g.json), quiet: Boolean(g.quiet) }
  return {
    mode,
    cacheBase: g.cacheDir ?? cacheBase(io.env),
    passphrase: () => readPassphrase(g, io.env),
    reporter: () => makeReporter(io, mode),
  }
}

/** collect is commander's accumulator for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
