// Why: renders engine progress for the three audiences: a person at a terminal (one live line on
// stderr with files, bytes, rate and ETA, redrawn in place), a log or cron mail (a few plain lines),
// and scripts (--json: one JSON object per line, schema in docs/json-output.md). The engine never
// prints; it only emits ProgressEvents.
import type { ProgressEvent, ProgressSink } from '../ui/progress.js'
import { formatBytes, formatCount, formatEta, plural } from './format.js'
import type { CliIO } from './io.js'

/** OutputMode is how a command reports. */
export interface OutputMode {
  readonly json: boolean
  readonly quiet: boolean
}

/** ReporterOptions tune one reporter. */
export interface ReporterOptions {
  /** the profile being run (`seb backup --all`): prefixed to the live line and added to JSON events */
  readonly profile?: string
}

/** Reporter is a progress sink plus `done`, which stops redrawing and clears the live line. */
export interface Reporter {
  readonly sink: ProgressSink
  readonly done: () => void
}

/** DEFAULT_INTERVAL_MS: how often the live line is redrawn, and JSON progress events emitted. */
const DEFAULT_INTERVAL_MS = { tty: 200, json: 1000 }

/**
 * progressInterval is the minimum time between two progress updates: SEB_PROGRESS_INTERVAL (ms; 0 =
 * every event) or the default for the mode.
 */
export function progressInterval(env: NodeJS.ProcessEnv, json: boolean): number {
  const v = env.SEB_PROGRESS_INTERVAL?.trim()
  if (v && /^\d+$/.test(v)) return Number(v)
  return json ? DEFAULT_INTERVAL_MS.json : DEFAULT_INTERVAL_MS.tty
}

const PHASE_TEXT: Record<string, string> = {
  lock: 'locking the repository',
  index: 'reading the index',
  scan: 'scanning the source',
  pack: 'packing',
  commit: 'writing the commit',
  cleanup: 'cleaning up',
  restore: 'restoring',
  verify: 'verifying',
  compact: 'compacting',
}

/** makeReporter returns the progress sink for a command run. */
export function makeReporter(io: CliIO, mode: OutputMode, options: ReporterOptions = {}): Reporter {
  const interval = progressInterval(io.env, mode.json)
  const t0 = Date.now()
  let phase = ''
  let phaseStart = t0
  let last: Extract<ProgressEvent, { type: 'progress' }> | null = null
  let progressStart = 0
  let lastDraw = 0
  let drawn = false
  let timer: NodeJS.Timeout | null = null

  const rateOf = (p: NonNullable<typeof last>) => {
    const secs = (Date.now() - progressStart) / 1000
    return secs > 0.05 ? p.bytesDone / secs : 0
  }
  const etaOf = (p: NonNullable<typeof last>) => {
    const r = rateOf(p)
    return p.bytesTotal > 0 && r > 0 ? ((p.bytesTotal - p.bytesDone) / r) * 1000 : null
  }

  const clear = () => {
    if (drawn) io.err('\r\x1b[K')
    drawn = false
  }
  const line = (): string => {
    const prefix = options.profile ? `${options.profile}: ` : ''
    const what = PHASE_TEXT[phase] ?? phase
    if (last && (phase === 'pack' || phase === 'restore' || phase === '')) {
      const p = last
      const parts = [`${what || 'working'} ${formatCount(p.filesDone)}/${formatCount(p.filesTotal)} files`]
      const pct = p.bytesTotal ? ` (${Math.min(100, Math.floor((100 * p.bytesDone) / p.bytesTotal))}%)` : ''
      parts.push(`${formatBytes(p.bytesDone)}${p.bytesTotal ? ` of ${formatBytes(p.bytesTotal)}` : ''}${pct}`)
      const r = rateOf(p)
      if (r > 0) parts.push(`${formatBytes(Math.round(r))}/s`)
      const eta = etaOf(p)
      if (eta !== null) parts.push(`ETA ${formatEta(eta)}`)
      if (p.bytesUploaded) parts.push(`uploaded ${formatBytes(p.bytesUploaded)}`)
      return prefix + parts.join(', ')
    }
    const secs = ((Date.now() - phaseStart) / 1000).toFixed(0)
    return `${prefix}${what}… ${secs} s`
  }
  const draw = () => {
    lastDraw = Date.now()
    let text = line()
    const width = io.columns
    if (width && text.length >= width) text = `${text.slice(0, Math.max(1, width - 2))}…`
    io.err(`\r\x1b[K${text}`)
    drawn = true
  }
  const json = (e: ProgressEvent | Record<string, unknown>) => {
    io.out(`${JSON.stringify(options.profile ? { ...e, profile: options.profile } : e)}\n`)
  }

  const sink: ProgressSink = (e: ProgressEvent) => {
    if (e.type === 'phase') {
      phase = e.phase
      phaseStart = Date.now()
    }
    if (e.type === 'progress') {
      if (!last || e.filesDone < last.filesDone) progressStart = Date.now()
      last = e
    }
    if (mode.json) {
      if (e.type === 'progress') {
        const final = e.filesDone === e.filesTotal && e.bytesDone === e.bytesTotal
        if (!final && Date.now() - lastDraw < interval) return
        lastDraw = Date.now()
        const eta = etaOf(e)
        json({
          ...e,
          elapsedMs: Date.now() - t0,
          bytesPerSecond: Math.round(rateOf(e)),
          etaMs: eta === null ? null : Math.round(eta),
        })
        return
      }
      json(e)
      return
    }
    if (e.type === 'warning') {
      clear()
      io.err(`seb: warning: ${e.message}\n`)
      return
    }
    if (mode.quiet) return
    if (!io.isTTY) {
      if (e.type === 'scanned')
        io.err(
          `scanned ${plural(e.entries, 'entry', 'entries')}: ${plural(e.toRead, 'file')} (${formatBytes(e.bytesToRead)}) to read\n`,
        )
      return
    }
    if (e.type === 'phase') {
      // A new phase: the progress of the previous one is over.
      if (e.phase !== 'pack' && e.phase !== 'restore') last = null
      draw()
    } else if (e.type === 'progress' && Date.now() - lastDraw >= interval) draw()
    // While a phase reports nothing (scanning, reading the index), keep the elapsed time moving.
    if (!timer) {
      timer = setInterval(draw, Math.max(interval, 100))
      timer.unref()
    }
  }
  return {
    sink,
    done: () => {
      if (timer) clearInterval(timer)
      timer = null
      clear()
    },
  }
}
