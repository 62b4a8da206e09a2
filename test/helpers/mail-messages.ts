// Why: the header-noise, search-header and mbsync tests need messages shaped like real mail, not
// `Subject: test`: encoded-word subjects in several charsets, folded and 8-bit headers, odd dates,
// missing or repeated Message-IDs, MIME multipart with quoted-printable text and base64 attachments,
// some CRLF, and realistic sizes (mean 10–15 kB, a few attachments of 100 kB–2 MB, smallest a few hundred
// bytes), because "a re-download uploads < 2 % of a first backup" only means something at real sizes.
// Seeded: the same (seed, index) always gives the same bytes. Each message comes with the search headers
// a correct reader must find in it.
import { keystream, mix32, mulberry32, words } from '../../bench/maildir-gen.js'
import { encodeCharset, encodedWords } from './charset-encode.js'

/** ExpectedHeaders are what readSearchHeaders must return for a generated message. */
export interface ExpectedHeaders {
  subject: string
  from: string
  to: string
  date: number | null
  messageId: string
}

/** GeneratedMail is one message and what is known about it. */
export interface GeneratedMail {
  bytes: Buffer
  expected: ExpectedHeaders
  /** The header line ends are CRLF (else LF). */
  crlf: boolean
  /** Bytes of base64 attachment text in the message (0 without one). */
  attachmentBytes: number
  /** IMAP flags a person might have set on it. */
  flags: string[]
  /** The IMAP internal date (arrival), epoch ms: the Date header's instant, or a day after. */
  internalDate: number
}

type Rand = () => number

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!

const ASCII_PEOPLE = ['Jane Doe', 'Bob Martin', 'Carol Dubois', 'Dave Leroy', 'Erin Moreau', 'Frank Simon']
// [display name, charset that can write it]
const INTL_PEOPLE: [string, string][] = [
  ['José Müller', 'iso-8859-1'],
  ['Łukasz Wiśniewski', 'utf-8'],
  ['Иван Петров', 'koi8-r'],
  ['山田 太郎', 'iso-2022-jp'],
  ['Zoë Brontë', 'windows-1252'],
  ['Αλέξης Παππάς', 'utf-8'],
]
const DOMAINS = ['example.org', 'mail.example.com', 'example.net', 'uni.example.edu', 'example.co.jp']
// Subject phrases in other scripts, each with a charset that can write it.
const INTL_PHRASES: [string, string][] = [
  ['Café crème et réunion à Zürich', 'iso-8859-1'],
  ['Über die Größe der Häuser', 'iso-8859-15'],
  ['Отчёт за октябрь', 'koi8-r'],
  ['会議の日程について', 'iso-2022-jp'],
  ['Rückmeldung – “dringend” €', 'windows-1252'],
  ['Zażółć gęślą jaźń', 'utf-8'],
  ['日本語のテスト 📨 ok', 'utf-8'],
]
const ZONES: [string, number][] = [
  ['+0000', 0],
  ['+0200', 120],
  ['-0500', -300],
  ['+0530', 330],
  ['-0800', -480],
  ['+0900', 540],
]
const NAMED: [string, number][] = [
  ['EST', -300],
  ['PDT', -420],
  ['GMT', 0],
  ['UT', 0],
]
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const p2 = (n: number) => String(n).padStart(2, '0')

function logNormal(r: Rand, median: number, sigma: number): number {
  const u = 1 - r()
  return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()))
}

/** A Date header for an instant, in one of the shapes real mail has, and the instant it means. */
function dateHeader(r: Rand, t: number): { text: string; value: number | null } {
  const v = r()
  const [zone, off] = v < 0.1 ? pick(r, NAMED) : pick(r, ZONES)
  const local = new Date(t + off * 60_000)
  const y = local.getUTCFullYear()
  const withSeconds = r() < 0.9
  // Zones are whole minutes; without seconds the instant drops them.
  const instant = withSeconds ? t : t - local.getUTCSeconds() * 1000
  const time = `${p2(local.getUTCHours())}:${p2(local.getUTCMinutes())}${withSeconds ? `:${p2(local.getUTCSeconds())}` : ''}`
  const day = `${local.getUTCDate()}`
  const yearText = y < 2010 && r() < 0.3 ? p2(y % 100) : String(y)
  if (v > 0.97) return { text: 'sometime last week', value: null }
  const comment = v > 0.85 ? ` (${zone === '+0200' ? 'CEST' : 'added by postmaster'})` : ''
  const dow = r() < 0.9 ? `${DAYS[local.getUTCDay()]}, ` : ''
  const spaces = r() < 0.1 ? '  ' : ' '
  return {
    text: `${dow}${day}${spaces}${MONTHS[local.getUTCMonth()]} ${yearText} ${time} ${zone}${comment}`,
    value: instant,
  }
}

