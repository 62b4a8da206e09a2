// Why: the published mailbox is 87,107 messages of 218 B .. 16 MB with a mean of exactly 14,080 B; message
// sizes are drawn as a log-normal text part plus base64 attachments on ~4.5% of messages, then scaled so
// that they add up to exactly files × mean, with the smallest and largest message pinned.

/** The size bounds a mailbox is drawn with (GenerateOptions after defaults). */
export interface SizeSpec {
  files: number
  meanSize: number
  minSize: number
  maxSize: number
}

function normalSample(r: () => number): number {
  // Box-Muller; r() never returns 1, so 1 - r() is in (0, 1].
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r())
}

/** drawSizes draws body sizes (headers + text) and attachment sizes, before matching the mean. */
export function drawSizes(r: () => number, o: SizeSpec): { body: number[]; att: number[] } {
  const body: number[] = []
  const att: number[] = []
  for (let i = 0; i < o.files; i++) {
    const b = Math.exp(Math.log(6600) + 0.85 * normalSample(r))
    body.push(Math.min(Math.max(b, o.minSize), 400_000))
    att.push(r() < 0.045 ? Math.exp(Math.log(120_000) + 1.25 * normalSample(r)) : 0)
  }
  return { body, att }
}

/**
 * matchMean scales attachments (or, when even none are too many, bodies) so that the sizes, clamped to
 * [min, max], add up to exactly files × mean; index 0 is pinned to min and index 1 to max when max fits.
 */
export function matchMean(
  body: number[],
  att: number[],
  o: SizeSpec,
): { size: number[]; attachment: number[]; pinned: number[] } {
  const n = body.length
  const target = Math.round(n * o.meanSize)
  const pinned: number[] = []
  const fixed = new Map<number, number>()
  if (n >= 2) {
    fixed.set(0, o.minSize)
    pinned.push(0)
    if (o.maxSize <= 0.03 * target) {
      fixed.set(1, o.maxSize)
      pinned.push(1)
    }
  }
  const cap = Math.min(o.maxSize, Math.max(o.minSize, Math.floor(0.03 * target)), o.maxSize)
  const localMax = fixed.has(1) ? o.maxSize : Math.max(cap, o.minSize)
  let fixedSum = 0
  for (const v of fixed.values()) fixedSum += v
  const clamp = (v: number) => Math.min(Math.max(v, o.minSize), localMax)
  const total = (kb: number, ka: number) => {
    let s = fixedSum
    for (let i = 0; i < n; i++) if (!fixed.has(i)) s += clamp(kb * body[i]! + ka * att[i]!)
    return s
  }
  let kb = 1
  let ka = 1
  const search = (f: (k: number) => number, lo: number, hi: number) => {
    for (let it = 0; it < 80; it++) {
      const mid = (lo + hi) / 2
      if (f(mid) < target) lo = mid
      else hi = mid
    }
    return (lo + hi) / 2
  }
  if (total(1, 0) <= target) ka = search((k) => total(1, k), 0, 1000)
  else {
    ka = 0
    kb = search((k) => total(k, 0), 0, 1)
  }
  const size: number[] = []
  const attachment: number[] = []
  let sum = 0
  for (let i = 0; i < n; i++) {
    const f = fixed.get(i)
    if (f !== undefined) {
      size.push(f)
      attachment.push(i === 1 ? f : 0)
    } else {
      const s = Math.round(clamp(kb * body[i]! + ka * att[i]!))
      size.push(s)
      attachment.push(att[i]! > 0 ? Math.max(0, s - Math.round(kb * body[i]!)) : 0)
    }
    sum += size[i]!
  }
  // Put the rounding residue on the largest unpinned messages, keeping them within bounds.
  let residue = target - sum
  const order = [...size.keys()].filter((i) => !fixed.has(i)).sort((a, b) => size[b]! - size[a]!)
  for (const i of order) {
    if (residue === 0) break
    const next = Math.min(Math.max(size[i]! + residue, o.minSize), localMax)
    residue -= next - size[i]!
    if (attachment[i]! > 0) attachment[i] = Math.max(0, attachment[i]! + next - size[i]!)
    size[i] = next
  }
  return { size, attachment, pinned }
}
