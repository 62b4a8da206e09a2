// Why: generated mail must compress like real mail (~2× with zstd -3), so bodies are text in a fixed
// pseudo-language: common English words plus made-up syllable words, Zipf-distributed, laid out in
// ~72-column lines and paragraphs, some of them quoted.

import { mulberry32 } from './prng.js'

const COMMON =
  'the of and to a in is it you that he was for on are with as I his they be at one have this from or had by not but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them would write like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find any new work part take get place made live where after back little only round man year came show every good me give our under name very through just form much great think say help low line before turn cause same mean differ move right boy old too does tell sentence set three want air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal point mother world near build self earth father'.split(
    ' ',
  )
const SYLLABLES =
  'ka to ri mon sel ve da ar en tri pol gan mi sto re lu ber ne cal fi do ta ster qua bin lo ph ex cor dia val tem nor gra hu si plan zen mar tek ol im ul bra fo ge vi san'.split(
    ' ',
  )

interface Vocab {
  bytes: Uint8Array
  offsets: Uint32Array
  table: Uint16Array
  words: string[]
}

let vocabCache: Vocab | undefined

/** vocab builds the fixed pseudo-language (common English words + syllable words, Zipf-distributed). */
function vocab(): Vocab {
  if (vocabCache) return vocabCache
  const r = mulberry32(0x766f6361)
  const words = [...COMMON]
  const seen = new Set(words)
  while (words.length < 24_000) {
    const k = 1 + Math.floor(r() * 3.2)
    let w = ''
    for (let i = 0; i < k; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)]
    if (r() < 0.15) w += ['s', 'ed', 'ing', 'ly', 'er', 'tion'][Math.floor(r() * 6)]
    if (!seen.has(w)) {
      seen.add(w)
      words.push(w)
    }
  }
  // Shuffle the made-up words among themselves so that rank is not length-ordered.
  for (let i = words.length - 1; i > COMMON.length; i--) {
    const j = COMMON.length + Math.floor(r() * (i - COMMON.length + 1))
    ;[words[i], words[j]] = [words[j]!, words[i]!]
  }
  const enc = words.map((w) => Buffer.from(w, 'latin1'))
  const offsets = new Uint32Array(words.length + 1)
  for (let i = 0; i < enc.length; i++) offsets[i + 1] = offsets[i]! + enc[i]!.length
  const bytes = Buffer.concat(enc)
  // Zipf(s) over ranks, quantised into a 65,536-entry lookup table.
  const s = 0.9
  let norm = 0
  for (let k = 1; k <= words.length; k++) norm += 1 / k ** s
  const table = new Uint16Array(65536)
  let acc = 0
  let k = 0
  for (let slot = 0; slot < 65536; slot++) {
    const p = (slot + 0.5) / 65536
    while (k < words.length - 1 && acc + 1 / (k + 1) ** s / norm < p) {
      acc += 1 / (k + 1) ** s / norm
      k++
    }
    table[slot] = k
  }
  vocabCache = { bytes, offsets, table, words }
  return vocabCache
}

/** words returns `n` seeded words of the pseudo-language joined by spaces (subjects, names, tests). */
export function words(r: () => number, n: number): string {
  const v = vocab()
  const out: string[] = []
  for (let i = 0; i < n; i++) out.push(v.words[v.table[Math.floor(r() * 65536)]!]!)
  return out.join(' ')
}

/**
 * fillText writes seeded word text into out[start, end) with ~72-column lines, paragraphs and, when
 * `quote` is set, some "> " quoted paragraphs; the last byte is a newline.
 */
export function fillText(out: Buffer, start: number, end: number, rnd: Buffer, quote: boolean): void {
  const v = vocab()
  let p = start
  let col = 0
  let ri = 0
  let quoted = false
  const limit = end - 1
  while (p < limit) {
    if (ri + 4 > rnd.length) ri = 0
    const w = v.table[rnd[ri]! | (rnd[ri + 1]! << 8)]!
    const ctl = rnd[ri + 2]!
    ri += 3
    const ws = v.offsets[w]!
    const wl = v.offsets[w + 1]! - ws
    if (col > 0 && col + wl + 1 > 72) {
      out[p++] = 10
      col = 0
      if (ctl < 40 && p < limit) {
        out[p++] = 10
        quoted = quote && ctl < 16
      }
      continue
    }
    if (col === 0 && quoted && p + 2 < limit) {
      out[p++] = 62
      out[p++] = 32
      col = 2
    } else if (col > 0) {
      out[p++] = ctl > 236 ? 44 : ctl > 226 ? 46 : 32
      if (ctl > 226 && p < limit) out[p++] = 32
      col += ctl > 226 ? 2 : 1
    }
    for (let i = 0; i < wl && p < limit; i++) out[p++] = v.bytes[ws + i]!
    col += wl
  }
  out[end - 1] = 10
}