/** An address header value and its decoded form. */
function address(r: Rand, wire: { eightBit: boolean }): { text: string; decoded: string; addr: string } {
  const domain = pick(r, DOMAINS)
  const v = r()
  if (v < 0.55) {
    const name = pick(r, ASCII_PEOPLE)
    const addr = `${name.split(' ')[0]!.toLowerCase()}.${name.split(' ')[1]!.toLowerCase()}@${domain}`
    const text = r() < 0.5 ? `"${name}" <${addr}>` : `${name} <${addr}>`
    return { text, decoded: text, addr }
  }
  if (v < 0.65) {
    const addr = `noreply@${domain}`
    return { text: addr, decoded: addr, addr }
  }
  const [name, charset] = pick(r, INTL_PEOPLE)
  const addr = `person${Math.floor(r() * 1000)}@${domain}`
  if (wire.eightBit && charset === 'utf-8')
    return { text: `${name} <${addr}>`, decoded: `${name} <${addr}>`, addr }
  const enc = encodedWords(name, charset, r() < 0.5 ? 'B' : 'Q', 40)
  return { text: `${enc} <${addr}>`, decoded: `${name} <${addr}>`, addr }
}

/**
 * A Subject header value (its lines, folded ones starting with a space) and its decoded text; or, for an
 * unlabelled latin-1 subject, its bytes in `latin1Bytes`.
 */
function subject(r: Rand, index: number): { lines: string[]; decoded: string; latin1Bytes?: Buffer } {
  const prefix = r() < 0.3 ? pick(r, ['Re: ', 'RE: ', 'Fwd: ', 'AW: ']) : ''
  const base = `${words(r, 3 + Math.floor(r() * 7))} ${index}`
  const v = r()
  if (v < 0.55) {
    const text = prefix + base
    if (text.length > 60 && r() < 0.5) {
      const cut = text.lastIndexOf(' ', 50)
      return { lines: [text.slice(0, cut), ` ${text.slice(cut + 1)}`], decoded: text }
    }
    return { lines: [text], decoded: text }
  }
  const [phrase, charset] = pick(r, INTL_PHRASES)
  const text = `${phrase} ${base}`
  if (v < 0.62 && charset !== 'iso-2022-jp') {
    // Raw 8-bit: UTF-8 written straight into the header, or latin-1 bytes with no label.
    if (charset === 'utf-8' || r() < 0.5) return { lines: [prefix + text], decoded: prefix + text }
    if (/^[\u0000-\u00ff]*$/.test(text)) {
      const latin1Bytes = Buffer.concat([Buffer.from(prefix, 'latin1'), encodeCharset(text, 'iso-8859-1')])
      return { lines: [], decoded: prefix + text, latin1Bytes }
    }
    return { lines: [prefix + text], decoded: prefix + text }
  }
  const encoding = r() < 0.6 ? 'B' : 'Q'
  const words2047 = encodedWords(text, charset, encoding, 10 + Math.floor(r() * 15), '\n ')
  const lines = (prefix + words2047).split('\n')
  return { lines, decoded: prefix + text }
}

/** Text of about `chars` characters in ~72-column lines and paragraphs; some non-ASCII when `intl`. */
function bodyText(r: Rand, chars: number, intl: boolean): string {
  const lines: string[] = []
  let n = 0
  while (n < chars) {
    let line = words(r, 6 + Math.floor(r() * 8))
    if (intl && r() < 0.15) line += pick(r, [' café', ' – naïve', ' € 20', ' Grüße', ' 日本'])
    if (line.length > 76) line = line.slice(0, line.lastIndexOf(' ', 76))
    lines.push(r() < 0.12 ? `> ${line}` : line)
    if (r() < 0.15) lines.push('')
    n += line.length + 1
  }
  return `${lines.join('\n')}\n`
}

