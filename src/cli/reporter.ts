// Why: renders engine progress for the three audiences: a person at a terminal (a live line on
// stderr), a log or cron mail (a few plain lines), and scripts (--json: one JSON object per line).
import type { ProgressEvent, ProgressSink } from '../ui/progress.js'
import { formatBytes } from './format.js'
import type { CliIO } from './io.js'

/** OutputMode is how a command reports. */
export interface OutputMode {
  readonly json: boolean
  readonly quiet: boolean
}

/** makeReporter returns the progress sink for a command run. */
export function makeReporter(io: CliIO, mode: OutputMode): { sink: ProgressSink; done: () => void } {
  let lastDraw = 0
  let drawn = false
  const clear = () => {
    if (drawn) io.err('\r\x1b[K')
    drawn = false
  }
  const sink: ProgressSink = (e: ProgressEvent) => {
    if (mode.json) {
      if (e.type === 'progress' && Date.now() - lastDraw < 1000) return
      lastDraw = Date.now()
      io.out(`${JSON.stringify(e)}\n`)
      return
    }
    if (e.type === 'warning') {
      clear()
      io.err(`seb: warning: ${e.message}\n`)
      return
    }
    if (mode.quiet) return
    if (e.type === 'scanned' && !io.isTTY) {
      io.err(`scanned ${e.entries} entries: ${e.toRead} files (${formatBytes(e.bytesToRead)}) to read\n`)
    }
    if (e.type === 'progress' && io.isTTY) {
      const now = Date.now()
      if (now - lastDraw < 100) return
      lastDraw = now
      const pct = e.bytesTotal ? ` ${Math.floor((100 * e.bytesDone) / e.bytesTotal)}%` : ''
      io.err(`\r\x1b[K${e.filesDone}/${e.filesTotal} files, ${formatBytes(e.bytesDone)}${e.bytesTotal ? ` of ${formatBytes(e.bytesTotal)}` : ''}${pct}, uploaded ${formatBytes(e.bytesUploaded)}`)
      drawn = true
    }
  }
  return { sink, done: clear }
}
