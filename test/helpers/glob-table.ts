// Why: the one glob rule (src/core/glob.ts) as a table of patterns × paths, shared by the pure test of
// the matcher and the test that runs the same table through backup's excludes and through ls, find
// and restore: a pattern must select the same files everywhere.

/** GLOB_TREE lists the files of the test tree (two accounts, and a folder at the top). */
export const GLOB_TREE = [
  'personal/Archive/2019/cur/a:2,S',
  'personal/Archive/2019/new/b',
  'personal/Archive/2020/cur/c:2,S',
  'work/Archive/2019/cur/d:2,S',
  'personal/INBOX/cur/e:2,S',
  'work/INBOX/cur/f:2,S',
  'work/INBOX/tmp/g',
  'Archive/2019/cur/h:2,S',
  'personal/Junk/cur/i',
  'work/.mbsyncstate',
  'personal/dovecot.index.cache',
] as const

/** GlobRow is a pattern and the files of GLOB_TREE it selects (by their one-letter tag, or a name). */
export interface GlobRow {
  readonly pattern: string
  readonly selects: readonly string[]
}

const file = (tag: string) => {
  const hit = GLOB_TREE.find((p) => p.split('/').pop()!.split(':')[0] === tag)
  if (!hit) throw new Error(`no file tagged ${tag}`)
  return hit
}

/** GLOB_TABLE: each pattern with the files it selects. */
export const GLOB_TABLE: readonly GlobRow[] = [
  // A '/' in the middle anchors at the root: the issue's `Archive/2019/**` is the top folder only.
  { pattern: 'Archive/2019/**', selects: ['h'] },
  { pattern: '/Archive/2019/**', selects: ['h'] },
  { pattern: '**/Archive/2019/**', selects: ['a', 'b', 'd', 'h'] },
  { pattern: '**/Archive/2019', selects: ['a', 'b', 'd', 'h'] },
  // No '/': a name at any depth; a folder takes everything below it.
  { pattern: 'Archive', selects: ['a', 'b', 'c', 'd', 'h'] },
  { pattern: '2019', selects: ['a', 'b', 'd', 'h'] },
  { pattern: '*:2,S', selects: ['a', 'c', 'd', 'e', 'f', 'h'] },
  { pattern: '.mbsyncstate', selects: ['.mbsyncstate'] },
  { pattern: 'dovecot.index*', selects: ['dovecot.index.cache'] },
  // '*' stays within one name, '**' spans folders.
  { pattern: 'cur/*', selects: [] },
  { pattern: 'INBOX/cur/*', selects: [] },
  { pattern: '**/cur/*', selects: ['a', 'c', 'd', 'e', 'f', 'h', 'i'] },
  { pattern: 'personal/*/cur/*', selects: ['e', 'i'] },
  { pattern: 'personal/**/cur/*', selects: ['a', 'c', 'e', 'i'] },
  { pattern: 'work', selects: ['d', 'f', 'g', '.mbsyncstate'] },
  { pattern: 'work/INBOX', selects: ['f', 'g'] },
  { pattern: '/work/INBOX/', selects: ['f', 'g'] },
  // A trailing '/' matches folders only.
  { pattern: 'Junk/', selects: ['i'] },
  { pattern: 'g/', selects: [] },
  { pattern: '[dw]*', selects: ['d', 'f', 'g', '.mbsyncstate', 'dovecot.index.cache'] },
  { pattern: '?', selects: ['b', 'g', 'i'] },
]

/** selectedFiles turns a row's tags into the paths of GLOB_TREE, sorted. */
export function selectedFiles(row: GlobRow): string[] {
  return row.selects.map(file).sort()
}
