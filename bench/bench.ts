// Why: `npm run bench` is how seb's promises (issues 3 and 6) are checked: on a seeded synthetic Maildir it
// drives the built seb CLI through a first backup, a nothing-changed run, N simulated days of mail and a full
// restore, and puts each day's upload next to the day's floor and the seed's policy; with --peers it also
// measures `tar | zstd | gpg`, restic and borg on the same tree in the same run, and with --memory-scaling
// seb's and restic's peak RSS at 100k, 300k and 1M small messages (issue 20). Ratios from one run are what
// count: absolute times are noisy on shared machines.
//
// Usage: node dist/bench/bench.js [--scale 0.05] [--days 30] [--mode recent|uniform|both|none] [--peers]
//        [--files N --mean-size B] [--seed N] [--keep DIR] [--out FILE] [--seed-sizing exact|estimate]
//        [--no-seb] [--seb PATH] [--seb-baseline PATH] [--restore-to DIR] [--repeat N] [--work-dir DIR]
//        [--quiet-wait S] [--redo-above CORES] [--max-redos N] [--memory-scaling [--scaling-files 100000,300000,1000000] [--scaling-mean-size 2000]]
//
// The parts: options.ts (the command line), run.ts (a timed child under GNU time), machine.ts (what else the
// machine did), seb-cli.ts (seb through its CLI), floor.ts (the plain-tool pipelines, the stat walk),
// peer-tools.ts (each tool's command lines), peers.ts (the floor, seb, restic and borg on one tree),
// memory-scaling.ts (seb and restic by tree size), incremental.ts (the day-of-mail series), seed-policy.ts
// (the seed's baseline), rounds.ts (every run, medians), targets.ts (issue 20's verdicts), report/ (the
// Markdown), trees.ts (restore checks, repository sizes), maildir-gen.ts + maildir/ and day-of-mail.ts (the
// synthetic mail), servers/ (local sshd and radosgw for remote-throughput.ts).

import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { makeThrowawayGpg } from './gpg-home.js'
import { type ModeResult, runMode } from './incremental.js'
import { log } from './log.js'
import { describeMachine } from './machine.js'
import { runMemoryScaling } from './memory-scaling.js'
import { parseBenchArgs } from './options.js'
import { runPeers } from './peers.js'
import { fmtBytes } from './report/format.js'
import { modeMarkdown } from './report/modes.js'
import { peersMarkdown } from './report/peers.js'
import { scalingMarkdown } from './report/scaling.js'
import { hasGnuTime, runMeasured, which } from './run.js'

/** toolVersions is the first line of each external tool's version output, for the results. */
async function toolVersions(): Promise<Record<string, string>> {
  const v: Record<string, string> = {}
  const first = async (name: string, args: string[]) => {
    if (!which(name)) return
    const r = await runMeasured(name, args, { check: false })
    v[name] = (r.stdout || r.stderr).trim().split('\n')[0] ?? ''
  }
  await first('tar', ['--version'])
  await first('zstd', ['--version'])
  await first('gpg', ['--version'])
  await first('restic', ['version'])
  await first('borg', ['--version'])
  return v
}

/** main runs the benchmark with the given argv and writes Markdown to stdout and JSON to --out. */
export async function main(argv: string[]): Promise<void> {
  const a = parseBenchArgs(argv)
  if (a.seb && !existsSync(a.seb)) {
    log(`seb CLI not found at ${a.seb}: measuring the floors and the seed policy only`)
    a.seb = null
  }
  if (a.sebBaseline && !existsSync(a.sebBaseline))
    throw new Error(`--seb-baseline: ${a.sebBaseline} not found`)
  const work = a.keep ? resolve(a.keep) : await mkdtemp(join(a.workDir ?? tmpdir(), 'seb-bench-'))
  await mkdir(work, { recursive: true })
  log(`work directory ${work}`)
  const gpg = await makeThrowawayGpg()
  // Every seb run here keeps its local cache in the work folder (removed with it), never in the user's
  // ~/.cache/seb. A restore then finds the cache its backups left, as restic's and borg's do.
  gpg.env.SEB_CACHE_DIR = join(work, 'seb-cache')
  const started = new Date()
  const results: Record<string, unknown> = {
    date: started.toISOString(),
    args: a,
    machine: {
      ...describeMachine(),
      tools: await toolVersions(),
      measuredBy: hasGnuTime() ? "GNU time -f '%e %U %S %M'" : 'wall time only (GNU time absent)',
    },
  }
  const md: string[] = []
  md.push(`## seb benchmark, ${started.toISOString().slice(0, 10)}`)
  md.push('')
  md.push(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmtBytes(totalmem())} RAM, ${platform()} ${release()}, Node ${process.version}. ` +
      `Command: \`node dist/bench/bench.js ${argv.join(' ')}\`. Load average at the start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')}.`,
  )
  if (!a.seb) md.push('', '**seb was not run** (CLI not built or --no-seb): seb columns are empty.')
  try {
    const modes: ModeResult[] = []
    for (const mode of a.modes) {
      const m = await runMode(a, work, mode, gpg)
      modes.push(m)
      md.push('', modeMarkdown(m))
    }
    results.modes = modes
    if (a.peers) {
      const p = await runPeers(a, work, gpg)
      results.peers = p
      md.push(
        '',
        `### Against the floor and peers (same tree, same run${a.repeat > 1 ? `, median of ${a.repeat} alternating runs` : ''})`,
        '',
        peersMarkdown(p),
      )
    }
    if (a.memoryScaling) {
      const r = await runMemoryScaling(a, gpg)
      results.memoryScaling = r
      md.push(
        '',
        `### Memory and time by number of files${a.repeat > 1 ? ` (median of ${a.repeat} alternating runs)` : ''}`,
        '',
        scalingMarkdown(r),
      )
    }
  } finally {
    await gpg.cleanup()
    if (!a.keep) await rm(work, { recursive: true, force: true })
  }
  const text = `${md.join('\n')}\n`
  process.stdout.write(text)
  await mkdir(dirname(a.out), { recursive: true })
  await writeFile(a.out, `${JSON.stringify(results, null, 2)}\n`)
  await writeFile(`${a.out.replace(/\.json$/, '')}.md`, text)
  log(`results written to ${a.out}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? e}\n`)
    process.exit(1)
  })
}
