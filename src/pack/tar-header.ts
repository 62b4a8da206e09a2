// Why: pack tars must carry names as the exact bytes of the source (non-UTF-8 Maildir names exist),
// long paths, and sub-second mtimes, in a form GNU tar and bsdtar extract as-is: POSIX pax. tar-stream
// and node-tar can only write names as UTF-8 strings, so headers are encoded here. Pure.
import { encodePath } from '../core/path-bytes.js'

/** TarEntryType: regular file, directory, symbolic link, hard link. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'link'

/** TarEntry describes one archive member; `path` and `linkPath` are seb path strings (core/path-bytes). */
export interface TarEntry {
  readonly path: string
  readonly type: TarEntryType
  readonly size: number
  readonly mode: number
  readonly mtimeMs: number
  readonly linkPath?: string
  readonly uid?: number
  readonly gid?: number
}

const BLOCK = 512
const TYPEFLAG: Record<TarEntryType, string> = { file: '0', link: '1', symlink: '2', directory: '5' }
const MAX_OCTAL_SIZE = 0o77777777777

/** encodeHeader returns the header block(s) for an entry: a pax extended header when needed, then ustar. */
export function encodeHeader(e: TarEntry): Buffer {
  const name = encodePath(e.type === 'directory' ? `${e.path}/` : e.path)
  const link = e.linkPath === undefined ? Buffer.alloc(0) : encodePath(e.linkPath)
  const seconds = Math.floor(e.mtimeMs / 1000)
  const pax: [string, Buffer][] = []
  if (name.length > 100 || !isPortable(name)) pax.push(['path', name])
  if (link.length > 100 || !isPortable(link)) pax.push(['linkpath', link])
  if (Math.round(e.mtimeMs * 1000) !== seconds * 1e6)
    pax.push(['mtime', Buffer.from(formatSeconds(e.mtimeMs))])
  if (e.size > MAX_OCTAL_SIZE) pax.push(['size', Buffer.from(String(e.size))])
  const blocks: Buffer[] = []
  if (pax.length) {
    const body = Buffer.concat(pax.map(([k, v]) => paxRecord(k, v)))
    blocks.push(
      ustar({
        name: Buffer.from(`PaxHeaders/${fallbackName(name)}`),
        typeflag: 'x',
        size: body.length,
        mode: 0o644,
        seconds,
        link: Buffer.alloc(0),
      }),
    )
    blocks.push(pad(body))
  }
  blocks.push(
    ustar({
      name: name.length > 100 || !isPortable(name) ? Buffer.from(fallbackName(name)) : name,
      typeflag: TYPEFLAG[e.type],
      size: e.type === 'file' ? e.size : 0,
      mode: e.mode,
      seconds,
      link: link.length > 100 || !isPortable(link) ? Buffer.alloc(0) : link,
      uid: e.uid,
      gid: e.gid,
    }),
  )
  // The common case (a short ASCII name, whole-second mtime) is one block: no copy.
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks)
}

/** paddingFor returns the zero bytes that complete a member's data to a whole block. */
export function paddingFor(size: number): Buffer {
  const rest = size % BLOCK
  return rest ? Buffer.alloc(BLOCK - rest) : Buffer.alloc(0)
}

/** END_OF_ARCHIVE is the two zero blocks that end a tar archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK)

function ustar(h: {
  name: Buffer
  typeflag: string
  size: number
  mode: number
  seconds: number
  link: Buffer
  uid?: number
  gid?: number
}): Buffer {
  const b = Buffer.alloc(BLOCK)
  h.name.copy(b, 0, 0, Math.min(100, h.name.length))
  octal(b, 100, 8, h.mode & 0o7777)
  octal(b, 108, 8, h.uid ?? 0)
  octal(b, 116, 8, h.gid ?? 0)
  octal(b, 124, 12, Math.min(h.size, MAX_OCTAL_SIZE))
  octal(b, 136, 12, Math.max(0, h.seconds))
  b.write(h.typeflag, 156, 'latin1')
  h.link.copy(b, 157, 0, Math.min(100, h.link.length))
  b.write('ustar\u000000', 257, 'latin1')
  b.fill(0x20, 148, 156) // checksum field counts as spaces while summing
  let sum = 0
  for (let i = 0; i < BLOCK; i++) sum += b[i]!
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1')
  return b
}

function octal(b: Buffer, off: number, len: number, n: number): void {
  b.write(`${n.toString(8).padStart(len - 1, '0')}\u0000`, off, 'latin1')
}

function paxRecord(key: string, value: Buffer): Buffer {
  // "<len> <key>=<value>\n" where <len> counts itself.
  const rest = Buffer.byteLength(` ${key}=`) + value.length + 1
  let len = rest + String(rest).length
  if (String(len).length !== String(rest).length) len = rest + String(len).length
  return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')])
}

function pad(body: Buffer): Buffer {
  return Buffer.concat([body, paddingFor(body.length)])
}

function isPortable(name: Buffer): boolean {
  for (const c of name) if (c < 0x20 || c > 0x7e) return false
  return true
}

function fallbackName(name: Buffer): string {
  // The ustar name field of a member whose real name is in the pax header: readers of plain ustar
  // see a harmless, truncated ASCII stand-in.
  return name
    .toString('latin1')
    .replace(/[^\x20-\x7e]/g, '_')
    .slice(-90)
    .replace(/^\/+/, '')
}

function formatSeconds(ms: number): string {
  const us = Math.round(ms * 1000)
  const whole = Math.floor(us / 1e6)
  const frac = us - whole * 1e6
  if (frac === 0) return String(whole)
  return `${whole}.${String(frac).padStart(6, '0').replace(/0+$/, '')}`
}
