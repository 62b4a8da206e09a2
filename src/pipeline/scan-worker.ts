// Why: the scan is tens of thousands of lstat calls; run on worker threads it overlaps with loading the
// index on the main thread, and two of them scan a mail tree in about 60 % of one's time (each takes
// a folder two levels down in turn; scanner.ts merges the parts in order).
import { parentPort } from 'node:worker_threads'
import { type Excluder, makeExcluder } from '../core/excludes.js'
import { collectTree, type ScanReply, type ScanTaskRequest } from './scanner.js'

/** ScanRequest is the first message the worker gets: what to scan, and what to leave out. */
export interface ScanRequest {
  readonly root: string
  readonly patterns: string[]
}

let setup: { root: string; exclude: Excluder } | null = null

// Then each message asks for a part of the tree (ScanTaskRequest), answered with its columns.
parentPort?.on('message', (req: ScanRequest | ScanTaskRequest) => {
  if (!setup) {
    const r = req as ScanRequest
    setup = { root: r.root, exclude: makeExcluder(r.patterns) }
    return
  }
  collectTree(setup.root, setup.exclude, undefined, req as ScanTaskRequest).then(
    (result) =>
      parentPort!.postMessage({ result } satisfies ScanReply, [
        result.kinds.buffer as ArrayBuffer,
        result.modes.buffer as ArrayBuffer,
        result.numbers.buffer as ArrayBuffer,
      ]),
    (err: unknown) =>
      parentPort!.postMessage({
        error: err instanceof Error ? err.message : String(err),
      } satisfies ScanReply),
  )
})
