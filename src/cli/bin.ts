#!/usr/bin/env -S MALLOC_TRIM_THRESHOLD_=131072 node --max-semi-space-size=4
// Why: the `seb` executable: wires the real terminal and signals to the CLI and sets the exit code.
// Ctrl-C or SIGTERM aborts the run cleanly (the engine leaves the repository consistent; exit 130);
// a second one exits at once.
// The flag on the first line caps the main thread's young generation (V8 lets it grow to 2 × 16 MB
// while a first backup allocates, most of it empty): peak memory of a first backup at 87,000 files
// 264–300 MiB → 234–240 MiB, for about 2 % more time (docs/decisions.md, "Memory"). V8 reads it only
// at start, so it cannot be set from here; the tests and the benchmark run seb with this same line.
// MALLOC_TRIM_THRESHOLD_ makes glibc give freed memory back to the system past 128 KiB instead of
// letting its threshold grow with the largest buffer freed (docs/decisions.md, "Memory"); like the flag,
// it only applies from the process's start.
import { ExitCode } from '../exit-codes.js'
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
