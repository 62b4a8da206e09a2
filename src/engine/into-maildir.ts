// Why: `seb restore --message-id ID --into-maildir DIR` gives a lost message back to the mail client
// and the sync tool, not to a folder beside them. Maildir's own delivery rule makes that safe while
// they run: the message is written in DIR/tmp/ first (restore, checked against its hash, mtime kept),
// then renamed into DIR/cur/ under a fresh unique name with its flags (`:2,FS`), so no reader ever sees
// half a message and no existing name is reused (a sync tool would take it for a message it knows).
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { UsageError } from '../errors.js'
import { type RestoreOptions, type RestoreSummary, restore } from './restore.js'

/** IntoMaildirSummary is a restore's summary and the names the messages were delivered under. */
export interface IntoMaildirSummary extends RestoreSummary {
  /** the delivered files, relative to the Maildir folder (`cur/NAME`) */
  readonly delivered: string[]
}

/** flagsOf returns the Maildir info of a message's name (`:2,FS` → `2,FS`), or `2,` when it has none. */
export function flagsOf(name: string): string {
  const m = /[:!](2,[A-Za-z]*)$/.exec(name)
  return m ? m[1]! : '2,'
}

let counter = 0

/** uniqueName makes a Maildir name: seconds, microseconds, pid, a counter and random bytes, the host. */
export function uniqueName(now = Date.now()): string {
  const host = os.hostname().replace(/\//g, '\\057').replace(/:/g, '\\072') || 'localhost'
  const us = Math.floor((now % 1000) * 1000)
  return `${Math.floor(now / 1000)}.M${us}P${process.pid}Q${++counter}R${randomBytes(4).toString('hex')}.${host}`
}

/**
 * restoreIntoMaildir restores the chosen messages (o.messageIds) into the Maildir folder `dir` (its
 * cur/, new/ and tmp/ are made when missing).
 */
export async function restoreIntoMaildir(o: RestoreOptions & { dir: string }): Promise<IntoMaildirSummary> {
  const st = await fs.stat(o.dir).catch(() => null)
  if (!st?.isDirectory())
    throw new UsageError(
      `--into-maildir ${o.dir}: not a folder; give a Maildir folder (holding cur/, new/, tmp/)`,
    )
  for (const sub of ['cur', 'new', 'tmp'])
    await fs.mkdir(path.join(o.dir, sub), { recursive: true, mode: 0o700 })
  const staging = path.join(o.dir, 'tmp', `.seb-restore-${randomBytes(8).toString('hex')}`)
  await fs.mkdir(staging, { mode: 0o700 })
  try {
    const s = await restore({ ...o, target: staging, overwrite: false })
    const delivered: string[] = []
    for (const file of await filesUnder(staging)) {
      const name = `${uniqueName()}:${flagsOf(path.basename(file))}`
      await fs.rename(file, path.join(o.dir, 'cur', name))
      delivered.push(`cur/${name}`)
    }
    return { ...s, delivered }
  } finally {
    await fs.rm(staging, { recursive: true, force: true })
  }
}

/** filesUnder lists the regular files below a folder seb made (restore writes no symlink for a message). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await filesUnder(p)))
    else if (e.isFile()) out.push(p)
  }
  return out.sort()
}
