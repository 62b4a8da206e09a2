// Why: tests that read tar archives need archives built member by member with seb's own header
// encoder; this is the one way they build them.
import { END_OF_ARCHIVE, encodeHeader, paddingFor, type TarEntry } from '../../src/pack/tar-header.js'

/** tarOf builds a whole archive: each member's header, its data and padding, then the end blocks. */
export function tarOf(entries: readonly { e: TarEntry; data?: Buffer }[]): Buffer {
  const parts: Buffer[] = []
  for (const { e, data } of entries) {
    parts.push(encodeHeader(e))
    if (data) parts.push(data, paddingFor(data.length))
  }
  parts.push(END_OF_ARCHIVE)
  return Buffer.concat(parts)
}
