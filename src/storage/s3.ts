// Why: S3-compatible object storage (AWS, Ceph radosgw, MinIO, Wasabi, Backblaze B2…) as a destination.
// Puts are atomic on S3, so no temp names are needed; bodies are streamed with an exact Content-Length
// (multipart above a threshold, aborted on failure); retries are left to RetryStorage so that the
// SDK's own retry loop does not multiply them.

import { pipeline, type Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3'
import { NotFoundError } from '../errors.js'
import { abortReason, raceAbort } from '../util/abort.js'
import { DIRS, isValidName, objectPath } from './layout.js'
import { classifyStorageError } from './retry.js'
import type { ByteRange, FileType, Handle, ObjectInfo, SaveBody, Storage } from './storage.js'
import {
  describe,
  emptyStream,
  exactLength,
  LengthMismatchError,
  listConfig,
  notFound,
  rangeBounds,
} from './util.js'

/** S3Options configure one bucket (and prefix) as a destination. */
export interface S3Options {
  readonly bucket: string
  /** prefix is the folder inside the bucket ('' for the bucket's top). */
  readonly prefix?: string
  /** endpoint is the server URL for non-AWS services (e.g. http://127.0.0.1:7480). */
  readonly endpoint?: string
  /** region defaults to AWS_REGION, AWS_DEFAULT_REGION, then us-east-1. */
  readonly region?: string
  /** forcePathStyle addresses buckets as endpoint/bucket (most non-AWS servers need it). */
  readonly forcePathStyle?: boolean
  /** credentials replace the SDK's standard chain (env AWS_ACCESS_KEY_ID…, ~/.aws, instance roles). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  readonly connections?: number
  readonly location?: string
  /** multipartThreshold: bodies larger than this go up in parts (default 64 MiB). */
  readonly multipartThreshold?: number
  /** partSize is the multipart part size (default 16 MiB, raised to stay under 10,000 parts). */
  readonly partSize?: number
}

interface S3ErrorLike {
  name?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

function status(err: unknown): number | undefined {
  return (err as S3ErrorLike)?.$metadata?.httpStatusCode
}

function isMissing(err: unknown): boolean {
  const e = err as S3ErrorLike
  return (
    e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.name === 'NoSuchBucket' || status(err) === 404
  )
}

const quiet = () => {}
const SILENT = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet }

/** S3Storage keeps a repository under a prefix of an S3 bucket. */
export class S3Storage implements Storage {
  readonly location: string
  readonly connections: number
  readonly client: S3Client
  private readonly bucket: string
  private readonly prefix: string
  private readonly threshold: number
  private readonly partSize: number
  private bucketChecked = false

  constructor(options: S3Options) {
    this.bucket = options.bucket
    const p = (options.prefix ?? '').replace(/^\/+|\/+$/g, '')
    this.prefix = p ? `${p}/` : ''
    this.connections = Math.max(1, options.connections ?? 4)
    this.location = options.location ?? `s3://${options.bucket}/${p}`
    this.threshold = options.multipartThreshold ?? 64 * 1024 * 1024
    this.partSize = options.partSize ?? 16 * 1024 * 1024
    // The pinned SDK warns on Node 20 about releases after 2027; backends never print.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // Streamed bodies with the SDK's default checksums are refused by several servers (411).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // RetryStorage retries; the SDK would multiply the attempts.
      maxAttempts: 1,
      // Backends never print: without a logger the SDK warns on the console.
      logger: SILENT,
      requestHandler: {
        connectionTimeout: 10_000,
        socketTimeout: 60_000,
        httpAgent: { keepAlive: true, maxSockets: this.connections * 2 },
        httpsAgent: { keepAlive: true, maxSockets: this.connections * 2 },
      },
    })
  }

  private key(h: Handle): string {
    return this.prefix + objectPath(h)
  }

  private fail(err: unknown, h: Handle | undefined, what: string): unknown {
    if (err instanceof LengthMismatchError || err instanceof NotFoundError) return err
    if (h && isMissing(err)) return notFound(h)
    return classifyStorageError(err, `${this.location}: ${what}`)
  }

  private async ensureBucket(signal?: AbortSignal): Promise<void> {
    try {
      const region = await this.client.config.region()
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          CreateBucketConfiguration:
            region === 'us-east-1' ? undefined : { LocationConstraint: region as never },
        }),
        { abortSignal: signal },
      )
    } catch (err) {
      const name = (err as S3ErrorLike).name
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err
    }
  }

  async save(h: Handle, body: SaveBody, signal?: AbortSignal): Promise<void> {
    const key = this.key(h)
    const work = async () => {
      for (let tries = 0; ; tries++) {
        try {
          if (body.length > this.threshold) await this.putMultipart(key, body, describe(h), signal)
          else await this.putSingle(key, body, describe(h), signal)
          this.bucketChecked = true
          return
        } catch (err) {
          // A missing bucket is created on the first save (seb init), as restic does.
          if ((err as S3ErrorLike).name === 'NoSuchBucket' && !this.bucketChecked && tries === 0) {
            this.bucketChecked = true
            await this.ensureBucket(signal)
            continue
          }
          throw err
        }
      }
    }
    return raceAbort(work(), signal).catch((err) => {
      if (signal?.aborted) throw abortReason(signal)
      throw this.fail(err, undefined, `cannot write ${objectPath(h)}`)
    })
  }

  private async putSingle(key: string, body: SaveBody, what: string, signal?: AbortSignal): Promise<void> {
    let payload: Buffer | Readable
    if (body.length <= 1024 * 1024) {
      // Small bodies are checked before anything is sent.
      const chunks: Buffer[] = []
      for await (const c of pipeline(body.open(), exactLength(body.length, what), () => {}))
        chunks.push(c as Buffer)
      payload = Buffer.concat(chunks)
    } else {
      const src = body.open()
      payload = pipeline(src, exactLength(body.length, what), () => {})
    }
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: payload, ContentLength: body.length }),
      { abortSignal: signal },
    )
  }

  private async putMultipart(key: string, body: SaveBody, what: string, signal?: AbortSignal): Promise<void> {
    const partSize = Math.max(this.partSize, Math.ceil(body.length / 9000))
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }),
      {
        abortSignal: signal,
      },
    )
    const uploadId = created.UploadId!
    const parts: { ETag?: string; PartNumber: number }[] = []
    const src = pipeline(body.open(), exactLength(body.length, what), () => {})
    try {
      let pending: Buffer[] = []
      let pendingLen = 0
      const send = async (data: Buffer) => {
        const PartNumber = parts.length + 1
        const res = await this.client.send(
          new UploadPartCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber,
            Body: data,
            ContentLength: data.length,
          }),
          { abortSignal: signal },
        )
        parts.push({ ETag: res.ETag, PartNumber })
      }
      for await (const chunk of src) {
        pending.push(chunk as Buffer)
        pendingLen += (chunk as Buffer).length
        while (pendingLen >= partSize) {
          const all = Buffer.concat(pending)
          await send(all.subarray(0, partSize))
          const rest = all.subarray(partSize)
          pending = rest.length ? [rest] : []
          pendingLen = rest.length
        }
      }
      if (pendingLen > 0 || parts.length === 0) await send(Buffer.concat(pending))
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
        }),
        { abortSignal: signal },
      )
    } catch (err) {
      src.destroy()
      // Without the abort the parts would stay billed and invisible; best effort, not under the signal.
      await this.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
        .catch(() => {})
      throw err
    }
  }

  async load<T>(
    h: Handle,
    range: ByteRange | undefined,
    consume: (stream: Readable) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const { start, length } = rangeBounds(range)
    const key = this.key(h)
    const work = async (): Promise<T> => {
      if (length === 0) {
        await this.stat(h, signal)
        return consume(emptyStream())
      }
      const Range =
        start === 0 && length === undefined
          ? undefined
          : `bytes=${start}-${length === undefined ? '' : start + length - 1}`
      let stream: Readable
      try {
        const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range }), {
          abortSignal: signal,
        })
        stream = res.Body as Readable
      } catch (err) {
        // A range starting at the very end of an object is empty, but S3 answers 416.
        if (status(err) === 416 && length === undefined) {
          const info = await this.stat(h, signal)
          if (info.size === start) return consume(emptyStream())
        }
        throw this.fail(err, h, `cannot read ${objectPath(h)}`)
      }
      const onAbort = () => stream.destroy(abortReason(signal!) as Error)
      signal?.addEventListener('abort', onAbort, { once: true })
      try {
        return await consume(stream)
      } finally {
        signal?.removeEventListener('abort', onAbort)
        stream.destroy()
      }
    }
    return raceAbort(work(), signal)
  }

  async stat(h: Handle, signal?: AbortSignal): Promise<ObjectInfo> {
    const work = async () => {
      try {
        const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(h) }), {
          abortSignal: signal,
        })
        return { name: h.name, size: res.ContentLength ?? 0, modified: res.LastModified?.getTime() ?? 0 }
      } catch (err) {
        throw this.fail(err, h, `cannot stat ${objectPath(h)}`)
      }
    }
    return raceAbort(work(), signal)
  }

  async *list(type: FileType, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
    signal?.throwIfAborted()
    if (type === 'config') {
      yield* listConfig((h, sig) => this.stat(h, sig), signal)
      return
    }
    const Prefix = `${this.prefix}${DIRS[type]}/`
    let ContinuationToken: string | undefined
    do {
      let res: ListObjectsV2CommandOutput
      try {
        res = await raceAbort(
          this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }), {
            abortSignal: signal,
          }),
          signal,
        )
      } catch (err) {
        if ((err as S3ErrorLike).name === 'NoSuchBucket') return
        if (signal?.aborted) throw abortReason(signal)
        throw this.fail(err, undefined, `cannot list ${DIRS[type]}`)
      }
      for (const obj of res.Contents ?? []) {
        const rel = obj.Key!.slice(this.prefix.length)
        const name = rel.slice(rel.lastIndexOf('/') + 1)
        // Only names at the exact place objectPath gives are seb's (no stray or misplaced keys).
        if (!isValidName(type, name) || objectPath({ type, name }) !== rel) continue
        yield { name, size: obj.Size ?? 0, modified: obj.LastModified?.getTime() ?? 0 }
      }
      ContinuationToken = res.IsTruncated ? res.NextContinuationToken : undefined
    } while (ContinuationToken)
  }

  async remove(h: Handle, signal?: AbortSignal): Promise<void> {
    const work = async () => {
      // S3 deletes of missing keys succeed silently; the contract wants NotFoundError.
      await this.stat(h, signal)
      try {
        await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(h) }), {
          abortSignal: signal,
        })
      } catch (err) {
        throw this.fail(err, h, `cannot remove ${objectPath(h)}`)
      }
    }
    return raceAbort(work(), signal)
  }

  async close(): Promise<void> {
    this.client.destroy()
  }
}
