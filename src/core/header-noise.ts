// Why: mbsync writes an `X-TUID: <12 random chars>` line into every message it stores, so a message
// moved between folders on the server, or downloaded again, reaches the Maildir as a file whose bytes
// differ from the copy seb already holds only in that line. To store such a "twin" as a few bytes of
// patch instead of a second upload, seb needs the noise lines of a message, its content without them
// (to hash), and a patch that turns one twin into the other. Pure: no I/O, bounded work per file.
import {
  HEADER_LIMIT,
  isBlankLine,
  isContinuation,
  lineEnd,
  lowerAscii,
  startsLikeHeader,
} from './mail-header-section.js'

/**
 * NOISE_HEADERS are the header fields sync tools add with a value of their own, which say nothing about
 * the message. Append other tools' fields here; never remove one (stored patches name them).
 */
export const NOISE_HEADERS: readonly string[] = ['X-TUID']

/**
 * MAX_NOISE_LINES and MAX_NOISE_BYTES bound what counts as noise: a message with more noise lines, or
 * more noise bytes, than this is treated as having none (hashed and stored as it is). mbsync writes one
 * 21-byte line; the bounds keep every patch small enough for the index.
 */
export const MAX_NOISE_LINES = 8
/** MAX_NOISE_BYTES: see MAX_NOISE_LINES. */
export const MAX_NOISE_BYTES = 1024

/** NoiseLine is one noise field in a message: bytes [start, end), its line end and folded lines included. */
export interface NoiseLine {
  readonly start: number
  readonly end: number
}

// Each name with its colon, lower-case, and a table of the first bytes (either case) worth comparing.
const NAMES = NOISE_HEADERS.map((n) => Buffer.from(`${n.toLowerCase()}:`, 'latin1'))
const FIRST_BYTE = new Uint8Array(256)
for (const n of NAMES) {
  FIRST_BYTE[n[0]!] = 1
  FIRST_BYTE[upper(n[0]!)] = 1
}

function upper(b: number): number {
  return b >= 97 && b <= 122 ? b & ~32 : b
}

/** startsWithNoiseName says whether bytes at `pos` are a noise field name and its colon (any case). */
function startsWithNoiseName(content: Uint8Array, pos: number): boolean {
  if (FIRST_BYTE[content[pos]!] !== 1) return false
  for (const name of NAMES) {
    if (pos + name.length > content.length) continue
    let k = 0
    while (k < name.length && lowerAscii(content[pos + k]!) === name[k]) k++
    if (k === name.length) return true
  }
  return false
}

/**
 * findNoise returns the noise lines of a message's header section (from the start to the first empty
 * line; lines starting past HEADER_LIMIT are not looked at), in file order. A noise line begins at a
 * line start with a NOISE_HEADERS name and a colon, any case, and runs through its folded continuation
 * lines. Returns null when there is none, when the file does not start like a mail header, or when the
 * noise exceeds MAX_NOISE_LINES or MAX_NOISE_BYTES. It walks line starts with native indexOf and never
 * decodes the header to a string.
 */
export function findNoise(content: Uint8Array): NoiseLine[] | null {
  if (!startsLikeHeader(content)) return null
  const limit = Math.min(content.length, HEADER_LIMIT)
  let found: NoiseLine[] | null = null
  let bytes = 0
  let pos = 0
  while (pos < limit && !isBlankLine(content, pos)) {
    let next = lineEnd(content, pos)
    if (startsWithNoiseName(content, pos)) {
      while (next < content.length && isContinuation(content, next)) next = lineEnd(content, next)
      found ??= []
      found.push({ start: pos, end: next })
      bytes += next - pos
      if (found.length > MAX_NOISE_LINES || bytes > MAX_NOISE_BYTES) return null
    }
    pos = next
  }
  return found
}

/**
 * normalizedParts returns the content without its noise lines as views (no copy), in order: hashing
 * them one after another gives the hash of the "normalized content", equal for twins.
 */
