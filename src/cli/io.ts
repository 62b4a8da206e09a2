// Why: the CLI writes through this small interface instead of process.stdout/stderr, so tests can run
// commands in-process and read exactly what a user would see.

/** CliIO is where a command writes, plus facts about the terminal and environment. */
export interface CliIO {
  readonly out: (text: string) => void
  readonly err: (text: string) => void
  readonly isTTY: boolean
  /** width of the terminal on stderr (progress lines are cut to fit); undefined when not a terminal */
  readonly columns?: number
  readonly env: NodeJS.ProcessEnv
  readonly signal?: AbortSignal
}

/** processIO is the real terminal. */
export function processIO(signal?: AbortSignal): CliIO {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    get columns() {
      return process.stderr.isTTY ? process.stderr.columns : undefined
    },
    env: process.env,
    signal,
  }
}
