// Why: Maildir file names are bytes, not text. Old mail clients left names that are not valid UTF-8, and
// Node's string paths would silently replace those bytes. seb keeps every path as a JS string in which
// each byte that is not part of valid UTF-8 is held as a lone surrogate U+DC80..U+DCFF (Python's
// "surrogateescape"). Valid UTF-8 never decodes to a lone surrogate, so the mapping is exact both ways,
// and JSON carries such strings safely (as \udcXX escapes).

/** decodePath turns raw name bytes into seb's path string, losslessly. */
export function decodePath(bytes: Uint8Array): string {
  let out = ''
  let i = 0
  const n = bytes.length
  while (i < n) {
    const b = bytes[i]!
    if (b < 0x80) {
      // Fast path for ASCII runs.
      let j = i + 1
      while (j < n && bytes[j]! < 0x80) j++
      out += String.fromCharCode(...bytes.subarray(i, j))
      i = j
      continue
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (len && i + len <= n && validSequence(bytes, i, len)) {
      out += Buffer.from(bytes.subarray(i, i + len)).toString('utf8')
      i += len
    } else {
      out += String.fromCharCode(0xdc00 + b)
      i++
    }
  }
  return out
}

function validSequence(bytes: Uint8Array, i: number, len: number): boolean {
  const b0 = bytes[i]!
  const b1 = bytes[i + 1]!
  for (let k = 1; k < len; k++) if ((bytes[i + k]! & 0xc0) !== 0x80) return false
  // Reject overlong forms, surrogates and code points above U+10FFFF, as a strict decoder does.
  if (b0 === 0xe0 && b1 < 0xa0) return false
  if (b0 === 0xed && b1 >= 0xa0) return false
  if (b0 === 0xf0 && b1 < 0x90) return false
  if (b0 === 0xf4 && b1 >= 0x90) return false
  return true
}

/** hasEscapedBytes says whether `path` holds bytes that were not UTF-8 (else its UTF-8 is its bytes). */
export function hasEscapedBytes(path: string): boolean {
  return /[\udc80-\udcff]/.test(path)
}

/** encodePath turns seb's path string back into the exact original bytes. */
export function encodePath(path: string): Buffer {
  if (!hasEscapedBytes(path)) return Buffer.from(path, 'utf8')
  const parts: Buffer[] = []
  let run = ''
  for (const ch of path) {
    const c = ch.charCodeAt(0)
    if (ch.length === 1 && c >= 0xdc80 && c <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'))
      run = ''
      parts.push(Buffer.from([c - 0xdc00]))
    } else run += ch
  }
  if (run) parts.push(Buffer.from(run, 'utf8'))
  return Buffer.concat(parts)
}

/** displayPath makes a path printable on one line: escaped bytes and control characters shown as \xNN. */
export function displayPath(path: string): string {
  return path.replace(/[\udc80-\udcff\u0000-\u001f\u007f]/g, (ch) => {
    const c = ch.charCodeAt(0)
    return `\\x${(c >= 0xdc80 ? c - 0xdc00 : c).toString(16).padStart(2, '0')}`
  })
}

/**
 * isSafeRelativePath tells whether a repository path can be written below a restore target: relative,
 * slash-separated, no empty, '.' or '..' component, no NUL. Restore refuses anything else (hostile index).
 */
export function isSafeRelativePath(path: string): boolean {
  if (path === '' || path.startsWith('/') || path.includes('\0')) return false
  for (const part of path.split('/')) if (part === '' || part === '.' || part === '..') return false
  return true
}
