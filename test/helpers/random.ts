// Why: model tests drive a structure with many random operations; a seeded generator makes every run
// the same (a failure can be replayed).
import { createHash } from 'node:crypto'

/** seededRandom returns rand(n): an integer in [0, n), from a linear congruential generator. */
export function seededRandom(seed: number): (n: number) => number {
  let state = seed
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state % n
  }
}

/** fakeHash is a content hash (SHA-256 hex) for the number n, distinct per n. */
export function fakeHash(n: number): string {
  return createHash('sha256').update(String(n)).digest('hex')
}
