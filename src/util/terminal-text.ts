// Why: host names, ids, paths and messages that come from the destination are shown on the user's
// terminal, and whoever holds the destination chose them: an escape sequence there could rewrite the
// screen, hide a warning or change the terminal's title. Every such text is printed through here, with
// control characters shown as \x.. escapes.

// C0 controls, DEL, C1 controls, and the Unicode line/paragraph separators and bidi overrides that
// reorder what a reader sees.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** safeText returns `text` with every control character written as a visible escape (\x1b, \u202e). */
export function safeText(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0)
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}
