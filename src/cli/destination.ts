// Why: turns the destination the user typed into a Storage, with the CLI's connection options.
import path from 'node:path'
import { LocalStorage } from '../storage/local.js'
import type { Storage } from '../storage/storage.js'

/** DestinationOptions are the CLI options that shape a storage connection. */
export interface DestinationOptions {
  readonly limitUpload?: string
  readonly connections?: string
  readonly s3Endpoint?: string
  readonly s3Region?: string
  readonly s3PathStyle?: boolean
}

/** openDestination opens the storage for a destination string. */
export async function openDestination(dest: string, _o: DestinationOptions = {}): Promise<Storage> {
  return new LocalStorage(path.resolve(dest))
}
