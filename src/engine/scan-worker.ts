// Why: the scan is tens of thousands of lstat calls on one thread; run on a worker thread it overlaps
// with loading the index on the main thread (a nothing-changed run is little more than those two), and
// with starting the read workers in a first backup.
import { parentPort } from 'node:worker_threads'
import { makeExcluder } from '../core/excludes.js'
import { collectTree } from './scanner.js'

/** ScanRequest is the one message the worker gets: what to scan, and what to leave out. */
export interface ScanRequest {
  readonly root: string
  readonly patterns: string[]
}

parentPort?.once('message', (req: ScanRequest) => {
  collectTree(req.root, makeExcluder(req.patterns)).then(
    (result) =>
      parentPort!.postMessage({ result }, [
        result.kinds.buffer as ArrayBuffer,
        result.modes.buffer as ArrayBuffer,
        result.numbers.buffer as ArrayBuffer,
      ]),
    (err: unknown) => parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) }),
  )
})
