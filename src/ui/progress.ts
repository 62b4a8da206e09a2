// Why: the engine reports what it is doing through this one interface; the CLI renders it as a live
// terminal display, a few plain lines, or JSON lines (restic's ui/backup split). The engine never prints.

/** ProgressEvent is one thing worth telling the user while a command runs. */
export type ProgressEvent =
  | {
      type: 'phase'
      phase: 'lock' | 'index' | 'scan' | 'pack' | 'commit' | 'cleanup' | 'restore' | 'verify' | 'compact'
    }
  | { type: 'scanned'; entries: number; files: number; bytes: number; toRead: number; bytesToRead: number }
  | {
      type: 'progress'
      filesDone: number
      filesTotal: number
      bytesDone: number
      bytesTotal: number
      bytesUploaded: number
    }
  | { type: 'warning'; message: string; path?: string }

/** ProgressSink receives events; it must be cheap and never throw. */
export type ProgressSink = (event: ProgressEvent) => void

/** silent ignores every event. */
export const silent: ProgressSink = () => {}
