// Why: each generated message is one RFC 5322 file of an exact size: the headers real mail carries
// (Received, Message-ID, List-Id, mbsync's X-TUID line), a text body and, for some, a base64 attachment of
// pseudo-random bytes, like the already-compressed files people attach.

import { keystream, mix32, mulberry32 } from './prng.js'
import { fillText, words } from './text.js'

const FIRST =
  'Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil Trent Victor Walter Yvonne'.split(
    ' ',
  )
const LAST =
  'Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia Fournier Roux Morel Girard Mercier'.split(
    ' ',
  )
const DOMAINS = [
  'example.org',
  'mail.example.com',
  'example.net',
  'corp.example.com',
  'lists.example.net',
  'uni.example.edu',
]
const TYPES = [
  ['application/pdf', 'pdf'],
  ['image/jpeg', 'jpg'],
  ['application/zip', 'zip'],
  ['image/png', 'png'],
  ['application/vnd.oasis.opendocument.text', 'odt'],
] as const

/** What buildMessage needs to know about one message. */
export interface MessageSpec {
  /** Exact size of the file in bytes. */
  size: number
  /** Bytes of the message given to a base64 attachment (0 for a plain text message). */
  attachment: number
  /** The Date: header, unix seconds. */
  date: number
  /** The account's domain (recipient side). */
  domain: string
  /** Add mbsync's `X-TUID:` line. */
  tuid: boolean
  /** Per-message seed. */
  seed: number
  /** Mailing list id for list folders. */
  list?: string
}

function person(r: () => number): { name: string; addr: string } {
  const f = FIRST[Math.floor(r() * FIRST.length)]!
  const l = LAST[Math.floor(r() * LAST.length)]!
  const d = DOMAINS[Math.floor(r() * DOMAINS.length)]!
  return { name: `${f} ${l}`, addr: `${f.toLowerCase()}.${l.toLowerCase()}@${d}` }
}

/** rfc2822 formats unix seconds as an RFC 2822 date in UTC. */
export function rfc2822(t: number): string {
  const d = new Date(t * 1000)
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
  const p = (n: number) => String(n).padStart(2, '0')
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
}

const TUID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** tuidLine returns mbsync's 21-byte `X-TUID: <12 chars>\n` header line for a seed. */
export function tuidLine(seed: number): string {
  const r = mulberry32(mix32(seed, 0x7475))
  let s = 'X-TUID: '
  for (let i = 0; i < 12; i++) s += TUID_ALPHABET[Math.floor(r() * 64)]
  return `${s}\n`
}

/**
 * buildMessage renders one message of exactly spec.size bytes: RFC 5322 headers, a word-list text body
 * and, when spec.attachment > 0, a MIME base64 attachment of pseudo-random bytes (compresses ~1.3x,
 * like the already-compressed files people attach).
 */
export function buildMessage(spec: MessageSpec): Buffer {
  const r = mulberry32(mix32(spec.seed, 0x6d7367))
  const from = person(r)
  const to = { name: 'Sam Owner', addr: `sam@${spec.domain}` }
  const reply = r() < 0.4
  const subject = `${reply ? 'Re: ' : ''}${spec.list ? `[${spec.list}] ` : ''}${words(r, 3 + Math.floor(r() * 6))} #${spec.seed % 100000}`
  const msgid = `<${spec.date}.${spec.seed.toString(16)}.${Math.floor(r() * 1e9).toString(36)}@${from.addr.split('@')[1]}>`
  const boundary = `=_seb${spec.seed.toString(16)}${Math.floor(r() * 1e9).toString(16)}`
  const withAtt = spec.attachment > 0
  let head =
    `Return-Path: <${from.addr}>\n` +
    `Delivered-To: ${to.addr}\n` +
    `Received: from mx${1 + Math.floor(r() * 4)}.${from.addr.split('@')[1]} (mx.${spec.domain} [192.0.2.${1 + Math.floor(r() * 250)}])\n\tby imap.${spec.domain} with ESMTPS id ${Math.floor(r() * 2 ** 40).toString(36)}\n\tfor <${to.addr}>; ${rfc2822(spec.date)}\n` +
    `From: ${from.name} <${from.addr}>\n` +
    `To: ${to.name} <${to.addr}>\n` +
    `Subject: ${subject}\n` +
    `Date: ${rfc2822(spec.date)}\n` +
    `Message-ID: ${msgid}\n` +
    (reply
      ? `In-Reply-To: <${spec.date - 3600}.${Math.floor(r() * 1e9).toString(36)}@${spec.domain}>\n`
      : '') +
    (spec.list ? `List-Id: <${spec.list}.lists.example.net>\nPrecedence: list\n` : '') +
    'MIME-Version: 1.0\n' +
    (withAtt
      ? `Content-Type: multipart/mixed; boundary="${boundary}"\n`
      : 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n') +
    (spec.tuid ? tuidLine(spec.seed) : '') +
    '\n'
  const sig = `\n-- \n${from.name}\n`
  if (head.length + sig.length + 16 > spec.size) {
    // Tiny messages: the essential headers only.
    head =
      `From: <${from.addr}>\nTo: <${to.addr}>\nSubject: ${subject.slice(0, 40)}\nDate: ${rfc2822(spec.date)}\nMessage-ID: ${msgid}\n` +
      (spec.tuid ? tuidLine(spec.seed) : '') +
      '\n'
  }
  const out = Buffer.alloc(spec.size)
  let p = out.write(head.slice(0, spec.size), 0, 'latin1')
  if (p >= spec.size) return out
  let attHead = ''
  let tail = ''
  if (withAtt) {
    const [type, ext] = TYPES[Math.floor(r() * TYPES.length)]!
    const fname = `${words(r, 2).replace(' ', '-')}.${ext}`
    const textHead = `This is a multi-part message in MIME format.\n\n--${boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n`
    attHead = `--${boundary}\nContent-Type: ${type}; name="${fname}"\nContent-Disposition: attachment; filename="${fname}"\nContent-Transfer-Encoding: base64\n\n`
    tail = `--${boundary}--\n`
    p += out.write(textHead, p, 'latin1')
  }
  const room = spec.size - p
  const b64len = withAtt
    ? Math.max(0, Math.min(spec.attachment, room - attHead.length - tail.length - 80))
    : 0
  const textEnd = withAtt && b64len >= 80 ? spec.size - b64len - attHead.length - tail.length : spec.size
  const textLen = textEnd - p
  const sigFits = textLen > sig.length + 40
  const rnd = keystream(spec.seed, 1, Math.min(3 * Math.ceil(textLen / 2) + 8, 1 << 20))
  fillText(out, p, sigFits ? textEnd - sig.length : textEnd, rnd, reply)
  if (sigFits) out.write(sig, textEnd - sig.length, 'latin1')
  p = textEnd
  if (textEnd < spec.size) {
    p += out.write(attHead, p, 'latin1')
    const raw = keystream(spec.seed, 2, Math.ceil((b64len * 3) / 4) + 3)
    const b64 = Buffer.from(raw.toString('base64'), 'latin1')
    let q = 0
    const end = p + b64len
    while (p < end) {
      const n = Math.min(76, end - p - 1)
      b64.copy(out, p, q, q + n)
      p += n
      q += n
      out[p++] = 10
    }
    out.write(tail, p, 'latin1')
  }
  return out
}
