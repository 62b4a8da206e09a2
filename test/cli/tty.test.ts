// seb as a person sees it: `seb backup` run in a real pseudo-terminal (tmux), where stderr is a
// terminal, draws a live progress line (files, bytes, rate, ETA, uploaded) and ends with the summary
// on a clean line. tmux's pipe-pane records every byte written to the terminal, so the test does not
// depend on catching the screen at the right moment; SEB_PROGRESS_INTERVAL=0 draws on every event.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSeb, SEB_BIN, sebNodeArgs } from '../helpers/cli.js'
import { makeGnupgHome } from '../helpers/gpg.js'
import { hasTmux, sq } from '../helpers/tmux.js'
import { tempDir } from '../helpers/tree.js'

const FILES = 3000

describe('a backup in a terminal', {
  skip: hasTmux() ? false : 'tmux is not installed (bash .ci/run installs it)',
}, () => {
  const g = makeGnupgHome()
  const work = tempDir()
  const src = path.join(work.dir, 'Mail')
  const dest = path.join(work.dir, 'dest')
  const env = {
    GNUPGHOME: g.home,
    SEB_CACHE_DIR: path.join(work.dir, 'cache'),
    XDG_CONFIG_HOME: path.join(work.dir, 'xdg'),
  }
  const socket = `seb-test-${process.pid}`
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args]).toString()
  before(async () => {
    for (const f of ['INBOX', 'Sent'])
      for (const sub of ['cur', 'new', 'tmp']) await fs.mkdir(path.join(src, f, sub), { recursive: true })
    for (let i = 0; i < FILES; i++) {
      const folder = i % 3 ? 'INBOX' : 'Sent'
      await fs.writeFile(
        path.join(src, folder, 'cur', `${1_700_000_000 + i}.M${i}P1.laptop,U=${i}:2,S`),
        `Subject: message ${i}\n\n${randomBytes(1500).toString('base64')}\n`,
      )
    }
    assert.equal((await runSeb(['init', dest, '--recipient', g.keys[0]!.fingerprint], env)).code, 0)
  })
  after(() => {
    try {
      tmux('kill-server')
    } catch {}
    work.cleanup()
    g.cleanup()
  })

  it('shows live progress while scanning and packing, then the summary', async () => {
    const log = path.join(work.dir, 'terminal.log')
    const go = path.join(work.dir, 'go')
    const script = path.join(work.dir, 'run.sh')
    const exports = Object.entries({ ...env, SEB_PROGRESS_INTERVAL: '0' }).map(
      ([k, v]) => `export ${k}=${sq(v)}`,
    )
    await fs.writeFile(
      script,
      [
        ...exports,
        `while [ ! -e ${sq(go)} ]; do sleep 0.05; done`,
        `${[process.execPath, ...sebNodeArgs(SEB_BIN)].map(sq).join(' ')} backup ${sq(src)} ${sq(dest)}`,
        'echo "EXIT=$?"',
        'sleep 600',
        '',
      ].join('\n'),
    )
    tmux('new-session', '-d', '-s', 'seb', '-x', '120', '-y', '30', `sh ${sq(script)}`)
    tmux('pipe-pane', '-o', '-t', 'seb', `cat >> ${sq(log)}`)
    await fs.writeFile(go, '')
    let screen = ''
    for (let i = 0; i < 1200 && !/EXIT=\d+/.test(screen); i++) {
      await new Promise((r) => setTimeout(r, 100))
      screen = tmux('capture-pane', '-p', '-t', 'seb')
    }
    const raw = await fs.readFile(log, 'utf8')
    assert.match(screen, /EXIT=0/, `seb did not finish with 0; screen:\n${screen}`)
    // The live line: redrawn in place (carriage return + erase line), never scrolling.
    assert.match(raw, /\r\x1b\[Kscanning the source… \d+ s/)
    const drawn = [...raw.matchAll(/\r\x1b\[K(packing [^\r\n]*)/g)].map((m) => m[1]!)
    assert.ok(drawn.length >= 2, `too few progress draws:\n${JSON.stringify(raw.slice(0, 2000))}`)
    const files = FILES.toLocaleString('en-US')
    assert.ok(
      drawn.some((l) => /^packing [\d,]+\/3,000 files, [\d.]+ (B|KiB|MiB) of [\d.]+ MiB \(\d+%\)/.test(l)),
      drawn.join('\n'),
    )
    assert.ok(
      drawn.some((l) => /, [\d.]+ (B|KiB|MiB)\/s, ETA \d+:\d\d/.test(l)),
      drawn.join('\n'),
    )
    assert.ok(
      drawn.some((l) => l.startsWith(`packing ${files}/${files} files`) && /\(100%\)/.test(l)),
      drawn.join('\n'),
    )
    assert.ok(
      drawn.some((l) => /uploaded [\d.]+ (KiB|MiB)$/.test(l)),
      drawn.join('\n'),
    )
    // Every drawn line fits the 120-column terminal.
    for (const l of drawn) assert.ok(l.length < 120, l)
    // The final screen: the summary on clean lines, no progress left over.
    const snaps = await runSeb(['snapshots', dest, '--json'], env)
    const id = JSON.parse(snaps.stdout.trim().split('\n')[0]!).id as string
    const lines = screen.split('\n').filter((l) => l.trim())
    assert.deepEqual(
      lines
        .slice(0, 3)
        .map((l) => l.replace(/\s+$/, '').replace(/\b[\d.]+ (B|KiB|MiB)\b|\b\d+(\.\d)? (ms|s)\b/g, 'N')),
      [
        `snapshot ${id} saved: ${FILES} files, N`,
        `files: ${FILES} added, 0 changed, 0 renamed, 0 deleted, 0 unchanged`,
        'read N, uploaded N (1 pack written, 0 rewritten, index N) in N',
      ],
    )
    assert.ok(!lines.some((l) => l.includes('packing')), screen)
  })

  it('without a terminal: a few plain lines, no redrawing', async () => {
    await fs.writeFile(path.join(src, 'INBOX/cur/one-more:2,S'), 'Subject: one more\n\nhi\n')
    const r = await runSeb(['backup', src, dest], { ...env, SEB_PROGRESS_INTERVAL: '0' })
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /\r|\x1b/)
    assert.equal(r.stderr, `scanned ${(FILES + 9).toLocaleString('en-US')} entries: 1 file (22 B) to read\n`)
    assert.match(
      r.stdout,
      /^snapshot [0-9a-f]{8} saved: 3001 files, .*\nfiles: 1 added, 0 changed, 0 renamed, 0 deleted, \d+ unchanged\n/,
    )
    const q = await runSeb(['backup', src, dest, '--quiet'], env)
    assert.equal(q.code, 0)
    assert.equal(q.stdout + q.stderr, '')
  })
})
