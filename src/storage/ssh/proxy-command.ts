// Why: a ProxyCommand in the user's ssh configuration (`ssh -W %h:%p gateway`, `nc -X 5 -x proxy %h
// %p`, a corporate connector) is how that host must be reached. As ssh does, seb runs it with the
// shell and speaks SSH over its stdin and stdout; its stderr is kept for the error message.
import { type ChildProcess, spawn } from 'node:child_process'
import { Duplex } from 'node:stream'

/** ProxyProcess is a running ProxyCommand and the socket made of its stdio. */
export interface ProxyProcess {
  readonly socket: Duplex
  readonly child: ChildProcess
  /** stderrTail returns the last line the command wrote to stderr ('' if none). */
  stderrTail(): string
  /** stop ends the command (SIGTERM); safe to call more than once. */
  stop(): void
}

/**
 * startProxyCommand runs `command` (tokens already expanded) as ssh does — `$SHELL -c "exec …"` — and
 * returns its stdio as a Duplex for ssh2's `sock`.
 */
export function startProxyCommand(command: string, env: NodeJS.ProcessEnv): ProxyProcess {
  const shell = env.SHELL || '/bin/sh'
  const child = spawn(shell, ['-c', `exec ${command}`], { env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096)
  })
  const socket = Duplex.from({ readable: child.stdout!, writable: child.stdin! })
  // A command that exits early makes writes fail with EPIPE; ssh2 sees the end of the stream instead.
  socket.on('error', () => {})
  child.on('error', (err) => socket.destroy(err))
  let stopped = false
  return {
    socket,
    child,
    stderrTail() {
      const lines = stderr
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
      return lines[lines.length - 1] ?? ''
    },
    stop() {
      if (stopped) return
      stopped = true
      socket.destroy()
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    },
  }
}
