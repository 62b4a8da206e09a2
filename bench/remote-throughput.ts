// Why: docs/storage.md quotes what a whole `seb backup` and `seb restore` cost per kind of destination —
// scanning, hashing, tar + zstd + gpg, the transfers and the commit together — not just raw saves and
// loads. This script measures that on loopback, starting the servers itself like the tests do (a private
// OpenSSH sshd, a private Ceph radosgw), so anyone can reproduce the table:
//
//   npx tsc -p . && node dist/bench/remote-throughput.js [--mb 200] [--connections 4] [--keep]
//
// It prints a Markdown table; MiB/s is the size of the source tree divided by the wall time of the command.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { makeThrowawayGpg } from './gpg-home.js'
import { generateMaildir } from './maildir/write.js'
import { runMeasured } from './run.js'
import { sebNodeArgs, sebNodeEnv } from './seb-cli.js'
import { type Radosgw, startRadosgw } from './servers/radosgw.js'
import { makeSshHome } from './servers/ssh-home.js'
import { type Sshd, startSshd } from './servers/sshd.js'
import { compareTrees } from './trees.js'

/** The built CLI next to this script. */
const SEB_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/bin.js')

/** The generator's tree at scale 1 holds about this many MiB (87,107 files, ~1.17 GB). */
const MIB_AT_SCALE_1 = 1116

interface Row {
  name: string
  backupS: number
  restoreS: number
}

async function timed(label: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const r = await runMeasured(process.execPath, [...sebNodeArgs(SEB_BIN), ...args], {
    env: { ...env, ...sebNodeEnv(SEB_BIN) },
    check: false,
  })
  if (r.code !== 0) throw new Error(`${label}: seb ${args.join(' ')} exited ${r.code}:\n${r.stderr}`)
  return r.durationMs / 1000
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mb: { type: 'string', default: '200' },
      connections: { type: 'string', default: '4' },
      keep: { type: 'boolean', default: false },
    },
  })
  const mb = Number(values.mb)
  if (!(mb > 0)) throw new Error('--mb: give a size in MiB, e.g. --mb 200')
  const work = mkdtempSync(path.join(os.tmpdir(), 'seb-remote-bench-'))
  const g = await makeThrowawayGpg()
  let sshd: Sshd | undefined
  let rgw: Radosgw | undefined
  try {
    const src = path.join(work, 'Mail')
    const gen = await generateMaildir(src, { scale: mb / MIB_AT_SCALE_1 })
    const bytes = gen.stats.bytes + gen.stats.otherBytes
    const mib = bytes / 1024 / 1024
    ;[sshd, rgw] = await Promise.all([startSshd(), startRadosgw()])
    const ssh = makeSshHome(path.join(work, 'home'), sshd)
    // As a user runs seb: ssh reads ~/.ssh (no agent), S3 takes its endpoint and keys from the environment.
    const base: NodeJS.ProcessEnv = {
      ...g.env,
      HOME: ssh.home,
      SSH_AUTH_SOCK: '',
      SEB_S3_ENDPOINT: rgw.endpoint,
      AWS_ACCESS_KEY_ID: rgw.accessKeyId,
      AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
      AWS_REGION: 'us-east-1',
    }
    const fpr = g.fingerprint
    const destinations: [string, string][] = [
      ['local dir', path.join(work, 'repo-local')],
      [
        `sftp (OpenSSH ${sshVersion()})`,
        `sftp://${sshd.user}@127.0.0.1:${sshd.port}${path.join(sshd.dataDir, 'repo')}`,
      ],
      ['s3 (Ceph radosgw, memstore)', 's3://seb-bench/repo'],
    ]
    const rows: Row[] = []
    for (const [i, [name, dest]] of destinations.entries()) {
      const env = {
        ...base,
        SEB_CACHE_DIR: path.join(work, `cache${i}`),
        SEB_CONNECTIONS: values.connections,
      }
      const out = path.join(work, `restored${i}`)
      await timed(name, ['init', dest, '--recipient', fpr], env)
      const backupS = await timed(name, ['backup', src, dest], env)
      const restoreS = await timed(name, ['restore', dest, out], env)
      // A benchmark of a wrong restore is worthless: check it (the generated tree has no files in tmp/,
      // which seb leaves out by default).
      const cmp = await compareTrees(src, out)
      if (!cmp.identical) throw new Error(`${name}: the restore differs: ${cmp.examples.join('; ')}`)
      rmSync(out, { recursive: true, force: true })
      rows.push({ name, backupS, restoreS })
      console.error(`${name}: backup ${backupS.toFixed(1)} s, restore ${restoreS.toFixed(1)} s`)
    }
    const rate = (s: number) => `${(mib / s).toFixed(1)} MiB/s`
    console.log(
      `\n${gen.stats.files + gen.stats.otherFiles} files, ${mib.toFixed(0)} MiB (generateMaildir, seed 1), ` +
        `${values.connections} connections, ${os.cpus().length} cores, Node ${process.version}, 127.0.0.1\n`,
    )
    console.log('| Destination | backup | backup MiB/s | restore | restore MiB/s |')
    console.log('|---|---|---|---|---|')
    for (const r of rows)
      console.log(
        `| ${r.name} | ${r.backupS.toFixed(1)} s | ${rate(r.backupS)} | ${r.restoreS.toFixed(1)} s | ${rate(r.restoreS)} |`,
      )
  } finally {
    await Promise.allSettled([sshd?.stop(), rgw?.stop()])
    await g.cleanup()
    if (values.keep) console.error(`kept ${work}`)
    else rmSync(work, { recursive: true, force: true })
  }
}

function sshVersion(): string {
  // `ssh -V` prints the OpenSSH version (the same package as sshd) on stderr.
  const r = spawnSync('ssh', ['-V'], { encoding: 'utf8' })
  return /OpenSSH_([\d.p]+)/.exec(`${r.stderr}${r.stdout}`)?.[1] ?? '?'
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
