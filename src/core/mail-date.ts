// Why: `seb find --since/--until` compares the Date: header of every message, and decades of mail
// carry dates in RFC 5322's obsolete forms (two-digit years, named zones, comments, no seconds) or in
// asctime and ISO shapes some software wrote. Date.parse accepts much of that, but reads a date without
// a zone as local time and accepts junk; this parser takes what mail readers take and nothing more,
// never throws, and says null when it cannot tell. Also the parser of the command line's date values.

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
}
const MONTH_NAMES = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
]

// Zone names in hours east of UTC: RFC 5322 §4.3's, then ones mailers wrote though no RFC has them.
// A military letter or any other name is read as UTC, which is RFC 5322's advice ("-0000").
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -5,
  edt: -4,
  cst: -6,
  cdt: -5,
  mst: -7,
  mdt: -6,
  pst: -8,
  pdt: -7,
  wet: 0,
  west: 1,
  bst: 1,
  cet: 1,
  cest: 2,
  met: 1,
  mest: 2,
  eet: 2,
  eest: 3,
  msk: 3,
  jst: 9,
  kst: 9,
  hkt: 8,
  aest: 10,
  aedt: 11,
  nzst: 12,
  nzdt: 13,
}

/** stripComments removes RFC 5322 comments (parenthesised, nested, with `\` escapes); an unclosed one runs to the end. */
function stripComments(s: string): string {
  if (!s.includes('(')) return s
  let out = ''
  let depth = 0
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (depth > 0 && c === '\\') i++
    else if (c === '(') depth++
    else if (c === ')' && depth > 0) depth--
    else if (depth === 0) out += c
  }
  return out
}

const TIME = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.\d+)?)?$/
const OFFSET = /^([+-])(\d{2}):?(\d{2})$/
const ISO_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/
const DASHED_DATE = /^(\d{1,2})-([a-z]+)-(\d{2,4})$/
const GLUED_OFFSET = /^(?:gmt|utc?)([+-]\d{2}:?\d{2})$/

interface Parts {
  year?: number
  yearDigits?: number
  month?: number
  day?: number
  hour: number
  minute: number
  second: number
  offsetMinutes?: number
  numbers: string[]
}

// The form nearly every message has (`Mon, 3 Jun 2024 10:00:00 +0200`), read without tokenising: the
// same value the general reader below gives it, some ten times faster (a backup reads every message's).
const USUAL =
  /^[ \t]*(?:(?:[Mm]on|[Tt]ue|[Ww]ed|[Tt]hu|[Ff]ri|[Ss]at|[Ss]un),[ \t]*)?(\d{1,2})[ \t]+([A-Za-z]{3})[ \t]+(\d{4})[ \t]+(\d{2}):(\d{2})(?::(\d{2}))?[ \t]+([+-])(\d{2})(\d{2})[ \t]*$/

function usualDate(m: RegExpExecArray): number | null {
  const month = MONTHS[m[2]!.toLowerCase()]
  if (month === undefined) return null
  const p: Parts = {
    year: Number(m[3]),
    yearDigits: 4,
    month,
    day: Number(m[1]),
    hour: Number(m[4]),
    minute: Number(m[5]),
    second: m[6] ? Number(m[6]) : 0,
    offsetMinutes: (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])),
    numbers: [],
  }
  return assemble(p)
}

/**
 * parseMailDate reads a Date: header value as epoch milliseconds, or null. It takes RFC 5322 dates and
 * their obsolete forms: optional day name, two- or three-digit years (RFC 5322 §4.3: 00–49 are 2000–
 * 2049, 50–99 and three digits are 1900 + n), named zones (UT, GMT, EST…PDT and common others), a
 * missing zone or unknown zone name (read as UTC), missing seconds or time, comments, any whitespace
 * and commas; also `03-Jun-2024`, asctime (`Mon Jun  3 10:00:00 2024`) and `2024-06-03 10:00:00`. A
 * day that does not exist in its month, or anything ambiguous, gives null.
 */
export function parseMailDate(text: string): number | null {
  if (text.length > 200) return null
  const usual = USUAL.exec(text)
  if (usual) return usualDate(usual)
  const p: Parts = { hour: 0, minute: 0, second: 0, numbers: [] }
  const tokens = stripComments(text).toLowerCase().replace(/,/g, ' ').split(/\s+/).filter(Boolean)
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!
    if (!readToken(t, p)) {
      // A time glued to an ISO date: 2024-06-03T10:00:00Z.
      const iso = /^(\d{4}-\d{1,2}-\d{1,2})t(.+?)(z|[+-]\d{2}:?\d{2})?$/.exec(t)
      if (!iso || !readToken(iso[1]!, p) || !readToken(iso[2]!, p) || (iso[3] && !readToken(iso[3], p)))
        return null
    }
  }
  return assemble(p)
}

