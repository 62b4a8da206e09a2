// Why: a small, deterministic Maildir for engine and CLI tests, with the awkward cases the brief lists:
// mbsync/offlineimap-style names with flags, empty folders (new/, tmp/), an empty file, a name that is
// not UTF-8, paths over 100 bytes, a symlink, odd modes, and mail in tmp/ (excluded by default).
import { promises as fs } from 'node:fs'
import path from 'node:path'

/** SECRET_SUBJECT, SECRET_BODY: plaintext that must never appear at the destination. */
export const SECRET_SUBJECT = 'Subject: Quarterly pineapple strategy 7f3a9'
export const SECRET_BODY = 'The vault combination is marmalade-4417-zebra.'
/** SECRET_NAME is a file name that must never appear at the destination. */
export const SECRET_NAME = '1700000000.M1P2Q3.secretive-hostname,U=42:2,S'
/**
 * SECRET_NEEDLES is every piece of makeMaildir's tree a destination must never show in plaintext: the
 * secrets above and parts of them, folder names and a sender.
 */
export const SECRET_NEEDLES: readonly string[] = [
  SECRET_SUBJECT,
  SECRET_BODY,
  SECRET_NAME,
  'secretive-hostname',
  'lists.debian-devel',
  'Archive.2019',
  'marmalade',
  'someone1@example.org',
]

/** makeMaildir writes `count` messages (default 60) into a fresh tree at `root` and returns their paths. */
export async function makeMaildir(root: string, count = 60): Promise<string[]> {
  const folders = ['INBOX', 'Sent', 'Archive.2019', 'lists.debian-devel']
  const made: string[] = []
  for (const f of folders)
    for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(root, f, sub), { recursive: true })
  let seed = 12345
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x7fffffff
  }
  for (let i = 0; i < count; i++) {
    const folder = folders[i % folders.length]!
    const t = 1_400_000_000 + i * 86_400
    const name =
      i % 2 ? `${t}.${1000 + i}_${i}.laptop,U=${i}:2,S` : `${t}_${i}.${2000 + i}.laptop,U=${i},FMD5=abc:2,RS`
    const rel = `${folder}/cur/${name}`
    const words = Array.from({ length: 20 + Math.floor(rnd() * 400) }, () =>
      Math.floor(rnd() * 1e6).toString(36),
    ).join(' ')
    const body = `From: someone${i}@example.org\nTo: me@example.org\nSubject: message number ${i}\nDate: ${new Date(t * 1000).toUTCString()}\n\n${words}\n`
    await writeAt(root, rel, body, t)
    made.push(rel)
  }
  await writeAt(
    root,
    `INBOX/cur/${SECRET_NAME}`,
    `From: boss@example.org\n${SECRET_SUBJECT}\n\n${SECRET_BODY}\n`,
    1_650_000_000,
  )
  await writeAt(root, 'INBOX/new/1700000001.empty.laptop', '', 1_650_000_100)
  await writeAt(root, 'INBOX/tmp/1700000002.partial.laptop', 'half-delivered', 1_650_000_200)
  const long = `Archive.2019/cur/${'very-long-message-name-'.repeat(8)}.laptop,U=99:2,S`
  await writeAt(root, long, 'a message whose path is longer than 100 bytes\n', 1_600_000_000)
  await fs.writeFile(
    Buffer.concat([
      Buffer.from(`${root}/Sent/cur/`),
      Buffer.from([0x6c, 0xe9, 0x74, 0xe9, 0xff]),
      Buffer.from(':2,S'),
    ]),
    'latin-1 named message\n',
  )
  await fs.utimes(
    Buffer.concat([
      Buffer.from(`${root}/Sent/cur/`),
      Buffer.from([0x6c, 0xe9, 0x74, 0xe9, 0xff]),
      Buffer.from(':2,S'),
    ]),
    1_600_000_001,
    1_600_000_001,
  )
  await writeAt(root, 'INBOX/dovecot-uidlist', '3 V1 N2\n', 1_600_000_002)
  await writeAt(root, 'INBOX/cur/private-note:2,S', 'mode 600\n', 1_600_000_003)
  await fs.chmod(path.join(root, 'INBOX/cur/private-note:2,S'), 0o600)
  await fs.symlink('../INBOX/cur', path.join(root, 'Sent/inbox-link'))
  return made
}

async function writeAt(root: string, rel: string, data: string, mtime: number): Promise<void> {
  const p = path.join(root, rel)
  await fs.writeFile(p, data)
  await fs.utimes(p, mtime, mtime)
}

/** isExcludedByDefault tells a test which source paths the default excludes leave out. */
export function isExcludedByDefault(rel: string): boolean {
  return /(^|\/)tmp\/[^/]+$/.test(rel)
}
