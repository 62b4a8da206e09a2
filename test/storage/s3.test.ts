// Why: the S3 backend against a real Ceph radosgw on 127.0.0.1 (started once: ~13 s): the conformance
// suite, multipart uploads, open() of s3:// destinations and the refusal of wrong credentials.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3'
import { PermanentStorageError } from '../../src/errors.js'
import { openStorage } from '../../src/storage/open.js'
import { RetryStorage } from '../../src/storage/retry.js'
import { S3Storage } from '../../src/storage/s3.js'
import { bufferBody } from '../../src/storage/storage.js'
import { type Radosgw, startRadosgw } from '../helpers/radosgw.js'
import { load, pack, runStorageSuite, wrongLengthBody } from './suite.js'

let rgw: Radosgw
let n = 0
const bucket = 'seb-test'

before(async () => {
  rgw = await startRadosgw()
  // The SDK's standard credential chain reads these, as it would for a user.
  process.env.AWS_ACCESS_KEY_ID = rgw.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = rgw.secretAccessKey
})
after(async () => {
  await rgw?.stop()
})

const make = (extra: Partial<ConstructorParameters<typeof S3Storage>[0]> = {}) =>
  new S3Storage({ bucket, prefix: `repo${n++}/sub`, endpoint: rgw.endpoint, forcePathStyle: true, ...extra })

runStorageSuite('s3', async () => make())

describe('s3: specifics', () => {
  it('uploads large bodies in parts and aborts a failed multipart upload', async () => {
    const s = make({ multipartThreshold: 6 * 1024 * 1024, partSize: 5 * 1024 * 1024 })
    try {
      const data = randomBytes(13 * 1024 * 1024 + 5)
      const h = pack()
      await s.save(h, bufferBody(data))
      assert.ok((await load(s, h)).equals(data))
      assert.equal((await load(s, h, { offset: 5 * 1024 * 1024 - 3, length: 6 })).length, 6)
      await assert.rejects(s.save(pack(), wrongLengthBody(randomBytes(12 * 1024 * 1024), 7 * 1024 * 1024)))
      const open = await s.client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))
      assert.equal(open.Uploads?.length ?? 0, 0)
    } finally {
      await s.close()
    }
  })

  it('opens s3://bucket/prefix with SEB_S3_ENDPOINT and path-style addressing', async () => {
    const s = await openStorage(`s3://${bucket}/opened/repo`, { env: { SEB_S3_ENDPOINT: rgw.endpoint } })
    try {
      assert.equal(s.location, `s3://${bucket}/opened/repo`)
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('opened')))
      assert.equal((await load(s, h)).toString(), 'opened')
    } finally {
      await s.close()
    }
  })

  it('creates a missing bucket on the first save', async () => {
    const s = make({ bucket: `seb-new-${Date.now()}` })
    try {
      const h = pack()
      await s.save(h, bufferBody(Buffer.from('new bucket')))
      assert.equal((await load(s, h)).toString(), 'new bucket')
    } finally {
      await s.close()
    }
  })

  it('fails wrong credentials with a PermanentStorageError, without retrying', async () => {
    let retries = 0
    const s = new RetryStorage(
      make({ credentials: { accessKeyId: rgw.accessKeyId, secretAccessKey: 'wrong-secret' } }),
      {
        baseDelayMs: 10,
        onRetry: () => retries++,
      },
    )
    const s2 = new RetryStorage(make({ credentials: { accessKeyId: 'NOSUCHKEY', secretAccessKey: 'x' } }), {
      baseDelayMs: 10,
      onRetry: () => retries++,
    })
    try {
      for (const st of [s, s2]) {
        await assert.rejects(st.save(pack(), bufferBody(Buffer.from('x'))), (err: Error) => {
          assert.ok(err instanceof PermanentStorageError, String(err))
          assert.match(err.message, /access denied \((SignatureDoesNotMatch|InvalidAccessKeyId)\)/)
          assert.ok(!err.message.includes('\n'))
          return true
        })
        await assert.rejects(st.stat(pack()), PermanentStorageError)
        await assert.rejects(async () => {
          for await (const _ of st.list('pack')) {
          }
        }, PermanentStorageError)
      }
      assert.equal(retries, 0)
    } finally {
      await s.close()
      await s2.close()
    }
  })
})
