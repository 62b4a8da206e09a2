// Why: tests of header decoding need mail written in the charsets real mail used (KOI8-R, latin-1,
// windows-1252, ISO-2022-JP…), and Node can only decode those. The encoders here are built by inverting
// Node's own TextDecoder tables, so test messages are correct by construction, plus RFC 2047 encoded
// words (B and Q) over those bytes. Test-only.

const singleByteTables = new Map<string, Map<string, number>>()

// windows-1252's 0x80–0x9F from Unicode's cp1252.txt (Node 20's TextDecoder gets them wrong, so the
// table cannot come from it); the five unassigned bytes are left out.
const CP1252_HIGH: [number, string][] = [
  [0x80, '€'],
  [0x82, '‚'],
  [0x83, 'ƒ'],
  [0x84, '„'],
  [0x85, '…'],
  [0x86, '†'],
  [0x87, '‡'],
  [0x88, 'ˆ'],
  [0x89, '‰'],
  [0x8a, 'Š'],
  [0x8b, '‹'],
  [0x8c, 'Œ'],
  [0x8e, 'Ž'],
  [0x91, '‘'],
  [0x92, '’'],
  [0x93, '“'],
  [0x94, '”'],
  [0x95, '•'],
  [0x96, '–'],
  [0x97, '—'],
  [0x98, '˜'],
  [0x99, '™'],
  [0x9a, 'š'],
  [0x9b, '›'],
  [0x9c, 'œ'],
  [0x9e, 'ž'],
  [0x9f, 'Ÿ'],
]

function tableFor(charset: string): Map<string, number> {
  const table = new Map<string, number>()
  if (charset === 'windows-1252') {
    for (let b = 0; b < 256; b++) if (b < 0x80 || b > 0x9f) table.set(String.fromCharCode(b), b)
    for (const [b, ch] of CP1252_HIGH) table.set(ch, b)
    return table
  }
  const d = new TextDecoder(charset)
  for (let b = 255; b >= 0; b--) table.set(d.decode(Uint8Array.of(b)), b)
  return table
}

/** singleByteEncode encodes text in a single-byte charset (koi8-r, iso-8859-x, windows-125x). */
export function singleByteEncode(text: string, charset: string): Buffer {
  let table = singleByteTables.get(charset)
  if (!table) {
    table = tableFor(charset)
    singleByteTables.set(charset, table)
  }
  const out: number[] = []
  for (const ch of text) {
    const b = table.get(ch)
    if (b === undefined) throw new Error(`${JSON.stringify(ch)} is not in ${charset}`)
    out.push(b)
  }
  return Buffer.from(out)
}

let jisTable: Map<string, [number, number]> | undefined

/**
 * iso2022jpEncode encodes text as ISO-2022-JP: ASCII as it is, JIS X 0208 characters between ESC $ B and
 * ESC ( B. The table comes from decoding every EUC-JP pair (EUC-JP is JIS X 0208 with the high bits set).
 */
export function iso2022jpEncode(text: string): Buffer {
  if (!jisTable) {
    jisTable = new Map()
    const d = new TextDecoder('euc-jp')
    for (let a = 0xa1; a <= 0xfe; a++)
      for (let b = 0xa1; b <= 0xfe; b++) {
        const ch = d.decode(Uint8Array.of(a, b))
        if (ch.length === 1 && ch !== '\ufffd' && !jisTable.has(ch)) jisTable.set(ch, [a & 0x7f, b & 0x7f])
      }
  }
  const out: number[] = []
  let kanji = false
  for (const ch of text) {
    const c = ch.codePointAt(0)!
    if (c < 0x80) {
      if (kanji) out.push(0x1b, 0x28, 0x42)
      kanji = false
      out.push(c)
      continue
    }
    const pair = jisTable.get(ch)
    if (!pair) throw new Error(`${JSON.stringify(ch)} is not in JIS X 0208`)
    if (!kanji) out.push(0x1b, 0x24, 0x42)
    kanji = true
    out.push(...pair)
  }
  if (kanji) out.push(0x1b, 0x28, 0x42)
  return Buffer.from(out)
}

/** encodeCharset encodes text in any charset the tests use. */
export function encodeCharset(text: string, charset: string): Buffer {
  const c = charset.toLowerCase()
  if (c === 'utf-8') return Buffer.from(text, 'utf8')
  if (c === 'iso-2022-jp') return iso2022jpEncode(text)
  return singleByteEncode(text, c)
}

/** qEncode writes bytes as RFC 2047 Q text: `_` for space, `=XX` for anything not plainly safe. */
export function qEncode(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) {
    if (b === 0x20) s += '_'
    else if (/[A-Za-z0-9!*+\-/]/.test(String.fromCharCode(b))) s += String.fromCharCode(b)
    else s += `=${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return s
}

/**
 * encodedWords writes text as RFC 2047 encoded words of at most `perWord` characters of text each,
 * separated by `separator` (a fold such as "\n "): decoding them, whitespace between dropped, gives the
 * text back. Charsets with shift states (ISO-2022-JP) get each word encoded on its own.
 */
export function encodedWords(
  text: string,
  charset: string,
  encoding: 'B' | 'Q',
  perWord = 12,
  separator = ' ',
): string {
  const chars = [...text]
  const words: string[] = []
  for (let i = 0; i < chars.length; i += perWord) {
    const bytes = encodeCharset(chars.slice(i, i + perWord).join(''), charset)
    words.push(`=?${charset}?${encoding}?${encoding === 'B' ? bytes.toString('base64') : qEncode(bytes)}?=`)
  }
  return words.join(separator)
}
