// Why: `seb find --subject/--from/--to` must find a message from the few words a person remembers, in
// any case and any script, and from an address or a domain ("jane@example.org", "example.org"), without
// matching pieces of unrelated words. One rule, written down here, for every header searched. Pure.

const CJK = /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}/u
const CJK_OR_RUN =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[^\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]+/gu

/**
 * searchWords splits text into lower-case words: runs of Unicode letters, digits and combining marks
 * (marks too, or words in scripts such as Devanagari would break apart), after NFC normalisation so
 * that a decomposed "é" and a typed one are the same word. Chinese and Japanese write no spaces, so each
 * Han, Hiragana or Katakana character is a word of its own: a query's characters then match as a run
 * ("会議" finds "会議の日程"). Thai, also written without spaces, is not split (a known limit).
 */
export function searchWords(text: string): string[] {
  const words: string[] = []
  for (const w of text
    .normalize('NFC')
    .toLowerCase()
    .split(/[^\p{L}\p{N}\p{M}]+/u)) {
    if (!w) continue
    if (CJK.test(w)) words.push(...(w.match(CJK_OR_RUN) ?? []))
    else words.push(w)
  }
  return words
}

// An address as written in a header: no spaces, brackets, quotes or separators around its `@`.
const ADDRESS = /[^\s<>()[\]",;:@]+@[^\s<>()[\]",;:@]+/gu
const EDGE_PUNCTUATION = /^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu

/** addressesOf returns the lower-case addresses (`local@domain`) in a header's text. */
export function addressesOf(text: string): string[] {
  return (text.normalize('NFC').toLowerCase().match(ADDRESS) ?? []).map((a) =>
    a.replace(EDGE_PUNCTUATION, ''),
  )
}

/**
 * compileWordQuery turns a query into a test of header text. The query is split on whitespace into
 * terms, each stripped of punctuation at its ends; every term must match (AND):
 * - a term with `@` matches a header holding that exact address, any case
 *   (`jane@example.org` matches `"Jane Doe" <Jane@Example.org>`, not `jane@example.org.evil`);
 * - any other term matches when its words (searchWords) appear in the header's words one after
 *   another: `jane`, `doe`, `october` are whole words (`oct` does not match `October`);
 *   `example.org` matches the address `jane@mail.example.org` and the subject `see example.org`;
 *   `v2.1` matches `Release v2.1`.
 * A query without any term matches everything.
 */
export function compileWordQuery(query: string): (headerText: string) => boolean {
  const addresses: string[] = []
  const phrases: string[][] = []
  for (const raw of query.split(/\s+/)) {
    const term = raw.replace(EDGE_PUNCTUATION, '')
    if (!term) continue
    if (term.includes('@')) addresses.push(term.normalize('NFC').toLowerCase())
    else {
      const words = searchWords(term)
      if (words.length) phrases.push(words)
    }
  }
  return (headerText) => {
    if (addresses.length) {
      const present = new Set(addressesOf(headerText))
      for (const a of addresses) if (!present.has(a)) return false
    }
    if (phrases.length) {
      const words = searchWords(headerText)
      for (const phrase of phrases) if (!containsRun(words, phrase)) return false
    }
    return true
  }
}

function containsRun(words: string[], run: string[]): boolean {
  for (let i = 0; i + run.length <= words.length; i++) {
    let k = 0
    while (k < run.length && words[i + k] === run[k]) k++
    if (k === run.length) return true
  }
  return false
}

/**
 * matchesWords says whether header text matches a query (compileWordQuery's rules); compile the query
 * once instead when testing many headers.
 */
export function matchesWords(headerText: string, query: string): boolean {
  return compileWordQuery(query)(headerText)
}
