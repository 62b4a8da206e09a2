// Why: the one way a finished pack reaches the destination, for backup and compaction alike: save it
// (moved into place when it was spooled beside its final name), record it in the local journal so a
// killed run's successor can adopt it, and drop the spool file.
import { promises as fs } from 'node:fs'
import type { WirePack } from '../core/commit-codec.js'
import { BlobList } from '../core/wire-lists.js'
import type { FinishedPack } from '../pack/pack-writer.js'
import { fileBody, type Storage } from '../storage/storage.js'
import type { Journal } from './journal.js'

/** uploadPack saves a finished pack and journals it; it returns the pack as the commit records it. */
export async function uploadPack(
  storage: Storage,
  journal: Journal,
  done: FinishedPack,
  signal?: AbortSignal,
): Promise<WirePack> {
  await storage.save({ type: 'pack', name: done.id }, fileBody(done.spoolPath, done.size), signal)
  const blobs = new BlobList()
  for (const b of done.blobs) blobs.push(b.hash, b.size, b.tarPath, b.entry)
  const wire: WirePack = [done.id, done.size, done.contentBytes, blobs]
  await journal.append(wire)
  await fs.rm(done.spoolPath, { force: true })
  return wire
}