/** quotedPrintable encodes UTF-8 text as quoted-printable with soft breaks at 76 columns. */
function quotedPrintable(text: string): string {
  const out: string[] = []
  for (const line of text.split('\n')) {
    let cur = ''
    for (const b of Buffer.from(line, 'utf8')) {
      const c = String.fromCharCode(b)
      const tok = b === 0x3d || b > 0x7e || (b < 0x20 && b !== 9) ? `=${b.toString(16).toUpperCase()}` : c
      if (cur.length + tok.length > 75) {
        out.push(`${cur}=`)
        cur = ''
      }
      cur += tok
    }
    out.push(cur.endsWith(' ') ? `${cur.slice(0, -1)}=20` : cur)
  }
  return out.join('\n')
}

/** base64Lines writes n pseudo-random bytes as base64 in 76-column lines (an attachment's body). */
function base64Lines(seed: number, n: number): string {
  const b64 = keystream(seed, 7, n).toString('base64')
  const lines: string[] = []
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76))
  return `${lines.join('\n')}\n`
}

/** vanDerCorput is the base-2 radical inverse of k: 0.5, 0.25, 0.75, 0.125, … for k = 1, 2, 3, 4 (evenly spread). */
function vanDerCorput(k: number): number {
  let v = 0
  let f = 0.5
  for (let n = k; n > 0; n >>= 1, f /= 2) if (n & 1) v += f
  return v
}

/**
 * Attachment size in raw bytes. Real mail's mean is made by its few large messages, so a random draw
 * per message would give small mailboxes means anywhere from 7 to 20 kB. Instead the attachments are
 * placed evenly: one message in 25 (by a golden-ratio sequence over the index) carries 15–200 kB, and
 * message 101 of every 500 a large one, its size (100 kB–2 MB, log-uniform) taken in turn from an even
 * spread. Any 150 consecutive messages then have a mean of 10–15 kB.
 */
function attachmentSize(r: Rand, seed: number, index: number): number {
  const u = r()
  if (index % 500 === 101) return Math.round(100_000 * 20 ** vanDerCorput(Math.floor(index / 500) + 2))
  const slot = (index * 0.6180339887498949 + (seed % 1000) / 1000) % 1
  if (slot < 0.04) return Math.round(15_000 * (40 / 3) ** u)
  return 0
}