export function normalizedParts(content: Uint8Array, noise: readonly NoiseLine[] | null): Uint8Array[] {
  if (!noise || noise.length === 0) return [content]
  const parts: Uint8Array[] = []
  let pos = 0
  for (const line of noise) {
    if (line.start > pos) parts.push(content.subarray(pos, line.start))
    pos = line.end
  }
  if (pos < content.length) parts.push(content.subarray(pos))
  return parts
}

/** noiseBytes is the total length of the noise lines. */
export function noiseBytes(noise: readonly NoiseLine[] | null): number {
  let n = 0
  for (const line of noise ?? []) n += line.end - line.start
  return n
}

/** PatchLine is bytes to insert at `offset` of the normalized content (offsets before any insertion). */
export interface PatchLine {
  readonly offset: number
  readonly bytes: Uint8Array
}

/** Patch turns the normalized content of a twin into one particular variant: its noise lines, placed. */
export interface Patch {
  readonly lines: readonly PatchLine[]
}

/**
 * makePatch records the variant's noise lines with their offsets in its normalized content; adjacent
 * noise lines share an offset and become one entry. The bytes are copies, so the patch does not keep
 * the variant's buffer alive.
 */
export function makePatch(variant: Uint8Array, variantNoise: readonly NoiseLine[] | null): Patch {
  const lines: { offset: number; bytes: Uint8Array }[] = []
  let removed = 0
  let prevEnd = -1
  for (const line of variantNoise ?? []) {
    const bytes = variant.slice(line.start, line.end)
    const last = lines[lines.length - 1]
    if (last && line.start === prevEnd) last.bytes = Buffer.concat([last.bytes, bytes])
    else lines.push({ offset: line.start - removed, bytes })
    removed += line.end - line.start
    prevEnd = line.end
  }
  return { lines }
}

/** patchedSize is the size of applyPatch's result, without building it. */
export function patchedSize(baseSize: number, baseNoise: readonly NoiseLine[] | null, patch: Patch): number {
  let added = 0
  for (const line of patch.lines) added += line.bytes.length
  return baseSize - noiseBytes(baseNoise) + added
}

/**
 * applyPatch rebuilds a variant from a stored twin: the base without its noise lines, with the patch's
 * lines inserted at their offsets. It throws a BadPatchError when an offset lies beyond the base's
 * normalized content or the offsets decrease (the patch belongs to another message).
 */
export function applyPatch(base: Uint8Array, baseNoise: readonly NoiseLine[] | null, patch: Patch): Buffer {
  const parts = normalizedParts(base, baseNoise)
  const normalizedLength = base.length - noiseBytes(baseNoise)
  const out = Buffer.allocUnsafe(patchedSize(base.length, baseNoise, patch))
  let written = 0
  // The normalized content is read as a stream over its parts: part index and offset inside it.
  let part = 0
  let inPart = 0
  let normalized = 0
  const copyNormalizedTo = (target: number) => {
    while (normalized < target) {
      const p = parts[part]!
      const n = Math.min(p.length - inPart, target - normalized)
      out.set(p.subarray(inPart, inPart + n), written)
      written += n
      normalized += n
      inPart += n
      if (inPart === p.length) {
        part++
        inPart = 0
      }
    }
  }
  for (const line of patch.lines) {
    if (line.offset < normalized || line.offset > normalizedLength)
      throw new BadPatchError(`patch offset ${line.offset} does not fit a ${normalizedLength}-byte content`)
    copyNormalizedTo(line.offset)
    out.set(line.bytes, written)
    written += line.bytes.length
  }
  copyNormalizedTo(normalizedLength)
  return out
}

/** BadPatchError: an encoded patch is malformed, or a patch does not fit the content it is applied to. */
export class BadPatchError extends Error {}
BadPatchError.prototype.name = 'BadPatchError'

