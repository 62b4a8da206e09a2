// Why: the sync-noise finder (header-noise.ts) and the search-header reader (mail-headers.ts) must agree
// on what a message's header section is and on which files are mail at all, or a file could be
// normalised by one rule and searched by another. Both read only the start of a file: a hostile or
// broken "message" with no blank line must not make either walk megabytes. Pure.

/** HEADER_LIMIT is how far into a file the header section is looked for: lines starting past it are body. */
export const HEADER_LIMIT = 64 * 1024

const LF = 10
const CR = 13
const SP = 32
const TAB = 9

/**
 * startsLikeHeader says whether the file's first line begins with a header field name and a colon (RFC
 * 5322 §3.6.8: printable ASCII but the colon, at least one character; spaces before the colon are the
 * obsolete syntax of §4.5). An mbox `From ` line, a blank first line, binary junk or an empty file are
 * not mail to seb.
 */
export function startsLikeHeader(content: Uint8Array): boolean {
  // RFC 5322 limits a line to 998 characters; a field name is far shorter.
  const n = Math.min(content.length, 998)
  let i = 0
  while (i < n && content[i]! > 32 && content[i]! < 127 && content[i] !== 58) i++
  if (i === 0) return false
  while (i < n && (content[i] === SP || content[i] === TAB)) i++
  return i < n && content[i] === 58
}

/** lineEnd returns the offset just past the line starting at `pos` (past its LF, or the file's end). */
export function lineEnd(content: Uint8Array, pos: number): number {
  const i = content.indexOf(LF, pos)
  return i < 0 ? content.length : i + 1
}

/** isBlankLine says whether the line at `pos` is empty (LF or CRLF): the end of the header section. */
export function isBlankLine(content: Uint8Array, pos: number): boolean {
  const b = content[pos]
  return b === LF || (b === CR && content[pos + 1] === LF)
}

/** isContinuation says whether the line at `pos` continues the field before it (starts with SP or TAB). */
export function isContinuation(content: Uint8Array, pos: number): boolean {
  const b = content[pos]
  return b === SP || b === TAB
}

/** lowerAscii lower-cases an ASCII letter's byte (A–Z) and leaves every other byte as it is. */
export function lowerAscii(b: number): number {
  return b >= 65 && b <= 90 ? b | 32 : b
}
