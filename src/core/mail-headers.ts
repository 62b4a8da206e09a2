// Why: seb keeps, per message, the headers people search by (Subject, From, To, Date, Message-ID) in
// its encrypted index, for `seb find --subject/--from/--to/--message-id/--since/--until` and
// `seb restore --message-id`. This reads them from a message's bytes as a mail reader would, bounded
// (the first 64 KiB, each value capped) so that a hostile message can neither slow a backup nor bloat
// the index. Pure.
import { decodeEncodedWords, decodeRawHeader } from './encoded-words.js'
import { parseMailDate } from './mail-date.js'
import {
  HEADER_LIMIT,
  isBlankLine,
  isContinuation,
  lineEnd,
  lowerAscii,
  startsLikeHeader,
} from './mail-header-section.js'

export { compileWordQuery, matchesWords, searchWords } from './header-search.js'
export { parseDateQuery, parseMailDate } from './mail-date.js'

/**
 * SearchHeaders are a message's searchable headers: text decoded to Unicode (empty when missing), the
 * date as epoch milliseconds (null when missing or unparseable), the Message-ID as normalizeMessageId
 * gives it.
 */
export interface SearchHeaders {
  subject: string
  from: string
  to: string
  date: number | null
  messageId: string
}

/** MAX_HEADER_CHARS caps each value kept (UTF-16 code units, never splitting a surrogate pair). */
export const MAX_HEADER_CHARS = 1000

const WANTED = ['subject', 'from', 'to', 'date', 'message-id'] as const
type Wanted = (typeof WANTED)[number]
const WANTED_BYTES = WANTED.map((name) => Buffer.from(name, 'latin1'))
// First bytes of the wanted names, either case: most header lines (Received, X-…) are skipped on it.
const FIRST_BYTE = new Uint8Array(256)
for (const name of WANTED) {
  FIRST_BYTE[name.charCodeAt(0)] = 1
  FIRST_BYTE[name.toUpperCase().charCodeAt(0)] = 1
}

/**
 * wantedAt returns which wanted field the name in [start, colon) is (any case, spaces or tabs before the
 * colon allowed), or -1. Compared as bytes: no string is made for the many header lines not wanted.
 */
function wantedAt(head: Uint8Array, start: number, colon: number): number {
  let end = colon
  while (end > start && (head[end - 1] === 32 || head[end - 1] === 9)) end--
  for (let w = 0; w < WANTED_BYTES.length; w++) {
    const name = WANTED_BYTES[w]!
    if (name.length !== end - start) continue
    let k = 0
    while (k < name.length && lowerAscii(head[start + k]!) === name[k]) k++
    if (k === name.length) return w
  }
  return -1
}

/**
 * readSearchHeaders reads the searchable headers of a message, or returns null when the file does not
 * start like mail. Only the header section is read (to the first empty line, at most HEADER_LIMIT
 * bytes), with LF or CRLF line ends and folded lines unfolded. The first Subject, From, Date and
 * Message-ID count; every To field counts, joined with ", " (Cc is not kept). Text values have RFC 2047
 * encoded words decoded, raw 8-bit bytes read as UTF-8 or else windows-1252, control characters and
 * runs of whitespace turned into one space, and are trimmed and capped at MAX_HEADER_CHARS.
 */
export function readSearchHeaders(content: Uint8Array): SearchHeaders | null {
  if (!startsLikeHeader(content)) return null
  const head = content.subarray(0, HEADER_LIMIT)
  const fields: Uint8Array[][] = WANTED.map(() => [])
  let pos = 0
  while (pos < head.length && !isBlankLine(head, pos)) {
    const start = pos
    pos = lineEnd(head, pos)
    while (pos < head.length && isContinuation(head, pos)) pos = lineEnd(head, pos)
    if (FIRST_BYTE[head[start]!] !== 1) continue
    const colon = head.indexOf(58, start)
    if (colon < 0 || colon >= pos) continue
    const w = wantedAt(head, start, colon)
    if (w >= 0) fields[w]!.push(head.subarray(colon + 1, pos))
  }
  const all = (name: Wanted) => fields[WANTED.indexOf(name)]!
  const first = (name: Wanted) => {
    const v = all(name)[0]
    return v ? unfold(decodeRawHeader(v)) : ''
  }
  const date = first('date')
  return {
    subject: cleanText(decodeEncodedWords(first('subject'))),
    from: cleanText(decodeEncodedWords(first('from'))),
    to: cleanText(
      all('to')
        .map((v) => decodeEncodedWords(unfold(decodeRawHeader(v))))
        .join(', '),
    ),
    date: date ? parseMailDate(date) : null,
    messageId: normalizeMessageId(first('message-id')),
  }
}

/**
 * unfold drops the CRs and LFs of a field's value (RFC 5322 §2.2.3), keeping the folding spaces. Done on
 * the decoded text: both decodings of raw headers (UTF-8, windows-1252) keep ASCII bytes as they are.
 */
function unfold(value: string): string {
  return value.replace(/[\r\n]+/g, '')
}

/** cleanText turns control characters and whitespace runs into one space, trims and caps the text. */
export function cleanText(text: string): string {
  return cap(text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim())
}

function cap(text: string): string {
  if (text.length <= MAX_HEADER_CHARS) return text
  const cut = text.slice(0, MAX_HEADER_CHARS)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}

/**
 * normalizeMessageId gives the form of a Message-ID that seb keeps and compares: the inside of the first
 * `<...>` when there is one (so `<a@b>`, ` <a@b> (comment)` and a query typed as `a@b` agree), else the
 * whole value, with all whitespace removed and capped at MAX_HEADER_CHARS. Case is kept (the local
 * part of an id is case-sensitive). Use it on both the header and a --message-id query.
 */
export function normalizeMessageId(value: string): string {
  const m = /<([^<>]*)>/.exec(value)
  return cap((m ? m[1]! : value).replace(/\s+/g, ''))
}
