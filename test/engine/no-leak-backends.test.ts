// Nothing leaks, on every backend (issue 18): a local folder, SFTP (a real sshd), S3 (a real radosgw)
// and rclone (over the sshd), a passphrase repository, and what killed runs leave behind — a pack's
// temporary object half written (fault point pack:upload-half), a commit object without its signature
// (commit:object-saved), the journal's packs, a lock. Every object the destination holds is searched for
// plaintext of the source (names, subjects, bodies, the source's own path); the plaintext objects hold
// only their documented fields; every other object really decrypts with the system gpg.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { cliEnv, makeSshHome, type SshHome } from '../e2e/env.js'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import {
  assertDecryptable,
  assertNoPlaintext,
  assertPublicFactsOnly,
  readFolder,
  type StoredObject,
} from '../helpers/leak-scan.js'
import { makeMaildir, SECRET_NAME, SECRET_NEEDLES, SECRET_SUBJECT } from '../helpers/maildir.js'
import { type Radosgw, startRadosgw } from '../helpers/radosgw.js'
import { requireRclone } from '../helpers/rclone.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { tempDir } from '../helpers/tree.js'

const g = makeGnupgHome()
const work = tempDir('seb-leak-')
let server: Sshd
let rgw: Radosgw
let ssh: SshHome
let env: NodeJS.ProcessEnv
const coverage: string[] = []

before(async () => {
  requireRclone()
  ;[server, rgw] = await Promise.all([startSshd(), startRadosgw()])
  ssh = makeSshHome(path.join(work.dir, 'home'), server)
  env = cliEnv({ gnupgHome: g.home, cacheDir: path.join(work.dir, 'cache'), ssh, server, rgw })
})

after(async () => {
  await Promise.allSettled([server?.stop(), rgw?.stop()])
  process.stdout.write(coverage.map((l) => `# leak scan: ${l}\n`).join(''))
  work.cleanup()
  g.cleanup()
})

/** readS3 reads every object under the bucket's prefix, whatever its name. */
async function readS3(bucket: string, prefix: string): Promise<StoredObject[]> {
  const client = new S3Client({
    endpoint: rgw.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey },
  })
  try {
    const out: StoredObject[] = []
    let token: string | undefined
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
      )
      for (const o of page.Contents ?? []) {
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))
        out.push({
          rel: o.Key!.slice(prefix.length + 1),
          data: Buffer.from(await got.Body!.transformToByteArray()),
        })
      }
      token = page.NextContinuationToken
    } while (token)
    return out
  } finally {
    client.destroy()
  }
}

/** Backend is one destination: how the CLI names it, and how to read what it holds. */
interface Backend {
  readonly kind: string
  readonly dest: () => string
  readonly read: () => Promise<StoredObject[]>
  readonly passphrase?: boolean
}

const backends: Backend[] = [
  {
    kind: 'local',
    dest: () => path.join(work.dir, 'local'),
    read: () => readFolder(path.join(work.dir, 'local')),
  },
  {
    kind: 'local, passphrase',
    dest: () => path.join(work.dir, 'pass'),
    read: () => readFolder(path.join(work.dir, 'pass')),
    passphrase: true,
  },
  {
    kind: 'sftp',
    dest: () => `sftp://${server.user}@127.0.0.1:${server.port}${path.join(server.dataDir, 'sftp-leak')}`,
    read: () => readFolder(path.join(server.dataDir, 'sftp-leak')),
  },
  { kind: 's3', dest: () => 's3://seb-leak/mail/repo', read: () => readS3('seb-leak', 'mail/repo') },
  {
    kind: 'rclone',
    dest: () => 'rclone:sebsftp:rclone-leak',
    read: () => readFolder(path.join(server.dataDir, 'rclone-leak')),
  },
]

for (const [i, b] of backends.entries())
  describe(`nothing leaks: ${b.kind}`, () => {
    const src = path.join(work.dir, `source-tree-${i}`)
    const passFile = path.join(work.dir, 'passphrase')
    const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      runSeb(args, { ...env, ...(b.passphrase ? { SEB_PASSPHRASE_FILE: passFile } : {}), ...extra })

    it('two backups and two killed runs: every object scanned', async () => {
      await fs.writeFile(passFile, 'correct horse battery staple')
      await makeMaildir(src, 30)
      const dest = b.dest()
      const init = b.passphrase
        ? await run(['init', dest])
        : await run(['init', dest, '--recipient', g.keys[0]!.fingerprint])
      assert.equal(init.code, 0, init.stderr)
      assert.equal((await run(['backup', src, dest])).code, 0)
      await fs.rename(
        path.join(src, 'INBOX/cur', SECRET_NAME),
        path.join(src, 'INBOX/cur', `${SECRET_NAME}F`),
      )
      assert.equal((await run(['backup', src, dest])).code, 0)
      // Killed runs' leftovers: a half-written temporary pack, then a commit without its signature.
      await fs.writeFile(
        path.join(src, 'INBOX/new/1700000900.M9.laptop'),
        `${SECRET_SUBJECT} again\n\n${'x'.repeat(5000)}\n`,
      )
      for (const point of ['pack:upload-half', 'commit:object-saved']) {
        const k = await run(['backup', src, dest], { SEB_FAULT: point })
        assert.equal(k.signal, 'SIGKILL', `${point}: ${k.stderr}`)
      }
      const objects = await b.read()
      assertNoPlaintext(objects, [...SECRET_NEEDLES, src, path.basename(src)])
      assertPublicFactsOnly(objects)
      const counts = assertDecryptable(objects, g.home, b.passphrase ? passFile : undefined)
      const temps = objects.filter((o) => o.rel.includes('.seb-tmp-')).length
      const unsigned =
        objects.filter((o) => o.rel.startsWith('commits/')).length -
        objects.filter((o) => o.rel.startsWith('sigs/')).length
      assert.ok(unsigned >= 1, 'the commit without its signature is there')
      coverage.push(
        `${b.kind}: ${objects.length} objects, ${counts.whole} decrypted whole, ${counts.partial} cut short, ${temps} temporary (${counts.empty} empty), ${unsigned} unsigned commit`,
      )
    })
  })
