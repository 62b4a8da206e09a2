// Why: what a backup learns about a message from the bytes a read worker already holds, beyond its
// hash: its SHA-256 without sync-tool noise lines and the patch that puts them back (twins), and the
// search headers people find it by. Which files count as messages is decided here, once: files directly
// inside a Maildir folder's `cur/` or `new/` (never `tmp/`, where delivery is in progress, nor the sync
// tools' state files beside them). Pure.
import { createHash, hash } from 'node:crypto'
import type { WireHeaders } from './commit-codec.js'
import { encodePatch, findNoise, makePatch, normalizedParts } from './header-noise.js'
import { readSearchHeaders } from './mail-headers.js'

/**
 * isMessagePath says whether a path (relative, `/`-separated) is a Maildir message: a file whose folder
 * is named `cur` or `new`.
 */
export function isMessagePath(path: string): boolean {
  const cut = path.lastIndexOf('/')
  if (cut < 0) return false
  const parent = path.lastIndexOf('/', cut - 1)
  const folder = path.slice(parent + 1, cut)
  return folder === 'cur' || folder === 'new'
}

/** NoiseFacts are a content's SHA-256 without its noise lines, and the patch that restores them. */
export interface NoiseFacts {
  readonly norm: string
  readonly patch: string
}

/** noiseFacts returns a content's noise facts, or null when it has no noise lines. */
export function noiseFacts(content: Uint8Array): NoiseFacts | null {
  const noise = findNoise(content)
  if (!noise) return null
  const h = createHashOf(normalizedParts(content, noise))
  return { norm: h, patch: encodePatch(makePatch(content, noise)) }
}

function createHashOf(parts: Uint8Array[]): string {
  if (parts.length === 1) return hash('sha256', parts[0]!, 'hex')
  // Hashed piece by piece: a copy of the message without its noise cost more than the hash.
  const h = createHash('sha256')
  for (const part of parts) h.update(part)
  return h.digest('hex')
}

/** HeaderFields are an `h` line's fields after the hash: subject, from, to, date, message id. */
export type HeaderFields = [string, string, string, number | null, string]

/** searchHeaderFields returns a message's search headers as HeaderFields, or null when it is not mail. */
export function searchHeaderFields(content: Uint8Array): HeaderFields | null {
  const h = readSearchHeaders(content)
  return h ? [h.subject, h.from, h.to, h.date, h.messageId] : null
}

/** headerLine makes the `h` line's value of a content. */
export function headerLine(hash: string, f: HeaderFields): WireHeaders {
  return [hash, ...f]
}
