// Why: every run of the benchmark must measure the same bytes, so the generator never uses Math.random: a
// small seeded PRNG (mulberry32) makes the decisions, a hash (mix32) derives per-message seeds, and an
// AES-CTR keystream supplies bulk bytes (attachments, word choices) at GB/s.

import { createCipheriv, createHash } from 'node:crypto'

/** mulberry32 returns a seeded PRNG giving floats in [0, 1): small, fast, and stable across platforms. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** mix32 hashes two 32-bit integers into one (murmur3 finaliser); used to derive per-message seeds. */
export function mix32(a: number, b: number): number {
  let h = (Math.imul(a | 0, 0x9e3779b1) ^ (b | 0)) | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * keystream returns n deterministic pseudo-random bytes for (seed, stream): AES-128-CTR over zeros, keyed by
 * a hash of the pair. It is the bulk byte source (attachments, word choices); fast (GB/s) and reproducible.
 */
export function keystream(seed: number, stream: number, n: number): Buffer {
  const key = createHash('sha256')
    .update(`seb-bench:${seed >>> 0}:${stream >>> 0}`)
    .digest()
    .subarray(0, 16)
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return c.update(Buffer.alloc(n))
}
