// Why: docs/storage.md quotes loopback throughput per backend; this script is how those numbers are
// measured, so anyone can reproduce them. It only runs when SEB_STORAGE_BENCH=1 (node --test loads every
// file under test/ and must not start a benchmark):
//   npx tsc -p . && SEB_STORAGE_BENCH=1 node dist/test/storage/throughput.js
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LocalStorage } from '../../src/storage/local.js'
import { RcloneStorage } from '../../src/storage/rclone.js'
import { S3Storage } from '../../src/storage/s3.js'
import { SftpStorage } from '../../src/storage/sftp/store.js'
import { bufferBody, type Handle, type Storage } from '../../src/storage/storage.js'
import { type Radosgw, startRadosgw } from '../helpers/radosgw.js'
import { rcloneSftpEnv } from '../helpers/rclone.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { packName } from './suite.js'

const COUNT = Number(process.env.SEB_BENCH_COUNT ?? 50)
const SIZE = Number(process.env.SEB_BENCH_MIB ?? 4) * 1024 * 1024

async function measure(name: string, s: Storage): Promise<void> {
  const data = randomBytes(SIZE)
  const handles: Handle[] = Array.from({ length: COUNT }, () => ({ type: 'pack', name: packName() }))
  const run = async (fn: (h: Handle) => Promise<void>) => {
    let next = 0
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: s.connections }, async () => {
        while (next < handles.length) await fn(handles[next++]!)
      }),
    )
    return (COUNT * SIZE) / 1024 / 1024 / ((performance.now() - t0) / 1000)
  }
  const up = await run((h) => s.save(h, bufferBody(data)))
  const down = await run(async (h) => {
    await s.load(h, undefined, async (stream) => {
      for await (const _ of stream) {
      }
    })
  })
  console.log(
    `${name.padEnd(14)} save ${up.toFixed(0).padStart(5)} MiB/s   load ${down.toFixed(0).padStart(5)} MiB/s`,
  )
  await s.close()
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seb-bench-'))
  let sshd: Sshd | undefined
  let rgw: Radosgw | undefined
  try {
    console.log(`${COUNT} × ${SIZE / 1024 / 1024} MiB, ${4} transfers at once, 127.0.0.1`)
    await measure('local', new LocalStorage(path.join(dir, 'local')))
    sshd = await startSshd()
    const sftp = {
      host: '127.0.0.1',
      port: sshd.port,
      user: sshd.user,
      identityFile: sshd.clientKey,
      knownHostsPath: sshd.knownHosts,
      sshConfigPath: '/dev/null',
      agent: false as const,
    }
    await measure('sftp', new SftpStorage({ ...sftp, path: 'bench' }))
    await measure(
      'rclone local',
      new RcloneStorage({ remote: path.join(dir, 'rclone'), env: { RCLONE_CONFIG: '/dev/null' } }),
    )
    await measure('rclone sftp', new RcloneStorage({ remote: 'sebsftp:rclone', env: rcloneSftpEnv(sshd) }))
    rgw = await startRadosgw()
    const s3 = new S3Storage({
      bucket: 'bench',
      endpoint: rgw.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
    })
    await s3.save({ type: 'config', name: '' }, bufferBody(Buffer.from('warm-up')))
    await measure('s3 (radosgw)', s3)
  } finally {
    await sshd?.stop()
    await rgw?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.env.SEB_STORAGE_BENCH === '1') await main()
