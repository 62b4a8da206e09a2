// Why: the benchmark's command line, parsed in one place so that the tests can check its defaults and every
// part of the run reads the same settings. See docs/benchmarks.md for what each option does.

import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { SelectionMode } from './day-of-mail.js'
import type { GenerateOptions } from './maildir/plan.js'

const here = dirname(fileURLToPath(import.meta.url))

/** Parsed command line of the benchmark. */
export interface BenchArgs {
  scale: number
  days: number
  modes: SelectionMode[]
  peers: boolean
  files?: number
  meanSize?: number
  seed: number
  keep?: string
  out: string
  seedSizing: 'exact' | 'estimate'
  seb: string | null
  /** a second seb CLI run in the same rounds as `seb` (peers, memory scaling), for before/after comparisons */
  sebBaseline: string | null
  /** where restores write (default: the work folder); a tmpfs takes the disk's writeback out of the ratio */
  restoreTo?: string
  /** peers, memory scaling: how many times each timed step runs (alternating tools); medians are reported */
  repeat: number
  /** run the memory-scaling series: seb and restic at each of scalingFiles small messages */
  memoryScaling: boolean
  /** message counts of the memory-scaling series (default 100,000, 300,000 and 1,000,000) */
  scalingFiles: number[]
  /** mean message size of the memory-scaling trees (default 2,000 B) */
  scalingMeanSize: number
  /** where to work (default: a new folder under the temp dir; memory scaling: /dev/shm when it fits) */
  workDir?: string
  /** before each timed step, wait at most this long for the machine to be quiet (--quiet-wait, seconds) */
  quietWaitMs: number
  /** a run during which other processes took more than this many cores is measured again (--redo-above) */
  redoAbove: number
  /** at most this many times per step (--max-redos) */
  maxRedos: number
}

/** parseBenchArgs reads the benchmark's options (see the module comment). */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: 'string', default: '1' },
      days: { type: 'string', default: '30' },
      mode: { type: 'string', default: 'both' },
      peers: { type: 'boolean', default: false },
      files: { type: 'string' },
      'mean-size': { type: 'string' },
      seed: { type: 'string', default: '1' },
      keep: { type: 'string' },
      out: { type: 'string' },
      'seed-sizing': { type: 'string', default: 'exact' },
      'no-seb': { type: 'boolean', default: false },
      seb: { type: 'string' },
      'restore-to': { type: 'string' },
      repeat: { type: 'string', default: '1' },
      'seb-baseline': { type: 'string' },
      'memory-scaling': { type: 'boolean', default: false },
      'scaling-files': { type: 'string', default: '100000,300000,1000000' },
      'scaling-mean-size': { type: 'string', default: '2000' },
      'work-dir': { type: 'string' },
      'quiet-wait': { type: 'string', default: '60' },
      'redo-above': { type: 'string', default: '0.25' },
      'max-redos': { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  if (values.help) {
    process.stdout.write(
      'usage: node dist/bench/bench.js [--scale 0.05] [--days 30] [--mode recent|uniform|both|none] [--peers]\n' +
        '       [--files N --mean-size B] [--seed N] [--keep DIR] [--out FILE] [--seed-sizing exact|estimate]\n' +
        '       [--no-seb] [--seb PATH] [--seb-baseline PATH] [--restore-to DIR] [--repeat N] [--work-dir DIR]\n' +
        '       [--quiet-wait S] [--redo-above CORES] [--max-redos N]\n' +
        '       [--memory-scaling [--scaling-files 100000,300000,1000000] [--scaling-mean-size 2000]]\n' +
        'See docs/benchmarks.md.\n',
    )
    process.exit(0)
  }
  const mode = values.mode
  if (mode !== 'recent' && mode !== 'uniform' && mode !== 'both' && mode !== 'none')
    throw new Error(`--mode: recent, uniform, both or none, not ${mode}`)
  const sizing = values['seed-sizing']
  if (sizing !== 'exact' && sizing !== 'estimate') throw new Error('--seed-sizing: exact or estimate')
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v}`)
    return n
  }
  const sebPath = values.seb ?? resolve(here, '../src/cli/bin.js')
  return {
    scale: num(values.scale, 'scale')!,
    days: Math.floor(num(values.days, 'days')!),
    modes: mode === 'both' ? ['recent', 'uniform'] : mode === 'none' ? [] : [mode],
    peers: values.peers,
    files: num(values.files, 'files'),
    meanSize: num(values['mean-size'], 'mean-size'),
    seed: num(values.seed, 'seed')!,
    keep: values.keep,
    out: values.out ?? resolve(here, '../../bench/results/latest.json'),
    seedSizing: sizing,
    seb: values['no-seb'] ? null : sebPath,
    restoreTo: values['restore-to'] ? resolve(values['restore-to']) : undefined,
    repeat: Math.max(1, Math.floor(num(values.repeat, 'repeat')!)),
    sebBaseline: values['seb-baseline'] ? resolve(values['seb-baseline']) : null,
    memoryScaling: values['memory-scaling'],
    scalingFiles: values['scaling-files'].split(',').map((f) => {
      const n = Math.floor(num(f.trim(), 'scaling-files')!)
      if (!(n > 0)) throw new Error(`--scaling-files: not a count of messages: ${f}`)
      return n
    }),
    scalingMeanSize: num(values['scaling-mean-size'], 'scaling-mean-size')!,
    workDir: values['work-dir'] ? resolve(values['work-dir']) : undefined,
    quietWaitMs: num(values['quiet-wait'], 'quiet-wait')! * 1000,
    redoAbove: num(values['redo-above'], 'redo-above')!,
    maxRedos: Math.floor(num(values['max-redos'], 'max-redos')!),
  }
}

/** generateOptionsOf is the generator's options for the benchmark's tree (--scale, --seed, --files, --mean-size). */
export function generateOptionsOf(a: BenchArgs): GenerateOptions {
  return { scale: a.scale, seed: a.seed, files: a.files, meanSize: a.meanSize }
}
