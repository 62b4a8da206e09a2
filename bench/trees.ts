// Why: a benchmark of a wrong restore is worthless, so every restore is compared with its source, byte for
// byte and by mtime; and a repository's size is what a day's backup is charged for.

import { existsSync } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { walkTree } from './maildir/read.js'

/** How a restored tree differs from its source (lists cut to 10 entries; counts are exact). */
export interface TreeComparison {
  identical: boolean
  files: number
  missing: number
  extra: number
  contentDiffers: number
  mtimeDiffers: number
  examples: string[]
}

async function sameBytes(a: string, b: string, size: number): Promise<boolean> {
  const fa = await open(a)
  const fb = await open(b)
  try {
    const chunk = 1 << 20
    const ba = Buffer.alloc(Math.min(chunk, Math.max(1, size)))
    const bb = Buffer.alloc(ba.length)
    for (let pos = 0; pos < size; pos += chunk) {
      const n = Math.min(chunk, size - pos)
      await fa.read(ba, 0, n, pos)
      await fb.read(bb, 0, n, pos)
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false
    }
    return true
  } finally {
    await fa.close()
    await fb.close()
  }
}

/** compareTrees checks that `restored` holds exactly src's regular files, byte for byte, with their mtimes (1 s). */
export async function compareTrees(src: string, restored: string): Promise<TreeComparison> {
  const a = await walkTree(src)
  const b = new Map((await walkTree(restored)).map((e) => [e.path, e]))
  const res: TreeComparison = {
    identical: true,
    files: a.length,
    missing: 0,
    extra: 0,
    contentDiffers: 0,
    mtimeDiffers: 0,
    examples: [],
  }
  const note = (s: string) => {
    res.identical = false
    if (res.examples.length < 10) res.examples.push(s)
  }
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < a.length) {
        const e = a[next++]!
        const o = b.get(e.path)
        if (!o) {
          res.missing++
          note(`missing: ${e.path}`)
          continue
        }
        b.delete(e.path)
        if (o.size !== e.size || !(await sameBytes(join(src, e.path), join(restored, e.path), e.size))) {
          res.contentDiffers++
          note(`content: ${e.path}`)
        }
        if (Math.floor(o.mtimeMs / 1000) !== Math.floor(e.mtimeMs / 1000)) {
          res.mtimeDiffers++
          note(`mtime: ${e.path}`)
        }
      }
    }),
  )
  for (const p of b.keys()) {
    res.extra++
    note(`extra: ${p}`)
  }
  return res
}

/** duBytes adds up the apparent sizes of every file under dir (the "remote size" of a repository). */
export async function duBytes(dir: string): Promise<number> {
  let total = 0
  const visit = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await visit(p)
      else if (e.isFile()) total += (await stat(p)).size
    }
  }
  if (existsSync(dir)) await visit(dir)
  return total
}
