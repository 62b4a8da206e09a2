// Why: what every attack must show (issue 17): no forged file restored or listed, nothing deleted,
// nothing encrypted to a new key, one clear line, the documented exit code. Each is one function here,
// so that every test file asserts them the same way.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { promises as fs, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import type { SebRun } from '../helpers/cli.js'
import { listPackets, MARK } from './attacker.js'

/** Exit is the exit code table of `seb --help` (src/exit-codes.ts), written out: the contract. */
export const Exit = {
  Ok: 0,
  Error: 1,
  Usage: 2,
  NoRepository: 10,
  Locked: 11,
  Key: 12,
  Damaged: 13,
  Untrusted: 14,
} as const

/** Listing maps every object of a destination (relative path) to the SHA-256 of its bytes. */
export type Listing = Map<string, string>

const isTemp = (rel: string) => rel.includes('.seb-tmp-') || rel.includes('.attacker-')

/** listing reads a destination folder: every object but locks and temporary objects. */
export function listing(root: string): Listing {
  const out: Listing = new Map()
  const walk = (rel: string) => {
    let names: string[] = []
    try {
      names = readdirSync(path.join(root, rel))
    } catch {
      return
    }
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n
      if (r === 'locks' || isTemp(r)) continue
      const full = path.join(root, r)
      if (statSync(full).isDirectory()) walk(r)
      else out.set(r, createHash('sha256').update(readFileSync(full)).digest('hex'))
    }
  }
  walk('')
  return out
}

/** assertUnchanged: a refused command wrote, replaced and deleted nothing (locks aside). */
export function assertUnchanged(before: Listing, after: Listing, what: string): void {
  const added = [...after.keys()].filter((k) => !before.has(k))
  const removed = [...before.keys()].filter((k) => !after.has(k))
  const changed = [...before.keys()].filter((k) => after.has(k) && after.get(k) !== before.get(k))
  assert.deepEqual(
    { added, removed, changed },
    { added: [], removed: [], changed: [] },
    `${what}: the destination changed`,
  )
}

/** assertKept: every pack, commit and signature the victim wrote is still there, byte for byte. */
export function assertKept(
  victims: Listing,
  now: Listing,
  what: string,
  touchedByAttacker: readonly string[] = [],
): void {
  const lost = [...victims.keys()].filter(
    (k) =>
      /^(packs|commits|sigs|keys|index)\//.test(k) &&
      !touchedByAttacker.includes(k) &&
      now.get(k) !== victims.get(k),
  )
  assert.deepEqual(lost, [], `${what}: objects the victim wrote were deleted or replaced`)
}

/** written lists the packs, commits and keys that are new or changed between two listings. */
export function written(before: Listing, after: Listing): string[] {
  return [...after.keys()].filter(
    (k) => /^(packs|commits|keys|index)\//.test(k) && before.get(k) !== after.get(k),
  )
}

/**
 * assertEncryptedOnlyTo: each object is an encrypted OpenPGP message, to exactly the victim's keys
 * (their encryption subkeys, as gpg --list-packets shows), or with a passphrase and to no key.
 */
export function assertEncryptedOnlyTo(
  root: string,
  rels: readonly string[],
  inspectHome: string,
  expected: { keyIds: readonly string[] } | 'passphrase',
): void {
  for (const rel of rels) {
    const p = listPackets(inspectHome, readFileSync(path.join(root, rel)))
    assert.ok(p.encrypted, `${rel}: not an encrypted OpenPGP message`)
    if (expected === 'passphrase') {
      assert.deepEqual(p.keyIds, [], `${rel}: a passphrase repository's object is encrypted to keys`)
      assert.ok(p.passphrase, `${rel}: not encrypted with the passphrase`)
    } else {
      assert.deepEqual(
        [...new Set(p.keyIds)].sort(),
        [...expected.keyIds].sort(),
        `${rel}: encrypted to other keys`,
      )
      assert.ok(!p.passphrase, `${rel}: also encrypted with a passphrase`)
    }
  }
}

/** errorLines are stderr's `seb: ` lines that are not warnings or notes. */
export function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('seb: ') && !l.startsWith('seb: warning:') && !l.startsWith('seb: note:'))
}

const show = (r: SebRun) =>
  `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stderr\n${r.stderr}\n--- stdout\n${r.stdout.slice(0, 3000)}`

/**
 * assertExit checks the exit code (one, or one of several where the spec leaves it open) and what
 * stderr says: only `seb: ` lines (and backup's `scanned` progress line), no stack trace, no
 * "unexpected error", no tool's own output (gpg's). A refusal (`line`, the default) is exactly one
 * `seb: ` error line. A report (`report`: verify, a restore that names each file it lost) may name
 * several objects or files, one `seb: ` line each with indented detail lines, but must have one.
 */
