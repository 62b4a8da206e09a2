// Why: the packing policy in one pure function. Files to store are ordered by age (mtime, then path)
// and cut into packs by size, never by count: old, stable mail lands in packs of its own and a day's
// new mail in new packs, so later deletions (which hit old and new mail alike) leave old packs mostly
// live and nothing already uploaded is ever rewritten on append (docs/design.md, "Packing policy").
import type { ScanEntry } from './model.js'

/** DEFAULT_PACK_BYTES is the target uncompressed content per pack (about half that once compressed). */
export const DEFAULT_PACK_BYTES = 32 * 1024 * 1024

/** planPacks groups files into packs of at most `target` content bytes; a bigger file gets a pack alone. */
export function planPacks(files: readonly ScanEntry[], target = DEFAULT_PACK_BYTES): ScanEntry[][] {
  const sorted = [...files].sort(
    (a, b) => a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
  )
  return cutBySize(sorted, target)
}

/**
 * cutBySize splits files, in order, into groups of at most `maxBytes` (and `maxFiles`); a file larger
 * than maxBytes forms a group alone.
 */
export function cutBySize(
  files: readonly ScanEntry[],
  maxBytes: number,
  maxFiles = Number.POSITIVE_INFINITY,
): ScanEntry[][] {
  const out: ScanEntry[][] = []
  let current: ScanEntry[] = []
  let bytes = 0
  for (const f of files) {
    if (current.length && (current.length >= maxFiles || bytes + f.size > maxBytes)) {
      out.push(current)
      current = []
      bytes = 0
    }
    current.push(f)
    bytes += f.size
  }
  if (current.length) out.push(current)
  return out
}
