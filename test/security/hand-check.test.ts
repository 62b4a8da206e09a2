// docs/guides/reading-the-format.md shows how to check a repository's authenticity by hand: the owner's
// OpenPGP signature on the manifest with gpg, and a commit's Ed25519 signature with OpenSSL. A user
// who does that on the day seb is gone must get the truth, so the guide's commands are run here as
// written, on a real repository: they pass on the owner's objects and fail on a tampered one.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { backup } from '../../src/engine/backup/index.js'
import { init } from '../../src/engine/init.js'
import { LocalStorage } from '../../src/storage/local.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'

const GUIDE = [path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'), process.cwd()]
  .map((d) => path.join(d, 'docs/guides/reading-the-format.md'))
  .find((p) => existsSync(p))!

/** block returns the first shell block under the guide's heading `title`, for the repository `repo`. */
function block(title: string, repo: string): string {
  const doc = readFileSync(GUIDE, 'utf8')
  const section = doc.slice(doc.indexOf(`## ${title}`))
  const m = /```sh\n([\s\S]*?)```/.exec(section)
  assert.ok(m, `the guide has a shell block under "${title}"`)
  return m[1]!.replaceAll('/mnt/backup/mail', repo)
}

describe('checking authenticity by hand, as docs/guides/reading-the-format.md shows', () => {
  const g = makeGnupgHome(['alice@example.invalid'])
  const work = tempDir()
  const repo = path.join(work.dir, 'repo')
  const sh = (script: string) =>
    spawnSync('bash', ['-c', `set -eo pipefail\n${script}`], {
      cwd: work.dir,
      env: { ...process.env, GNUPGHOME: g.home },
      encoding: 'utf8',
    })
  const manifestCheck = () => {
    const lines = readFileSync(GUIDE, 'utf8')
    const section = lines.slice(lines.indexOf('Check the owner'))
    const m = /```sh\n([\s\S]*?)```/.exec(section)
    assert.ok(m, 'the guide shows the manifest check')
    return sh(m[1]!.replaceAll('/mnt/backup/mail', repo))
  }
  // The guide's commit section names the newest commit `c`; the signature block then checks it.
  const signatureCheck = () =>
    sh(
      `${block('A commit record, by hand', repo).split('\n')[0]}\n${block('A commit signature, by hand', repo)}`,
    )

  before(async () => {
    process.env.GNUPGHOME = g.home
    const src = path.join(work.dir, 'src')
    await makeMaildir(src)
    const storage = new LocalStorage(repo)
    await init(storage, { recipients: [g.keys[0]!.fingerprint] })
    await backup({ source: src, storage, cacheBase: path.join(work.dir, 'cache') })
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it("the owner's manifest: gpg says Good signature", () => {
    const r = manifestCheck()
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stderr, /Good signature/)
  })

  it('the newest commit: its SHA-256 is the signed one and OpenSSL verifies the signature', () => {
    const r = signatureCheck()
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /Signature Verified Successfully/)
    const lines = r.stdout.split('\n')
    const sum = lines.find((l) => /^[0-9a-f]{64} {2}/.test(l))!.slice(0, 64)
    assert.ok(
      r.stdout.includes(`"sha256": "${sum}"`),
      'sha256sum of the commit equals the signed body sha256',
    )
  })

  it('a tampered manifest or signature body fails the same commands', async () => {
    const config = path.join(repo, 'config')
    const saved = await fs.readFile(config, 'utf8')
    const c = JSON.parse(saved)
    c.manifest = c.manifest.replace('"retentionDays":30', '"retentionDays":0')
    await fs.writeFile(config, JSON.stringify(c))
    const m = manifestCheck()
    assert.notEqual(m.status, 0, 'gpg must refuse the changed manifest')
    assert.match(m.stderr, /BAD signature/)
    await fs.writeFile(config, saved)

    const sigs = path.join(repo, 'sigs')
    const newest = (await fs.readdir(sigs)).sort().pop()!
    const sigFile = path.join(sigs, newest)
    const sig = JSON.parse(await fs.readFile(sigFile, 'utf8'))
    sig.body = sig.body.replace(/"seq":\d+/, '"seq":999')
    await fs.writeFile(sigFile, JSON.stringify(sig))
    const s = signatureCheck()
    assert.doesNotMatch(s.stdout, /Signature Verified Successfully/)
  })
})