/** generateMail builds message `index` of the mailbox `seed`. */
export function generateMail(seed: number, index: number): GeneratedMail {
  const r = mulberry32(mix32(seed, index + 1))
  const crlf = r() < 0.25
  const eightBit = r() < 0.05
  const t = Date.UTC(2005, 0, 1) + Math.floor(r() * 19.4 * 365 * 86_400) * 1000
  const from = address(r, { eightBit })
  const toCount = r() < 0.1 ? 2 : 1
  const tos = Array.from({ length: toCount }, () => address(r, { eightBit: false }))
  const separateTo = toCount > 1 && r() < 0.5
  const subj = r() < 0.02 ? null : subject(r, index)
  const date = dateHeader(r, t)
  const idDomain = from.addr.split('@')[1]!
  const messageId = `${t.toString(36)}.${(mix32(seed, index) >>> 0).toString(16)}.${index}@${idDomain}`
  const idMode = r()
  const tiny = r() < 0.04

  const head: (string | Buffer)[] = []
  if (!tiny) {
    head.push(`Return-Path: <${from.addr}>`)
    head.push(`Received: from mx.${idDomain} (mx.${idDomain} [192.0.2.${1 + (index % 250)}])`)
    head.push(`\tby imap.example.org with ESMTPS id ${index.toString(36)}x${seed.toString(36)}`)
    head.push(`\tfor <sam@example.org>; ${date.text}`)
  }
  head.push(`From: ${from.text}`)
  if (separateTo) for (const to of tos) head.push(`To: ${to.text}`)
  else head.push(`To: ${tos.map((x) => x.text).join(',\n ')}`)
  if (!tiny && r() < 0.2) head.push(`Cc: ${address(r, { eightBit: false }).text}`)
  if (subj?.latin1Bytes) head.push(Buffer.concat([Buffer.from('Subject: '), subj.latin1Bytes]))
  else if (subj) head.push(`Subject: ${subj.lines.join('\n')}`)
  head.push(`Date: ${date.text}`)
  if (idMode > 0.02) head.push(`Message-ID: ${idMode > 0.97 ? ' ' : ''}<${messageId}>`)
  if (idMode > 0.99) head.push(`Message-ID: <resent.${messageId}>`)
  if (!tiny && r() < 0.3) head.push(`In-Reply-To: <${(t - 86_400_000).toString(36)}@${idDomain}>`)
  head.push('MIME-Version: 1.0')

  const attachment = tiny ? 0 : attachmentSize(r, seed, index)
  const textChars = tiny ? 40 + Math.floor(r() * 200) : Math.min(logNormal(r, 2600, 1.0), 150_000)
  const intl = r() < 0.3
  const text = bodyText(r, textChars, intl)
  const qp = intl || r() < 0.2
  const textPart = qp
    ? `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n${quotedPrintable(text)}\n`
    : `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${text}`
  const boundary = `=_part_${seed.toString(16)}_${index}`
  let body: string
  if (attachment > 0) {
    const name = `${words(r, 2).replace(' ', '-')}.${pick(r, ['pdf', 'jpg', 'zip', 'odt'])}`
    head.push(`Content-Type: multipart/mixed; boundary="${boundary}"`)
    body =
      `This is a multi-part message in MIME format.\n\n--${boundary}\n${textPart}\n--${boundary}\n` +
      `Content-Type: application/octet-stream; name="${name}"\nContent-Disposition: attachment; filename="${name}"\n` +
      `Content-Transfer-Encoding: base64\n\n${base64Lines(mix32(seed, index), attachment)}--${boundary}--\n`
  } else if (!tiny && r() < 0.3) {
    const html = `<html><body>${text
      .split('\n\n')
      .map((p) => `<p>${p.replace(/\n/g, '<br>\n')}</p>`)
      .join('\n')}</body></html>\n`
    head.push(`Content-Type: multipart/alternative; boundary="${boundary}"`)
    body =
      `--${boundary}\n${textPart}\n--${boundary}\nContent-Type: text/html; charset=utf-8\n` +
      `Content-Transfer-Encoding: quoted-printable\n\n${quotedPrintable(html)}\n--${boundary}--\n`
  } else {
    const [typeLine, encLine, , ...rest] = textPart.split('\n')
    head.push(typeLine!, encLine!)
    body = rest.join('\n')
  }
  const nl = crlf ? '\r\n' : '\n'
  const toWire = (s: string) => Buffer.from(crlf ? s.replace(/\n/g, '\r\n') : s, 'utf8')
  const parts: Buffer[] = []
  for (const h of head) parts.push(typeof h === 'string' ? toWire(h) : h, Buffer.from(nl))
  parts.push(Buffer.from(nl), toWire(body))
  const flags = [r() < 0.8 ? '\\Seen' : '', r() < 0.1 ? '\\Flagged' : '', r() < 0.15 ? '\\Answered' : '']
  return {
    bytes: Buffer.concat(parts),
    expected: {
      subject: subj?.decoded ?? '',
      from: from.decoded,
      to: tos.map((x) => x.decoded).join(', '),
      date: date.value,
      messageId: idMode > 0.02 ? messageId : '',
    },
    crlf,
    attachmentBytes: attachment > 0 ? Math.ceil(attachment / 3) * 4 : 0,
    flags: flags.filter(Boolean),
    internalDate: t + Math.floor(r() * 86_400) * 1000,
  }
}

/** generateMails builds messages 0..count-1 of the mailbox `seed`. */
export function generateMails(seed: number, count: number): GeneratedMail[] {
  return Array.from({ length: count }, (_, i) => generateMail(seed, i))
}

/**
 * insertHeaderLine puts `line` (without its line end) at the end of the message's header section, as
 * mbsync puts its X-TUID line, with the message's own line end; a message without a blank line gets it
 * at its end.
 */
export function insertHeaderLine(message: Buffer, line: string): Buffer {
  const firstEnd = message.indexOf(10)
  const crlf = firstEnd > 0 && message[firstEnd - 1] === 13
  const nl = crlf ? '\r\n' : '\n'
  const blank = message.indexOf(crlf ? '\r\n\r\n' : '\n\n')
  const at = blank >= 0 ? blank + nl.length : message.length
  const needsBreak = blank < 0 && at > 0 && message[at - 1] !== 10
  const text = `${needsBreak ? nl : ''}${line}${nl}`
  return Buffer.concat([message.subarray(0, at), Buffer.from(text, 'latin1'), message.subarray(at)])
}

/** tuidValue returns a 12-character mbsync-style X-TUID value for a seed. */
export function tuidValue(seed: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const r = mulberry32(mix32(seed, 0x7475))
  let s = ''
  for (let i = 0; i < 12; i++) s += alphabet[Math.floor(r() * 64)]
  return s
}
