// Why: the Subject, From and To people search by are written in every charset mail has used: RFC 2047
// encoded words (`=?koi8-r?B?...?=`) and raw 8-bit bytes that old or careless mailers put in headers.
// seb's index keeps them as Unicode, decoded the way mail readers do. Node's TextDecoder (full ICU in
// official Node 20 builds) knows the charsets, windows-1252 aside (below); this module finds the words
// and picks the decoder. Pure.

/** Decode turns bytes in one charset into a string. */
export type Decode = (bytes: Uint8Array) => string

// Node 20's TextDecoder('windows-1252') (and so 'iso-8859-1', 'us-ascii', which WHATWG maps to it)
// decodes 0x80–0x9F as C1 controls, like latin-1, not as windows-1252's € ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ”
// • – — ˜ ™ š › œ ž Ÿ. Mail readers show those, so seb maps the block itself. The five unassigned bytes
// stay C1 controls, as WHATWG says.
const WINDOWS_1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178'

/** decodeWindows1252 decodes windows-1252 bytes (latin-1 with the 0x80–0x9F block above). */
export function decodeWindows1252(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i += 8192) {
    const chunk = bytes.subarray(i, i + 8192)
    out += String.fromCharCode(...chunk)
  }
  return out.replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_HIGH[c.charCodeAt(0) - 0x80]!)
}

const decoders = new Map<string, Decode | null>()
const utf8Strict = new TextDecoder('utf-8', { fatal: true })

/** decoderFor returns a decoder for a MIME charset name, or null when the charset is unknown. */
export function decoderFor(charset: string): Decode | null {
  const label = charset.toLowerCase()
  let d = decoders.get(label)
  if (d === undefined) {
    try {
      const td = new TextDecoder(label)
      d = td.encoding === 'windows-1252' ? decodeWindows1252 : (bytes) => td.decode(bytes)
    } catch {
      d = null
    }
    // Bounded: a hostile mailbox could name many charsets, only the real ones are worth keeping.
    if (d || decoders.size < 256) decoders.set(label, d)
  }
  return d
}

/**
 * decodeRawHeader turns header bytes into a string: ASCII as it is, 8-bit bytes as UTF-8 when they are
 * valid UTF-8, else as windows-1252 (the superset of latin-1 that unlabelled Western mail used).
 */
export function decodeRawHeader(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1')
  if (!/[\x80-\xff]/.test(latin1)) return latin1
  try {
    return utf8Strict.decode(bytes)
  } catch {
    return decodeWindows1252(bytes)
  }
}

// charset (RFC 2231's `*lang` allowed), B or Q, encoded text: printable ASCII without `?` or space.
const ENCODED_WORD = /=\?([!->@-~]+?)\?([BbQq])\?([!->@-~]*)\?=/g
const LINEAR_WHITESPACE = /^[ \t\r\n]*$/
const BASE64_TEXT = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * decodeEncodedWords replaces RFC 2047 encoded words (`=?charset?B|Q?text?=`, any case) by their text.
 * Whitespace between two adjacent encoded words is dropped (§6.2), and adjacent words in one charset are
 * decoded together, so that a character split across two words (as some mailers write them) comes out
 * whole. A `charset*lang` suffix (RFC 2231) is ignored. Words in a charset TextDecoder does not know,
 * or whose text is not valid base64, are left as written. Words are decoded wherever they appear, even
 * inside quoted strings, as mail readers do.
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes('=?')) return text
  let out = ''
  let last = 0
  // The run of adjacent words in one (known) charset, not yet decoded: its charset and bytes.
  let runCharset = ''
  let runBytes: Uint8Array[] = []
  const flush = () => {
    if (runBytes.length === 0) return
    out += decoderFor(runCharset)!(Buffer.concat(runBytes))
    runBytes = []
  }
  for (const m of text.matchAll(ENCODED_WORD)) {
    const start = m.index
    const charset = m[1]!.split('*')[0]!.toLowerCase()
    const bytes = decoderFor(charset) ? wordBytes(m[2]!, m[3]!) : null
    const gap = text.slice(last, start)
    const adjacent = runBytes.length > 0 && LINEAR_WHITESPACE.test(gap)
    if (!bytes) {
      flush()
      out += gap + m[0]
    } else {
      // ISO-2022 charsets shift state inside each word, and WHATWG's decoder refuses one word's closing
      // escape followed by the next one's opening escape: they are decoded word by word.
      if (!adjacent || charset !== runCharset || charset.startsWith('iso-2022')) {
        flush()
        if (!adjacent) out += gap
        runCharset = charset
      }
      runBytes.push(bytes)
    }
    last = start + m[0].length
  }
  flush()
  return out + text.slice(last)
}

function wordBytes(encoding: string, payload: string): Uint8Array | null {
  if (encoding === 'B' || encoding === 'b')
    return BASE64_TEXT.test(payload) ? Buffer.from(payload, 'base64') : null
  const out = new Uint8Array(payload.length)
  let n = 0
  for (let i = 0; i < payload.length; i++) {
    const c = payload.charCodeAt(i)
    if (c === 0x5f) out[n++] = 0x20
    else if (c === 0x3d && isHex(payload, i + 1)) {
      out[n++] = Number.parseInt(payload.slice(i + 1, i + 3), 16)
      i += 2
    } else out[n++] = c
  }
  return out.subarray(0, n)
}

function isHex(s: string, i: number): boolean {
  return /^[0-9A-Fa-f]{2}$/.test(s.slice(i, i + 2))
}
