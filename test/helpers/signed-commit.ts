// Why: some tests need a commit that seb's own writer would never make (an index entry with a hostile
// path, a pack member that is not what the index says) but that is *authentic*: made with the
// repository key, as a compromised or buggy owner machine could. This writes one, the way
// src/repo/commit-writer.ts does, from a record or from raw record lines.
import os from 'node:os'
import type { CommitRecord } from '../../src/core/commit-codec.js'
import { deltaLines } from '../../src/core/commit-lines.js'
import { chainAfter, genesisChain, listSigNames, readSig, saveSig } from '../../src/repo/commit-sigs.js'
import { commitFrames, commitName, writeCommit } from '../../src/repo/commits.js'
import { parseManifest, readConfigObject } from '../../src/repo/config.js'
import { dataBase, MachineData } from '../../src/repo/machine-data.js'
import type { Storage } from '../../src/storage/storage.js'

/**
 * writeSignedCommit appends a commit to the repository's history, signed with this machine's copy of
 * the repository key. `body` is a delta record (its seq is set to the next one), or the record's
 * lines after the header (an `e` line is added).
 */
export async function writeSignedCommit(
  storage: Storage,
  body: CommitRecord | string[],
  o: { passphrase?: Buffer; kind?: 'delta' | 'checkpoint' } = {},
): Promise<string> {
  const obj = await readConfigObject(storage)
  const m = parseManifest(obj.manifestText)!
  const key = await new MachineData(dataBase()).signingKey(obj.id)
  if (!key) throw new Error('writeSignedCommit: no repository key on this machine')
  const names = await listSigNames(storage)
  const last = names[names.length - 1]
  const prev = last ? await readSig(storage, m.signingKey, obj.id, last.name) : null
  if (typeof prev === 'string') throw new Error(`writeSignedCommit: ${prev}`)
  const seq = (prev?.seq ?? 0) + 1
  const time = new Date().toISOString()
  let lines: string[]
  if (Array.isArray(body)) {
    const header = { seb: 2, repository: obj.id, kind: o.kind ?? 'delta', seq, time, snapshot: null }
    lines = [JSON.stringify(header), ...body, JSON.stringify(['e', body.length])]
  } else lines = [...deltaLines({ ...body, seq }, obj.id)]
  const name = commitName(seq)
  const ref = await writeCommit(
    storage,
    { encryption: m.encryption, passphrase: o.passphrase },
    name,
    commitFrames(seq, time, lines, []),
    os.tmpdir(),
  )
  await saveSig(
    storage,
    {
      repository: obj.id,
      seq,
      name,
      kind: o.kind ?? 'delta',
      time,
      size: ref.size,
      sha256: ref.sha256,
      chain: chainAfter(prev?.chain ?? genesisChain(obj.id), name),
    },
    key,
  )
  return name
}
