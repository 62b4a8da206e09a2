// Why: what every command needs from the global options: cache folder, passphrase, output mode.
import type { Command } from 'commander'
import { cacheBase } from '../../repo/cache.js'
import { openDestination } from '../destination.js'
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
  limitUpload?: string
  connections?: string
  s3Endpoint?: string
  s3Region?: string
  s3PathStyle?: boolean
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
    /** open opens the destination with the global connection options. */
    open: (dest: string) =>
      openDestination(dest, {
        limitUpload: g.limitUpload,
        connections: g.connections,
        s3Endpoint: g.s3Endpoint,
        s3Region: g.s3Region,
        s3PathStyle: g.s3PathStyle,
        onRetry: (message) => {
          if (mode.json) io.out(`${JSON.stringify({ type: 'warning', message })}\n`)
          else if (!mode.quiet) io.err(`seb: note: ${message}\n`)
        },
      }),
  }
}

/** collect is commander's accumulator for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}
