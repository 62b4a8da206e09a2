// The non-negotiable: with seb gone, the system gpg, zstd and tar alone give every backed-up file back,
// byte-identical and with its mtime. seb's code is nowhere in the restore path below: a bash pipeline
// over the destination's files.
import { execFileSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { isExcludedByDefault, makeMaildir } from '../helpers/maildir.js'
import { assertSameTree, tempDir } from '../helpers/tree.js'

const MANUAL_RESTORE = `
set -euo pipefail
cd "$2"
# 1. every pack: decrypt, decompress, extract; where a path's content changed over time the newer wins
#    (packs are taken newest first here, the order in which an old copy would otherwise win)
find "$1/packs" -type f -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2- | while read -r p; do
  gpg --batch --quiet --decrypt "$p" | zstd -d -q | tar -x --keep-newer-files --warning=no-ignore-newer
done
# 2. every commit, oldest first: gives renamed and copied files their current names (hard links)
for c in $(ls "$1/index" | sort); do gpg --batch --quiet --decrypt "$1/index/$c" | zstd -d -q | tar -x --exclude=.seb-index 2>/dev/null; done
`

describe('restore without seb (gpg + zstd + tar)', () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'src')
  const dest = path.join(work.dir, 'dest')
  const cacheBase = path.join(work.dir, 'cache')
  let made: string[] = []
  const at = (rel: string) => path.join(src, rel)
  before(async () => {
    process.env.GNUPGHOME = g.home
    made = await makeMaildir(src)
    const storage = new LocalStorage(dest)
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    await backup({ source: src, storage, cacheBase })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('yields every file of the first backup, byte-identical with its mtime', async () => {
    const out = path.join(work.dir, 'manual1')
    await fs.mkdir(out)
    execFileSync('bash', ['-c', MANUAL_RESTORE, 'restore', dest, out], {
      env: { ...process.env, GNUPGHOME: g.home },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    await assertSameTree(src, out, {
      ignore: (r) => isExcludedByDefault(r) || r === 'Sent/inbox-link' || r.startsWith('Sent/inbox-link/'),
    })
    // The symlink comes back as a symlink with its target.
    const t = await fs.readlink(path.join(out, 'Sent/inbox-link'))
    if (t !== '../INBOX/cur') throw new Error(`symlink target ${t}`)
  })

  it('gives renamed, moved and copied mail its current name after an incremental run', async () => {
    await fs.rename(at(made[1]!), at(made[1]!.replace(/:2,S$/, ':2,RS')))
    await fs.rename(at(made[2]!), at('INBOX/cur/moved,U=7:2,RS'))
    await fs.copyFile(at(made[0]!), at('INBOX/new/copy'))
    await fs.utimes(path.join(src, 'INBOX/new/copy'), 1_400_000_000, 1_400_000_000)
    // A file rewritten in place, as mbsync does with its .mbsyncstate: the newer content must win.
    await fs.writeFile(at(made[3]!), 'rewritten in place\n')
    await fs.utimes(at(made[3]!), 1_900_000_000, 1_900_000_000)
    await backup({ source: src, storage: new LocalStorage(dest), cacheBase })
    const out = path.join(work.dir, 'manual2')
    await fs.mkdir(out)
    execFileSync('bash', ['-c', MANUAL_RESTORE, 'restore', dest, out], {
      env: { ...process.env, GNUPGHOME: g.home },
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    // Every current file is there under its current name; the old names are there too (a manual
    // restore is a superset: it cannot delete), which is documented.
    const ignore = (r: string) => isExcludedByDefault(r) || r.startsWith('Sent/inbox-link')
    const { readTree } = await import('../helpers/tree.js')
    const expected = await readTree(src, { ignore })
    const actual = await readTree(out, { ignore })
    for (const [k, e] of expected) {
      const a = actual.get(k)
      if (!a) throw new Error(`${k}: missing from the manual restore`)
      if (e.kind === 'f' && !a.data!.equals(e.data!)) throw new Error(`${k}: content differs`)
      if (e.kind === 'f' && a.mtimeUs !== e.mtimeUs) throw new Error(`${k}: mtime differs`)
    }
  })
})
