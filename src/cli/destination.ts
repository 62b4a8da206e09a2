// Why: turns the destination the user typed into a Storage (src/storage/open.ts knows every form:
// a path, sftp://, user@host:path, s3://, rclone:) with the CLI's connection options.
import { UsageError } from '../errors.js'
import { openStorage } from '../storage/open.js'
import type { Storage } from '../storage/storage.js'

/** DestinationOptions are the CLI options that shape a storage connection. */
export interface DestinationOptions {
  /** bytes per second (a number) or a rate like '2M'; 0 or undefined: no limit */
  readonly limitUpload?: number | string
  readonly connections?: number | string
  readonly s3Endpoint?: string
  readonly s3Region?: string
  readonly s3PathStyle?: boolean
  /** a retried transfer is reported here (one line, not an error) */
  readonly onRetry?: (message: string) => void
}

/** openDestination opens the storage for a destination string. */
export async function openDestination(dest: string, o: DestinationOptions = {}): Promise<Storage> {
  let connections: number | undefined
  if (o.connections !== undefined) {
    connections = Number(o.connections)
    if (!Number.isInteger(connections) || connections < 1 || connections > 64)
      throw new UsageError(`--connections ${o.connections}: give a whole number from 1 to 64`)
  }
  return openStorage(dest, {
    limitUpload: o.limitUpload || undefined,
    connections,
    s3Endpoint: o.s3Endpoint,
    s3Region: o.s3Region,
    s3PathStyle: o.s3PathStyle,
    retry: o.onRetry
      ? {
          onRetry: (e) =>
            o.onRetry!(
              `${e.op} ${e.what}: ${e.error instanceof Error ? e.error.message : String(e.error)}; retrying in ${Math.round(e.delayMs / 100) / 10} s (attempt ${e.attempt})`,
            ),
        }
      : undefined,
  })
}
