// The live progress line in a real pseudo-terminal (tmux), as test/cli/tty.test.ts draws it (issue 15):
// on a 60-column terminal the backup line drops its least useful parts and keeps the count, percentage
// and ETA instead of being cut before the ETA; a restore's line has a total, a percentage and an ETA.
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

describe('the live line in a terminal', {
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
    SEB_PROGRESS_INTERVAL: '0',
  }
  const socket = `seb-progress-${process.pid}`
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args]).toString()
  let session = 0

  /** inTerminal runs `seb args…` in a fresh tmux window of `columns` and returns every byte drawn. */
  async function inTerminal(args: string[], columns: number): Promise<string> {
    const name = `s${++session}`
    const log = path.join(work.dir, `${name}.log`)
    const go = path.join(work.dir, `${name}.go`)
    const script = path.join(work.dir, `${name}.sh`)
    await fs.writeFile(
      script,
      [
        ...Object.entries(env).map(([k, v]) => `export ${k}=${sq(v)}`),
        `while [ ! -e ${sq(go)} ]; do sleep 0.05; done`,
        `${[process.execPath, ...sebNodeArgs(SEB_BIN), ...args].map(sq).join(' ')}`,
        'echo "EXIT=$?"',
        'sleep 600',
        '',
      ].join('\n'),
    )
    tmux('new-session', '-d', '-s', name, '-x', String(columns), '-y', '30', `sh ${sq(script)}`)
    tmux('pipe-pane', '-o', '-t', name, `cat >> ${sq(log)}`)
    await fs.writeFile(go, '')
    let screen = ''
    for (let i = 0; i < 1200 && !/EXIT=\d+/.test(screen); i++) {
      await new Promise((r) => setTimeout(r, 100))
      screen = tmux('capture-pane', '-p', '-t', name)
    }
    assert.match(screen, /EXIT=0/, `seb ${args.join(' ')} did not finish with 0; screen:\n${screen}`)
    return fs.readFile(log, 'utf8')
  }

  /** drawn lists the live lines drawn (each starts with carriage return + erase line). */
  const drawn = (raw: string, what: string) =>
    [...raw.matchAll(/\r\x1b\[K([^\r\n\x1b]*)/g)].map((m) => m[1]!).filter((l) => l.startsWith(what))

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

  it('backup on 60 columns: every line fits, and the ETA is kept', async () => {
    const raw = await inTerminal(['backup', src, dest], 60)
    const lines = drawn(raw, 'packing')
    assert.ok(lines.length >= 2, JSON.stringify(raw.slice(0, 2000)))
    for (const l of lines) assert.ok(l.length < 60, `${l.length} columns: ${l}`)
    assert.ok(!lines.some((l) => l.endsWith('…')), lines.join('\n'))
    assert.ok(
      lines.some((l) => /^packing [\d,]+\/3,000 files.*\(\d+%\).*, ETA \d+:\d\d/.test(l)),
      lines.join('\n'),
    )
  })

  it('restore: files done of the total, a percentage, a rate and an ETA', async () => {
    const raw = await inTerminal(['restore', dest, path.join(work.dir, 'restored')], 120)
    assert.match(raw, /\r\x1b\[Krestoring… \d+ s/)
    const lines = drawn(raw, 'restoring ')
    assert.ok(lines.length >= 1, JSON.stringify(raw.slice(0, 2000)))
    for (const l of lines) assert.ok(l.length < 120, l)
    assert.ok(
      lines.some((l) =>
        /^restoring [\d,]+\/3,000 files \(\d+%\), [\d.]+ (B|KiB|MiB), [\d.]+ (B|KiB|MiB)\/s, ETA \d+:\d\d$/.test(
          l,
        ),
      ),
      lines.join('\n'),
    )
    assert.ok(
      lines.some((l) => l.startsWith('restoring 3,000/3,000 files (100%)')),
      lines.join('\n'),
    )
  })
})
