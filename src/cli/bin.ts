#!/usr/bin/env node
// Why: the `seb` executable: wires the real terminal and signals to the CLI and sets the exit code.
// Ctrl-C or SIGTERM aborts the run cleanly (the engine leaves the repository consistent; exit 130);
// a second one exits at once.
import { ExitCode } from './exit-codes.js'
import { processIO } from './io.js'
import { run } from './main.js'

const controller = new AbortController()
let signals = 0
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (++signals > 1) process.exit(ExitCode.Interrupted)
    controller.abort(new Error('interrupted'))
  })
}
// `seb ls DEST | head`: a closed pipe is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw err
  })
}
run(process.argv.slice(2), processIO(controller.signal)).then(
  (code) => {
    process.exitCode = controller.signal.aborted && code !== 0 ? ExitCode.Interrupted : code
  },
  (err) => {
    process.stderr.write(`seb: unexpected error: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = ExitCode.Error
  },
)
