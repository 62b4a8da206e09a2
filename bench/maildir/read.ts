// Why: the benchmark and the tests read a tree back the same way: every regular file with size, mtime and
// inode, the message statistics (files directly in cur/ or new/) and known plaintext for leak checks.

import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { pool } from './pool.js'

/** Known plaintext from the tree, for tests that scan a destination for leaks. */
export interface PlaintextSamples {
  subjects: string[]
  bodyLines: string[]
  fileNames: string[]
}

/** Statistics of a Maildir tree: message files are the files directly in a cur/ or new/ directory. */
export interface MailboxStats {
  files: number
  bytes: number
  min: number
  max: number
  mean: number
  /** Other regular files (mbsync state, dovecot files, anything in tmp/). */
  otherFiles: number
  otherBytes: number
}

/** One regular file of a tree, relative path with '/' separators. */
export interface TreeEntry {
  path: string
  size: number
  mtimeMs: number
  ino: number
}

/** walkTree lists every regular file under root (sorted by path), with size, mtime and inode. */
export async function walkTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = []
  const visit = async (rel: string) => {
    const ents = await readdir(rel ? join(root, rel) : root, { withFileTypes: true })
    ents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const files: string[] = []
    for (const e of ents) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) await visit(p)
      else if (e.isFile()) files.push(p)
    }
    await pool(files, 64, async (p) => {
      const s = await stat(join(root, p))
      out.push({ path: p, size: s.size, mtimeMs: s.mtimeMs, ino: s.ino })
    })
  }
  await visit('')
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
  return out
}

/** isMessagePath tells whether a relative path is a message file (directly inside cur/ or new/). */
export function isMessagePath(p: string): boolean {
  const parts = p.split('/')
  const dir = parts[parts.length - 2]
  return dir === 'cur' || dir === 'new'
}

/** mailboxStats counts messages (files in cur/ and new/) and other files of the tree under root. */
export async function mailboxStats(root: string): Promise<MailboxStats> {
  const all = await walkTree(root)
  let files = 0
  let bytes = 0
  let min = Number.POSITIVE_INFINITY
  let max = 0
  let otherFiles = 0
  let otherBytes = 0
  for (const e of all) {
    if (isMessagePath(e.path)) {
      files++
      bytes += e.size
      min = Math.min(min, e.size)
      max = Math.max(max, e.size)
    } else {
      otherFiles++
      otherBytes += e.size
    }
  }
  return { files, bytes, min: files ? min : 0, max, mean: files ? bytes / files : 0, otherFiles, otherBytes }
}

/**
 * samplePlaintext reads up to `n` messages of the tree and returns their Subject lines, a long body line
 * of each and their file names: known plaintext that must never appear on a backup destination.
 */
export async function samplePlaintext(root: string, n = 5): Promise<PlaintextSamples> {
  const all = (await walkTree(root)).filter(
    (e) => isMessagePath(e.path) && e.size >= 1500 && e.size < 200_000,
  )
  const samples: PlaintextSamples = { subjects: [], bodyLines: [], fileNames: [] }
  const step = Math.max(1, Math.floor(all.length / n))
  for (let i = 0; i < all.length && samples.fileNames.length < n; i += step) {
    const e = all[i]!
    const text = (await readFile(join(root, e.path))).toString('latin1')
    const sep = text.indexOf('\n\n')
    const subj = /^Subject: (.*)$/m.exec(text.slice(0, sep))
    const body = text
      .slice(sep + 2)
      .split('\n')
      .find((l) => l.length >= 40 && !/^(>|--|This is a multi-part)/.test(l) && !l.includes(':'))
    if (!subj || !body) continue
    samples.subjects.push(subj[1]!)
    samples.bodyLines.push(body)
    samples.fileNames.push(e.path.slice(e.path.lastIndexOf('/') + 1))
  }
  return samples
}
