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
  /**
   * etaOf estimates the time left from the bytes when their total is known, else from the files (a
   * restore knows how many files it writes, not yet how many bytes).
   */
  const etaOf = (p: NonNullable<typeof last>) => {
    const secs = (Date.now() - progressStart) / 1000
    if (p.bytesTotal > 0) {
      const r = rateOf(p)
      return r > 0 ? ((p.bytesTotal - p.bytesDone) / r) * 1000 : null
    }
    if (p.filesTotal > 0 && p.filesDone > 0 && secs > 0.05)
      return ((p.filesTotal - p.filesDone) / (p.filesDone / secs)) * 1000
    return null
  }
  /** percentOf: of the bytes when their total is known, else of the files; null when neither is. */
  const percentOf = (p: NonNullable<typeof last>) => {
    if (p.bytesTotal > 0) return Math.min(100, Math.floor((100 * p.bytesDone) / p.bytesTotal))
    if (p.filesTotal > 0) return Math.min(100, Math.floor((100 * p.filesDone) / p.filesTotal))
    return null
  }

  const clear = () => {
    if (drawn) io.err('\r\x1b[K')
    drawn = false
  }
  /** lines returns the live line in forms from the fullest to the shortest; draw takes the first that fits. */
  const lines = (): string[] => {
    const prefix = options.profile ? `${options.profile}: ` : ''
    const what = PHASE_TEXT[phase] ?? phase
    if (last && (phase === 'pack' || phase === 'restore' || phase === '')) {
      const p = last
      const files = `${formatCount(p.filesDone)}/${formatCount(p.filesTotal)}`
      const pct = percentOf(p)
      const percent = pct === null ? '' : ` (${pct}%)`
      const bytes = `${formatBytes(p.bytesDone)}${p.bytesTotal ? ` of ${formatBytes(p.bytesTotal)}` : ''}`
      const r = rateOf(p)
      const rate = r > 0 ? `${formatBytes(Math.round(r))}/s` : null
      const e = etaOf(p)
      const eta = e === null ? null : `ETA ${formatEta(e)}`
      const uploaded = p.bytesUploaded ? `uploaded ${formatBytes(p.bytesUploaded)}` : null
      const join = (...parts: (string | null)[]) => prefix + parts.filter((x) => x !== null).join(', ')
      const head = `${what || 'working'} ${files} files`
      // The percentage goes with the bytes when they have a total, else with the files.
      const full = p.bytesTotal ? [head, `${bytes}${percent}`] : [`${head}${percent}`, bytes]
      // Narrow terminals lose the least useful parts first; the count, percentage and ETA stay.
      return [
        join(...full, rate, eta, uploaded),
        join(...full, rate, eta),
        join(...full, eta),
        join(`${head}${percent}`, eta),
        `${prefix}${files}${percent}${eta ? ` ${eta}` : ''}`,
      ]
    }
    const secs = ((Date.now() - phaseStart) / 1000).toFixed(0)
    return [`${prefix}${what}… ${secs} s`]
  }
  const draw = () => {
    lastDraw = Date.now()
    const forms = lines()
    const width = io.columns
    // Shorter than the width: a line that fills the last column makes some terminals wrap.
    let text = width ? (forms.find((l) => l.length < width) ?? forms[forms.length - 1]!) : forms[0]!
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
      // A new phase: the progress of the previous one is over.
      last = null
    }
    if (e.type === 'progress') {
      // Rates count from the start of the phase that reports progress (a restore's first event comes
      // only when its first pack is written); a count going back starts over.
      if (!last) progressStart = phaseStart
      else if (e.filesDone < last.filesDone) progressStart = Date.now()
      last = e
    }
    if (mode.json) {
      if (e.type === 'progress') {
        const final = e.filesDone === e.filesTotal && (e.bytesTotal === 0 || e.bytesDone === e.bytesTotal)
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
    if (e.type === 'phase' || (e.type === 'progress' && Date.now() - lastDraw >= interval)) draw()
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
