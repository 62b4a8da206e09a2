// Why: the restore without seb is a promise made in docs/design.md (and the README, the guide): tests
// run exactly the procedure written there, with the system gpg, zstd and tar, so that the document
// cannot drift from what works.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = [path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..'), process.cwd()].find(
  (d) => existsSync(path.join(d, 'docs/design.md')),
)!

/** documentedProcedure is the shell block of docs/design.md's "Restore without seb", as written. */
export function documentedProcedure(): string {
  const doc = readFileSync(path.join(ROOT, 'docs/design.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## Restore without seb'))
  const m = /```sh\n([\s\S]*?)```/.exec(section)
  if (!m) throw new Error('docs/design.md: no shell block under "Restore without seb"')
  return m[1]!
}

/**
 * manualRestore runs the documented procedure for the repository in `dest` into the empty folder
 * `into` (its `mkdir restored && cd restored` becomes a cd into `into`), with `gnupgHome`'s keys. The
 * passphrase of a passphrase repository is given to gpg through its agent-free loopback options.
 */
export function manualRestore(
  dest: string,
  into: string,
  gnupgHome: string,
  passphraseFile?: string,
): string {
  let script = documentedProcedure()
    .replace('mkdir restored && cd restored', `cd "${into}"`)
    .replaceAll('/backup', dest)
  if (passphraseFile)
    script = script.replaceAll(
      'gpg --decrypt',
      `gpg --batch --pinentry-mode loopback --passphrase-file "${passphraseFile}" --decrypt`,
    )
  else script = script.replaceAll('gpg --decrypt', 'gpg --batch --decrypt')
  return execFileSync('bash', ['-c', `set -o pipefail\n${script}`], {
    env: { ...process.env, GNUPGHOME: gnupgHome },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).toString()
}

/** shellBlock is the first `sh` block of `file` under the heading `heading` (a repository path). */
export function shellBlock(file: string, heading: string): string {
  const doc = readFileSync(path.join(ROOT, file), 'utf8')
  const at = doc.indexOf(heading)
  if (at < 0) throw new Error(`${file}: no heading "${heading}"`)
  const m = /```sh\n([\s\S]*?)```/.exec(doc.slice(at))
  if (!m) throw new Error(`${file}: no shell block under "${heading}"`)
  return m[1]!
}