/**
 * MAX_ENCODED_PATCH is the longest string decodePatch accepts: more than any patch of findNoise's
 * bounded noise encodes to (8 entries of offset, mode and 1,024 bytes in base64 need under 1,500).
 */
export const MAX_ENCODED_PATCH = 2048

/**
 * encodePatch writes a patch as a short JSON-safe string: entries joined by `,`, each the decimal offset,
 * a mode letter and the bytes. `L` and `C`: the line is printable ASCII without `,`, `"` or `\` and
 * ends in LF (`L`) or CRLF (`C`), written as text without its line end; `B`: anything else, as base64.
 * mbsync's moved message gives `1532LX-TUID: 3kPq9Zr0aB+w` (25 characters, no JSON escapes).
 */
export function encodePatch(p: Patch): string {
  return p.lines.map((line) => `${line.offset}${encodeLineBytes(line.bytes)}`).join(',')
}

function encodeLineBytes(bytes: Uint8Array): string {
  const n = bytes.length
  if (n >= 2 && bytes[n - 1] === 10) {
    const crlf = n >= 3 && bytes[n - 2] === 13
    const text = bytes.subarray(0, n - (crlf ? 2 : 1))
    if (isPlainText(text)) return `${crlf ? 'C' : 'L'}${Buffer.from(text).toString('latin1')}`
  }
  return `B${Buffer.from(bytes).toString('base64')}`
}

function isPlainText(bytes: Uint8Array): boolean {
  for (const b of bytes) if (!isPlainCode(b)) return false
  return true
}

/** A character stored as itself in L/C entries: printable ASCII but `,` (separator), `"` and `\` (JSON). */
function isPlainCode(c: number): boolean {
  return c >= 0x20 && c <= 0x7e && c !== 0x2c && c !== 0x22 && c !== 0x5c
}

const ENTRY = /^(0|[1-9][0-9]{0,5})([LCB])(.*)$/s

/**
 * decodePatch parses encodePatch's form and rejects anything else with a BadPatchError: a string too
 * long, too many entries or bytes, offsets that are not integers up to HEADER_LIMIT or that decrease,
 * text outside the plain set, non-canonical base64, or a line that does not start with a NOISE_HEADERS
 * name and a colon. The empty string is the empty patch (the variant has no noise).
 */
export function decodePatch(s: string): Patch {
  if (typeof s !== 'string' || s.length > MAX_ENCODED_PATCH) throw new BadPatchError('patch too long')
  if (s === '') return { lines: [] }
  const entries = s.split(',')
  if (entries.length > MAX_NOISE_LINES) throw new BadPatchError('too many patch entries')
  const lines: PatchLine[] = []
  let total = 0
  let last = 0
  for (const entry of entries) {
    const m = ENTRY.exec(entry)
    if (!m) throw new BadPatchError('malformed patch entry')
    const offset = Number(m[1])
    if (offset < last || offset > HEADER_LIMIT) throw new BadPatchError('bad patch offset')
    const bytes = decodeLineBytes(m[2]!, m[3]!)
    if (!startsWithNoiseName(bytes, 0)) throw new BadPatchError('patch line is not a noise header')
    total += bytes.length
    if (total > MAX_NOISE_BYTES) throw new BadPatchError('patch too large')
    lines.push({ offset, bytes })
    last = offset
  }
  return { lines }
}

function decodeLineBytes(mode: string, payload: string): Buffer {
  if (mode === 'B') {
    // Buffer skips characters that are not base64; encoding back catches them and any other spelling.
    const bytes = Buffer.from(payload, 'base64')
    if (bytes.toString('base64') !== payload) throw new BadPatchError('bad base64 in patch')
    return bytes
  }
  for (let i = 0; i < payload.length; i++)
    if (!isPlainCode(payload.charCodeAt(i))) throw new BadPatchError('bad text in patch')
  return Buffer.from(`${payload}${mode === 'C' ? '\r\n' : '\n'}`, 'latin1')
}
