// Why: the one way a finished pack reaches the destination, for backup and compaction alike: save it
// (moved into place when it was spooled beside its final name), record it in the local journal so a
// killed run's successor can adopt it, and drop the spool file. The named fault points of the write
// order's step 2 (docs/design.md) sit here: before the upload, half-way through it, between the upload
// and the journal, and after the journal.
import { promises as fs } from 'node:fs'
import type { WirePack } from '../core/commit-codec.js'
import { BlobList } from '../core/wire-lists.js'
import type { FinishedPack } from '../pack/pack-writer.js'
import { fileBody, type Storage } from '../storage/storage.js'
import { fault, faultsArmed } from '../util/fault.js'
import { halfwayFileBody } from '../util/halfway-fault.js'
import type { Journal } from './journal.js'

/** uploadPack saves a finished pack and journals it; it returns the pack as the commit records it. */
export async function uploadPack(
  storage: Storage,
  journal: Journal,
  done: FinishedPack,
  signal?: AbortSignal,
): Promise<WirePack> {
  fault('pack:before-upload')
  // Under a test's fault points the bytes are streamed (never moved into place), so that the
  // destination holds a half-written temporary object when pack:upload-half fires.
  const body = faultsArmed()
    ? halfwayFileBody(done.spoolPath, done.size, 'pack:upload-half')
    : fileBody(done.spoolPath, done.size)
  await storage.save({ type: 'pack', name: done.id }, body, signal)
  fault('pack:uploaded')
  const blobs = new BlobList()
  for (const b of done.blobs) blobs.push(b.hash, b.size, b.tarPath, b.entry)
  const wire: WirePack = [done.id, done.size, done.contentBytes, blobs]
  await journal.append(wire)
  fault('pack:journalled')
  await fs.rm(done.spoolPath, { force: true })
  return wire
}
