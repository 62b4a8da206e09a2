// Why: the scan is tens of thousands of lstat calls; run on worker threads it overlaps with loading the
// index on the main thread, and two of them scan a mail tree in about 60 % of one's time (each takes
// a folder two levels down in turn; scanner.ts merges the parts in order).
import { type Excluder, makeExcluder } from '../core/excludes.js'
import { serve } from './channel.js'
import { collectTree, type ScanProtocol } from './scanner.js'

let setup: { root: string; exclude: Excluder } | null = null

serve<ScanProtocol>(
  {
    setup(req) {
      setup = { root: req.root, exclude: makeExcluder(req.patterns) }
      return null
    },
    scan(req) {
      if (!setup) throw new Error('scan worker: not set up')
      return collectTree(setup.root, setup.exclude, undefined, req)
    },
  },
  (op, reply) => {
    if (op !== 'scan') return []
    const r = reply as Awaited<ReturnType<typeof collectTree>>
    return [r.kinds.buffer as ArrayBuffer, r.modes.buffer as ArrayBuffer, r.numbers.buffer as ArrayBuffer]
  },
)
