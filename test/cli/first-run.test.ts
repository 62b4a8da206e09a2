// What a backup says about itself (issue 15): a repository created on the way (short form, profile)
// prints the "created … encrypted to …" line `seb init` prints; --recipient given for a repository that
// exists is not ignored without a word; "N unchanged" counts files, not folders; `seb snapshots`
// shows what each run uploaded, index included, as the backup's own summary did.
import assert from 'node:assert/strict'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { formatBytes } from '../../src/cli/format.js'
import { runSeb } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { tempDir } from '../helpers/tree.js'
import { checkLine } from './json-schema.js'

/** sebLines keeps the `seb: …` lines of stderr (a run without a terminal also prints a `scanned` line). */
function sebLines(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('seb'))
    .map((l) => `${l}\n`)
    .join('')
}

/** jsonLines parses stdout, checking every line against the documented schema. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split('\n').filter((l) => l)
  for (const l of lines) assert.deepEqual(checkLine(l), [], l)
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('a backup run, as it reports itself', () => {
  const g = makeGnupgHome(['alice@example.invalid', 'bob@example.invalid'])
  const alice = g.keys[0]!.fingerprint
  const work = tempDir()
  const mail = path.join(work.dir, 'Mail')
  const xdg = path.join(work.dir, 'xdg')
  const env = { GNUPGHOME: g.home, SEB_CACHE_DIR: path.join(work.dir, 'cache'), XDG_CONFIG_HOME: xdg }
  const repo = path.join(work.dir, 'repo')
  before(async () => {
    await makeMaildir(mail, 12)
  })
  after(() => {
    work.cleanup()
    g.cleanup()
  })

  it('the short form that creates the repository says so, as seb init does', async () => {
    const r = await runSeb([mail, repo, '--recipient', 'alice@example.invalid'], env)
    assert.equal(r.code, 0, r.stderr)
    // On stderr, first: stdout stays the backup's summary.
    assert.match(
      r.stderr.split('\n')[0]!,
      new RegExp(`^created seb repository [0-9a-f]{32} at ${repo}, encrypted to ${alice}$`),
    )
    assert.match(r.stdout, /^snapshot [0-9a-f]{8} saved: /)
    // The next run creates nothing and says nothing of it.
    const again = await runSeb([mail, repo, '--recipient', 'alice@example.invalid'], env)
    assert.equal(again.code, 0, again.stderr)
    assert.doesNotMatch(again.stdout + again.stderr, /created/)
    assert.equal(sebLines(again.stderr), '', 'the key given is already the recipient: no warning')
  })

  it('--json: the init summary comes first, in the documented shape', async () => {
    const d = path.join(work.dir, 'repo-json')
    const r = await runSeb([mail, d, '--recipient', alice, '--json'], env)
    assert.equal(r.code, 0, r.stderr)
    const objs = jsonLines(r.stdout)
    assert.deepEqual(
      objs.filter((o) => o.type === 'summary').map((o) => o.command),
      ['init', 'backup'],
    )
    assert.deepEqual(objs.find((o) => o.command === 'init')!.encryption, {
      type: 'recipients',
      recipients: [alice],
    })
  })

  it("a profile's first run prints the line with the profile's name", async () => {
    const file = path.join(xdg, 'seb', 'config.yaml')
    await fs.mkdir(path.dirname(file), { recursive: true })
    const d = path.join(work.dir, 'repo-profile')
    await fs.writeFile(
      file,
      `profiles:\n  home:\n    source: ${mail}\n    destination: ${d}\n    recipients: [${alice}]\n`,
    )
    const r = await runSeb(['backup', '--profile', 'home'], env)
    assert.equal(r.code, 0, r.stderr)
    assert.match(
      r.stderr,
      new RegExp(`^home: created seb repository [0-9a-f]{32} at ${d}, encrypted to ${alice}\\n`),
    )
    await fs.rm(file)
  })

  it('--recipient for a repository that exists and is not encrypted to that key: one warning line', async () => {
    const before = await fs.readFile(path.join(repo, 'config'))
    for (const argv of [
      ['backup', mail, repo, '--recipient', 'bob@example.invalid'],
      [mail, repo, '--recipient', 'bob@example.invalid'],
    ]) {
      const r = await runSeb(argv, env)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(
        sebLines(r.stderr),
        `seb: warning: --recipient bob@example.invalid ignored: the repository exists and is not encrypted to that key; add it with 'seb key add ${repo} bob@example.invalid'\n`,
      )
    }
    // A key that is not in the keyring at all is ignored just the same.
    const unknown = await runSeb(['backup', mail, repo, '--recipient', 'carol@example.invalid'], env)
    assert.match(unknown.stderr, /^seb: warning: --recipient carol@example\.invalid ignored: /)
    assert.deepEqual(await fs.readFile(path.join(repo, 'config')), before)
    const j = await runSeb(['backup', mail, repo, '--recipient', 'bob@example.invalid', '--json'], env)
    const warnings = jsonLines(j.stdout).filter((o) => o.type === 'warning')
    assert.equal(warnings.length, 1)
    assert.match(warnings[0]!.message as string, /seb key add/)
  })

  it('--recipient for a repository encrypted with a passphrase: one warning line', async () => {
    const d = path.join(work.dir, 'repo-pass')
    const pf = path.join(work.dir, 'pass.txt')
    await fs.writeFile(pf, 'correct horse\n')
    assert.equal((await runSeb(['init', d, '--passphrase-file', pf], env)).code, 0)
    const r = await runSeb(['backup', mail, d, '--passphrase-file', pf, '--recipient', alice], env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(
      sebLines(r.stderr),
      `seb: warning: --recipient ${alice} ignored: the repository exists and is encrypted with a passphrase, not to keys\n`,
    )
  })

  it('"N unchanged" counts files only, in the text and in --json', async () => {
    const d = path.join(work.dir, 'repo-count')
    assert.equal((await runSeb(['init', d, '--recipient', alice], env)).code, 0)
    const first = jsonLines((await runSeb(['backup', mail, d, '--json'], env)).stdout)
    const scanned = first.find((o) => o.type === 'scanned')!
    const files = first.find((o) => o.type === 'summary')!.files as number
    assert.ok((scanned.entries as number) > files, 'the tree has folders and links besides its files')
    const text = await runSeb(['backup', mail, d], env)
    assert.equal(text.code, 0, text.stderr)
    assert.match(
      text.stdout,
      new RegExp(`^files: 0 added, 0 changed, 0 renamed, 0 deleted, ${files} unchanged$`, 'm'),
    )
    const json = jsonLines((await runSeb(['backup', mail, d, '--json'], env)).stdout)
    assert.equal(json.find((o) => o.type === 'summary')!.filesUnchanged, files)
    // One new file: one added, the rest unchanged.
    await fs.writeFile(path.join(mail, 'INBOX/new/1800000000.one-more.laptop'), 'Subject: one more\n\nhi\n')
    const one = await runSeb(['backup', mail, d], env)
    assert.match(
      one.stdout,
      new RegExp(`^files: 1 added, 0 changed, 0 renamed, 0 deleted, ${files} unchanged$`, 'm'),
    )
    // A dry run commits no snapshot: it leaves the count out rather than count folders.
    const dry = await runSeb(['backup', mail, d, '--dry-run'], env)
    assert.match(dry.stdout, /^files: 0 added, 0 changed, 0 renamed, 0 deleted\n/m)
    await fs.rm(path.join(mail, 'INBOX/new/1800000000.one-more.laptop'))
  })

  it('seb snapshots: UPLOADED is packs and index, as the backup summary said', async () => {
    const d = path.join(work.dir, 'repo-up')
    assert.equal((await runSeb(['init', d, '--recipient', alice], env)).code, 0)
    const b = jsonLines((await runSeb(['backup', mail, d, '--json'], env)).stdout)
    const summary = b.find((o) => o.type === 'summary')!
    assert.ok((summary.indexBytes as number) > 0)
    const s = jsonLines((await runSeb(['snapshots', d, '--json'], env)).stdout)
    assert.equal(s.length, 1)
    assert.equal(s[0]!.indexBytes, summary.indexBytes)
    assert.equal((s[0]!.uploaded as number) + (s[0]!.indexBytes as number), summary.bytesUploaded)
    const text = await runSeb(['snapshots', d], env)
    assert.equal(text.code, 0, text.stderr)
    const lines = text.stdout.trim().split('\n')
    assert.match(lines[0]!, /^ID +TIME +FILES +SIZE +UPLOADED {2}HOST$/)
    assert.ok(lines[1]!.includes(` ${formatBytes(summary.bytesUploaded as number)} `), lines[1])
    assert.equal(lines[2], '1 snapshot')
    assert.equal(lines.length, 3, 'no footnote while every index object is there')
  })
})
