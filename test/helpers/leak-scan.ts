// Why: "nothing leaks to the destination" is checked the same way on every backend: every object the
// destination holds — whole, temporary, or left by a killed run — is searched for plaintext of the
// source, the plaintext objects (config, signatures, locks) hold only their documented public fields,
// and every other object is an OpenPGP message the system gpg really decrypts with the owner's key (a
// temporary object cut short at least starts decrypting with it).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'

/** StoredObject is one object as the destination holds it: its path in the repository, its bytes. */
export interface StoredObject {
  readonly rel: string
  readonly data: Buffer
}

/** readFolder reads every file below `root` (a local, SFTP or rclone destination's own folder). */
export async function readFolder(root: string): Promise<StoredObject[]> {
  const out: StoredObject[] = []
  const walk = async (dir: string) => {
    for (const e of await fs.readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else out.push({ rel: path.relative(root, p).split(path.sep).join('/'), data: await fs.readFile(p) })
    }
  }
  await walk(root)
  return out
}

/** assertNoPlaintext checks that no needle occurs in any object's name or bytes (UTF-8, UTF-16, Latin-1). */
export function assertNoPlaintext(objects: readonly StoredObject[], needles: readonly string[]): void {
  assert.ok(objects.length >= 4, `only ${objects.length} objects`)
  for (const o of objects)
    for (const n of needles) {
      assert.ok(!o.rel.includes(n), `${o.rel}: name contains ${n}`)
      for (const enc of ['utf8', 'utf16le', 'latin1'] as const)
        assert.equal(o.data.indexOf(Buffer.from(n, enc)), -1, `${o.rel} contains "${n}" (${enc})`)
    }
}

const isTemp = (rel: string) => rel.includes('.seb-tmp-')
const plaintextKind = (rel: string) =>
  rel === 'config' ? 'config' : rel.startsWith('sigs/') ? 'sig' : rel.startsWith('locks/') ? 'lock' : null

/** assertPublicFactsOnly checks the plaintext objects hold only their documented fields. */
export function assertPublicFactsOnly(objects: readonly StoredObject[]): void {
  for (const o of objects) {
    const kind = plaintextKind(o.rel)
    if (!kind || isTemp(o.rel)) continue
    const json = JSON.parse(o.data.toString('utf8'))
    if (kind === 'config') {
      assert.deepEqual(Object.keys(json).sort(), ['certificate', 'manifest', 'seb', 'version'])
      assert.deepEqual(Object.keys(JSON.parse(json.manifest)).sort(), [
        'compression',
        'created',
        'encryption',
        'format',
        'formerRecipients',
        'packBytes',
        'repository',
        'retentionDays',
        'serial',
        'signingKey',
      ])
    } else if (kind === 'sig')
      assert.deepEqual(Object.keys(JSON.parse(json.body)).sort(), [
        'chain',
        'kind',
        'name',
        'repository',
        'seq',
        'sha256',
        'size',
        'time',
      ])
    else
      assert.deepEqual(Object.keys(json).sort(), [
        'command',
        'created',
        'heartbeat',
        'host',
        'kind',
        'machine',
        'pid',
        'pidns',
      ])
  }
}

/**
 * assertDecryptable decrypts every pack, commit and key object with the system gpg (`gnupgHome`, and
 * the passphrase file of a passphrase repository): a whole object must decrypt (exit 0) to a zstd
 * stream; a temporary one may be cut short, but must begin decrypting with the owner's key. It returns
 * how many objects it decrypted, whole and cut short, and how many temporary ones were empty.
 */
export function assertDecryptable(
  objects: readonly StoredObject[],
  gnupgHome: string,
  passphraseFile?: string,
): { whole: number; partial: number; empty: number } {
  const counts = { whole: 0, partial: 0, empty: 0 }
  for (const o of objects) {
    if (plaintextKind(o.rel)) continue
    // A temporary object the kill left before any byte reached it holds nothing at all.
    if (isTemp(o.rel) && o.data.length === 0) {
      counts.empty++
      continue
    }
    const args = ['--batch', '--status-fd', '2', '--no-tty']
    if (passphraseFile) args.push('--pinentry-mode', 'loopback', '--passphrase-file', passphraseFile)
    const r = spawnSync('gpg', [...args, '--decrypt'], {
      input: o.data,
      env: { ...process.env, GNUPGHOME: gnupgHome },
      maxBuffer: 256 * 1024 * 1024,
    })
    const status = r.stderr.toString()
    assert.match(status, /\[GNUPG:\] BEGIN_DECRYPTION/, `${o.rel}: not decryptable by the owner:\n${status}`)
    if (isTemp(o.rel) && r.status !== 0) {
      counts.partial++
      continue
    }
    assert.equal(r.status, 0, `${o.rel}: gpg --decrypt failed:\n${status}`)
    assert.match(status, /\[GNUPG:\] DECRYPTION_OKAY/, o.rel)
    assert.ok(
      r.stdout.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])),
      `${o.rel}: not zstd inside`,
    )
    counts.whole++
  }
  return counts
}