/** readToken files one token into p; false when it is nothing a date holds. */
function readToken(t: string, p: Parts): boolean {
  let m = TIME.exec(t)
  if (m) {
    p.hour = Number(m[1])
    p.minute = Number(m[2])
    p.second = m[3] ? Number(m[3]) : 0
    return true
  }
  m = OFFSET.exec(t)
  if (m) {
    if (p.offsetMinutes === undefined)
      p.offsetMinutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]))
    return true
  }
  if (/^\d+$/.test(t)) {
    p.numbers.push(t)
    return true
  }
  m = ISO_DATE.exec(t)
  if (m) {
    p.year = Number(m[1])
    p.yearDigits = 4
    p.month = Number(m[2]) - 1
    p.day = Number(m[3])
    return true
  }
  m = DASHED_DATE.exec(t)
  if (m && monthOf(m[2]!) !== undefined) {
    p.numbers.push(m[1]!)
    p.month = monthOf(m[2]!)
    p.numbers.push(m[3]!)
    return true
  }
  m = GLUED_OFFSET.exec(t)
  if (m) return readToken(m[1]!, p)
  const word = t.endsWith('.') ? t.slice(0, -1) : t
  if (/^[a-z]+$/.test(word)) {
    const month = monthOf(word)
    if (month !== undefined && p.month === undefined) p.month = month
    else if (p.offsetMinutes === undefined && word in ZONES) p.offsetMinutes = ZONES[word]! * 60
    // Day names, unknown zones and military letters say nothing more.
    return true
  }
  return false
}

function monthOf(word: string): number | undefined {
  if (word.length === 3) return MONTHS[word]
  const i = MONTH_NAMES.indexOf(word)
  return i < 0 ? undefined : i
}

function assemble(p: Parts): number | null {
  if (p.month === undefined) return null
  let { year, day } = p
  let digits = p.yearDigits ?? 0
  const n = p.numbers
  if (year === undefined) {
    if (n.length !== 2) return null
    // The year is the number of three or more digits; with two short ones, RFC order: day, then year.
    const yi = n[0]!.length >= 3 ? 0 : 1
    year = Number(n[yi])
    digits = n[yi]!.length
    day = Number(n[1 - yi])
    if (n[1 - yi]!.length > 2) return null
  } else if (n.length > 0) return null
  if (digits === 2) year = year! < 50 ? 2000 + year! : 1900 + year!
  else if (digits === 3) year = 1900 + year!
  if (year! < 1000 || year! > 9999 || day === undefined) return null
  if (p.hour > 23 || p.minute > 59 || p.second > 60) return null
  const date = Date.UTC(year!, p.month, day, p.hour, p.minute, Math.min(p.second, 59))
  if (new Date(date).getUTCDate() !== day) return null
  return date - (p.offsetMinutes ?? 0) * 60_000
}

const QUERY = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(Z|[+-]\d{2}:?\d{2})?)?$/i

/**
 * parseDateQuery reads a --since/--until value as epoch milliseconds: `YYYY-MM-DD` (local midnight),
 * `YYYY-MM-DDTHH:MM[:SS]` (local time; a space may stand for the T) with an optional `Z` or `±HH:MM`
 * / `±HHMM`. Null when malformed or when the day or time does not exist.
 */
export function parseDateQuery(text: string): number | null {
  const m = QUERY.exec(text.trim())
  if (!m) return null
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])]
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)]
  if (mo > 11 || h > 23 || mi > 59 || s > 59) return null
  const day = new Date(0)
  day.setUTCFullYear(y, mo, d)
  if (day.getUTCMonth() !== mo || day.getUTCDate() !== d) return null
  const zone = m[7]
  if (zone === undefined) {
    // Local time; one skipped by a DST change comes out as the next real instant, as Date makes it.
    const local = new Date(0)
    local.setFullYear(y, mo, d)
    local.setHours(h, mi, s, 0)
    return local.getTime()
  }
  const o = OFFSET.exec(zone)
  const offsetMinutes = o ? (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3])) : 0
  return day.getTime() + ((h * 60 + mi - offsetMinutes) * 60 + s) * 1000
}
