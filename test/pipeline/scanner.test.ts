// The scan split across worker threads lists exactly what one scanner lists, in the same order: the
// top of the tree, every folder handed out as a task, symlinks, special files, names that are not
// UTF-8, excluded paths, and a folder that is not there any more.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { makeExcluder } from '../../src/core/excludes.js'
import { scanTree, scanTreeInWorker } from '../../src/pipeline/scanner.js'
import { createTree, tempDir } from '../helpers/tree.js'

describe('scanTreeInWorker', () => {
  const work = tempDir()
  after(work.cleanup)

  it('lists what scanTree lists, in the same order', async () => {
    const root = path.join(work.dir, 'mail')
    const spec: Record<string, string | { link: string } | { dir: true }> = {
      '.mbsyncstate': 'top',
      'work/.uidvalidity': '1',
      'work/INBOX/tmp': { dir: true },
      'lists/empty': { dir: true },
      'personal/link': { link: '../work/INBOX' },
      'personal/Sent/cur/skip.lock': 'excluded',
    }
    for (const account of ['personal', 'work', 'lists'])
      for (const folder of ['INBOX', 'Archive.2019', 'Sent', 'Trash'])
        for (const sub of ['cur', 'new'])
          for (let i = 0; i < 7; i++)
            spec[`${account}/${folder}/${sub}/${i}.M${i}P1.host:2,S`] = `${account}${i}`
    spec['work/INBOX/cur/deep/er/still'] = 'deep'
    await createTree(root, spec)
    execFileSync('mkfifo', [path.join(root, 'work/INBOX/fifo')])
    // A name that is not UTF-8, at the top of a task's folder.
    await fs.writeFile(
      Buffer.concat([Buffer.from(`${root}/lists/Trash/cur/`), Buffer.from([0xff, 0x41])]),
      'x',
    )
    const patterns = ['*.lock']
    const one = await scanTree(root, makeExcluder(patterns))
    const split = await scanTreeInWorker(root, patterns)
    assert.equal(split.entries.length, one.entries.length)
    assert.deepEqual([...split.entries], [...one.entries])
    assert.deepEqual(split.skipped, one.skipped)
    assert.deepEqual(split.unreadable, one.unreadable)
    assert.ok([...one.entries].some((e) => e.path === 'work/INBOX/cur/deep/er/still'))
    assert.ok([...one.entries].some((e) => e.path.includes('\udcff')))
    assert.ok(![...one.entries].some((e) => e.path.endsWith('.lock')))
    assert.deepEqual(one.skipped, [{ path: 'work/INBOX/fifo', reason: 'FIFO' }])
    // One worker, or more workers than tasks, give the same.
    assert.deepEqual([...(await scanTreeInWorker(root, patterns, undefined, 1)).entries], [...one.entries])
    assert.deepEqual([...(await scanTreeInWorker(root, patterns, undefined, 5)).entries], [...one.entries])
  })

  it('scans a tree with no folder deep enough to hand out, and an empty one', async () => {
    const flat = path.join(work.dir, 'flat')
    await createTree(flat, { 'cur/1': 'a', 'cur/2': 'b', 'new/3': 'c', top: 'd' })
    const one = await scanTree(flat, makeExcluder([]))
    assert.deepEqual([...(await scanTreeInWorker(flat, [])).entries], [...one.entries])
    const empty = path.join(work.dir, 'empty')
    await fs.mkdir(empty)
    assert.equal((await scanTreeInWorker(empty, [])).entries.length, 0)
  })
})
