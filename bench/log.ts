// Why: the benchmark's progress goes to stderr, time-stamped, so that stdout holds only the Markdown.

/** log writes one progress line to stderr. */
export function log(msg: string) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)
}
