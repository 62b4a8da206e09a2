// Why: model tests drive a structure with many random operations; a seeded generator (the benchmark's
// mulberry32) makes every run the same, so a failure can be replayed.
import { createHash } from 'node:crypto'
import { mulberry32 } from '../../bench/maildir-gen.js'

/** seededRandom returns rand(n): an integer in [0, n). */
export function seededRandom(seed: number): (n: number) => number {
  const next = mulberry32(seed)
  return (n) => Math.floor(next() * n)
}

/** fakeHash is a content hash (SHA-256 hex) for the number n, distinct per n. */
export function fakeHash(n: number): string {
  return createHash('sha256').update(String(n)).digest('hex')
}
