// One glob rule in one tool: every row of the glob table (test/helpers/glob-table.ts) selects the same
// files when given to backup as an exclude (the files it leaves out, counted in the summary) and to
// ls, find and restore as a selection, on a real repository.
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { findFiles, listFiles } from '../../src/engine/inspect.js'
import { restore } from '../../src/engine/restore.js'
import { LocalStorage } from '../../src/storage/local.js'
import { GLOB_TABLE, GLOB_TREE, selectedFiles } from '../helpers/glob-table.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { createTree, readTree, tempDir } from '../helpers/tree.js'

describe('the glob table through excludes, ls, find and restore', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const storage = new LocalStorage(path.join(work.dir, 'dest'))
  const cacheBase = path.join(work.dir, 'cache')
  let full = ''
  const files = (entries: { path: string; kind: string }[]) =>
    entries
      .filter((e) => e.kind === 'f')
      .map((e) => e.path)
      .sort()
  before(async () => {
    process.env.GNUPGHOME = g.home
    await createTree(src, Object.fromEntries(GLOB_TREE.map((p) => [p, `content of ${p}\n`])))
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    full = (await backup({ source: src, storage, cacheBase, defaultExcludes: false })).snapshot!
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  GLOB_TABLE.forEach((row, n) => {
    it(`${row.pattern}`, async () => {
      const want = selectedFiles(row)
      const ls = await listFiles({ storage, cacheBase, snapshot: full, patterns: [row.pattern] })
      assert.deepEqual(files(ls.entries), want, 'ls')
      const found = await findFiles({ storage, cacheBase, patterns: [row.pattern] })
      assert.deepEqual(files(found.matches.filter((m) => m.snapshot === full)), want, 'find')
      if (want.length) {
        const out = path.join(work.dir, `restored${n}`)
        await restore({ storage, target: out, cacheBase, snapshot: full, patterns: [row.pattern] })
        const restored = [...(await readTree(out))].filter(([, e]) => e.kind === 'f').map(([p]) => p)
        assert.deepEqual(restored.sort(), want, 'restore')
      }
      const s = await backup({
        source: src,
        storage,
        cacheBase,
        defaultExcludes: false,
        excludes: [row.pattern],
      })
      const kept = files((await listFiles({ storage, cacheBase, snapshot: s.snapshot! })).entries)
      assert.deepEqual(GLOB_TREE.filter((p) => !kept.includes(p)).sort(), want, 'left out by the exclude')
      assert.deepEqual(s.excluded, [{ pattern: row.pattern, files: want.length }])
    })
  })
})
