// Why: the S3 backend is tested, and the remote benchmark measured, against a real, faithful S3 server:
// Ceph's radosgw (SigV4, ranges, pagination, multipart), with one monitor and one in-memory OSD, all on
// 127.0.0.1 in a temp dir. Starting takes ~13 s, so a test file starts it once. Stopping ends every
// process tree it started.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { descendants, freePort, requireBinary } from './sshd.js'

const run = promisify(execFile)

/** Radosgw is a running S3 server. */
export interface Radosgw {
  readonly endpoint: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly dir: string
  stop(): Promise<void>
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  log: () => string,
): Promise<void> {
  const t0 = Date.now()
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() - t0 > timeoutMs)
      throw new Error(`radosgw helper: ${what} not ready after ${timeoutMs} ms\n${log()}`)
    await sleep(250)
  }
}

/** startRadosgw starts mon + osd + radosgw and creates an S3 user; returns when S3 answers. */
export async function startRadosgw(): Promise<Radosgw> {
  for (const [bin, pkg] of [
    ['ceph-mon', 'ceph-mon'],
    ['ceph-osd', 'ceph-osd'],
    ['radosgw', 'radosgw'],
    ['ceph', 'ceph-common'],
    ['monmaptool', 'ceph-base'],
    ['ceph-authtool', 'ceph-common'],
    ['radosgw-admin', 'radosgw'],
  ] as const)
    requireBinary(bin, pkg)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seb-rgw-'))
  const children: ChildProcess[] = []
  let stderr = ''
  const stop = async () => {
    const pids = children.flatMap((c) =>
      c.pid && c.exitCode === null && c.signalCode === null ? [c.pid, ...descendants(c.pid)] : [],
    )
    const waits = children.map((c) =>
      c.exitCode !== null || c.signalCode !== null
        ? Promise.resolve()
        : new Promise((r) => c.once('exit', r)),
    )
    for (const p of pids.reverse()) {
      try {
        process.kill(p, 'SIGTERM')
      } catch {}
    }
    const t = setTimeout(() => {
      for (const p of pids) {
        try {
          process.kill(p, 'SIGKILL')
        } catch {}
      }
    }, 5000)
    await Promise.all(waits)
    clearTimeout(t)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const fsid = randomUUID()
    const monPort = await freePort()
    const rgwPort = await freePort()
    for (const d of ['run', 'log', 'rgw', 'mon.a']) mkdirSync(path.join(dir, d))
    const conf = path.join(dir, 'ceph.conf')
    writeFileSync(
      conf,
      `[global]
fsid = ${fsid}
mon_host = [v2:127.0.0.1:${monPort}]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
run_dir = ${dir}/run
admin_socket = ${dir}/run/$name.asok
log_file = ${dir}/log/$name.log
pid_file = ${dir}/run/$name.pid
mon_data = ${dir}/mon.$id
osd_data = ${dir}/osd.$id
osd_objectstore = memstore
memstore_device_bytes = 1073741824
keyring = ${dir}/keyring
[client.rgw.test]
rgw_frontends = beast endpoint=127.0.0.1:${rgwPort} tcp_nodelay=1
rgw_data = ${dir}/rgw
ms_mon_client_mode = crc
auth_client_required = none
`,
    )
    const keyring = path.join(dir, 'keyring')
    const monmap = path.join(dir, 'monmap')
    await run('ceph-authtool', [
      '--create-keyring',
      keyring,
      '--gen-key',
      '-n',
      'mon.',
      '--cap',
      'mon',
      'allow *',
    ])
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, monmap])
    await run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', monmap, '--keyring', keyring])
    const daemon = (bin: string, args: string[]) => {
      const c = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] })
      c.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 20_000) stderr += `${bin}: ${d}`
      })
      children.push(c)
      return c
    }
    const ceph = (...args: string[]) => run('ceph', ['-c', conf, '--connect-timeout', '5', ...args])
    daemon('ceph-mon', ['-c', conf, '-i', 'a', '-f'])
    await waitFor(
      'ceph-mon',
      30_000,
      async () => (await ceph('mon', 'stat')).stdout.length > 0,
      () => stderr,
    )
    const osdUuid = randomUUID()
    const id = (await ceph('osd', 'new', osdUuid)).stdout.trim()
    mkdirSync(path.join(dir, `osd.${id}`), { recursive: true })
    await run('ceph-osd', ['-c', conf, '-i', id, '--mkfs', '--osd-uuid', osdUuid])
    daemon('ceph-osd', ['-c', conf, '-i', id, '-f'])
    await waitFor(
      'ceph-osd',
      60_000,
      async () => /1 up/.test((await ceph('osd', 'stat')).stdout),
      () => stderr,
    )
    daemon('radosgw', ['-c', conf, '-n', 'client.rgw.test', '-f'])
    const endpoint = `http://127.0.0.1:${rgwPort}`
    await waitFor(
      'radosgw',
      90_000,
      async () => (await fetch(`${endpoint}/`)).status === 200,
      () => stderr,
    )
    const accessKeyId = 'SEBTESTACCESSKEY'
    const secretAccessKey = 'sebtestsecretkey0123456789'
    await run('radosgw-admin', [
      '-c',
      conf,
      '-n',
      'client.rgw.test',
      'user',
      'create',
      '--uid=test',
      '--display-name=test',
      `--access-key=${accessKeyId}`,
      `--secret-key=${secretAccessKey}`,
    ])
    return { endpoint, accessKeyId, secretAccessKey, dir, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