export function assertExit(
  r: SebRun,
  code: number | readonly number[],
  what: string,
  style: 'line' | 'report' = 'line',
): void {
  const codes = typeof code === 'number' ? [code] : code
  assert.ok(codes.includes(r.code ?? -1), `${what}: expected exit ${codes.join(' or ')}, got ${show(r)}`)
  assert.doesNotMatch(r.stderr, /\n\s+at .*:\d+:\d+\)?\n/, `${what}: stack trace printed\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, /unexpected error/, `${what}: "unexpected error"\n${r.stderr}`)
  const stray = r.stderr
    .split('\n')
    .filter(
      (l) =>
        l &&
        !l.startsWith('seb: ') &&
        !l.startsWith('scanned ') &&
        !(style === 'report' && l.startsWith('  ')),
    )
  assert.deepEqual(stray, [], `${what}: stderr has lines that are not seb's\n${show(r)}`)
  if (r.code === 0) return
  const lines = errorLines(r.stderr)
  if (style === 'line') assert.equal(lines.length, 1, `${what}: expected one error line, got ${show(r)}`)
  else assert.ok(lines.length >= 1, `${what}: no error line, got ${show(r)}`)
}

/** assertNamed: some `seb: ` line on stderr (or a report line on stdout) names the object. */
export function assertNamed(r: SebRun, name: string, what: string): void {
  const lines = [...r.stderr.split('\n'), ...r.stdout.split('\n')].filter((l) => l.includes(name))
  assert.ok(lines.length >= 1, `${what}: no line names ${name}\n${show(r)}`)
}

/** assertWarnsOnce: a reading command that ignored an object said so in one `seb: ` line naming it. */
export function assertWarnsOnce(r: SebRun, name: string, what: string): void {
  const lines = r.stderr.split('\n').filter((l) => l.includes(name))
  assert.equal(lines.length, 1, `${what}: expected one line naming ${name}\n${show(r)}`)
  assert.match(lines[0]!, /^seb: /, `${what}: the line naming ${name} is not a seb: line`)
}

/** assertNotShown: nothing the attacker wrote (MARK, or other markers) is in what seb printed. */
export function assertNotShown(r: SebRun, what: string, markers: readonly string[] = [MARK]): void {
  for (const m of markers) {
    assert.ok(!r.stdout.includes(m), `${what}: stdout shows forged ${m}\n${r.stdout.slice(0, 3000)}`)
    assert.ok(!r.stderr.includes(m), `${what}: stderr shows forged ${m}\n${r.stderr}`)
  }
}

/**
 * assertNoForgery walks a restored folder without following links: no name or content holding a
 * marker, no symlink to /etc (the attacker's /etc/shadow link).
 */
export async function assertNoForgery(
  dir: string,
  what: string,
  markers: readonly string[] = [MARK],
): Promise<void> {
  const found: string[] = []
  // Names are bytes (a Maildir may hold names that are not UTF-8): walk with Buffers.
  const walk = async (rel: Buffer) => {
    let names: Buffer[] = []
    try {
      names = (await fs.readdir(Buffer.concat([Buffer.from(`${dir}/`), rel]), {
        encoding: 'buffer',
      })) as Buffer[]
    } catch {
      return
    }
    for (const n of names) {
      const r = rel.length ? Buffer.concat([rel, Buffer.from('/'), n]) : n
      const full = Buffer.concat([Buffer.from(`${dir}/`), r])
      const shown = r.toString('latin1')
      if (markers.some((m) => n.includes(m))) found.push(`name ${shown}`)
      const st = await fs.lstat(full)
      if (st.isSymbolicLink()) {
        const t = (await fs.readlink(full, { encoding: 'buffer' })) as Buffer
        if (t.toString('latin1').startsWith('/etc') || markers.some((m) => t.includes(m)))
          found.push(`symlink ${shown} -> ${t.toString('latin1')}`)
      } else if (st.isDirectory()) await walk(r)
      else if (st.isFile()) {
        const data = await fs.readFile(full)
        for (const m of markers) if (data.includes(m)) found.push(`content of ${shown}`)
      }
    }
  }
  await walk(Buffer.alloc(0))
  assert.deepEqual(found, [], `${what}: forged entries restored`)
}

/** exists tells whether a path exists (without following a final symlink). */
export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p)
    return true
  } catch {
    return false
  }
}
