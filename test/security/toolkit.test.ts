// The attacker toolkit checked against the real tools, so that a security test that passes does so
// because seb refused a well-made forgery, not because the forgery was broken: forged packs decrypt
// with the victim's key and GNU tar lists what the attacker put in them; gpg --store is not encrypted;
// the zstd bomb is a valid frame of the size it claims; a lying tar size is read by GNU tar as claimed;
// signature objects and manifests verify with the commands of docs/design.md's "Checking authenticity
// by hand" (openssl pkeyutl, gpg --verify) under the attacker's own keys.
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { verify } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, describe, it } from 'node:test'
import { tempDir } from '../helpers/tree.js'
import {
  Attacker,
  chain0,
  chainNext,
  commitName,
  commitRecord,
  commitTar,
  Destination,
  ed25519FromRaw,
  forgeCommit,
  listPackets,
  memberBytes,
  PHISH,
  PHISH_PATH,
  packOf,
  phishMembers,
  resignSig,
  SHADOW_LINK,
  saveCommit,
  sha256,
  tamperManifest,
  tar,
  zstd,
  zstdBomb,
} from './attacker.js'
import { makeOwner } from './victim.js'

describe('the attacker toolkit', () => {
  const owner = makeOwner()
  const attacker = Attacker.create([owner.publicKey])
  const work = tempDir('seb-toolkit-')
  const victimEnv = { ...process.env, GNUPGHOME: owner.home }
  after(() => {
    attacker.cleanup()
    owner.cleanup()
    work.cleanup()
  })

  it('a pack encrypted to the public key decrypts with the owner key; GNU tar lists the phishing message and the /etc/shadow link', () => {
    const pack = packOf(phishMembers(10), (b) => attacker.encryptTo([owner.fingerprint], b))
    const plain = execFileSync('gpg', ['--batch', '--quiet', '--decrypt'], {
      input: pack.bytes,
      env: victimEnv,
    })
    const t = execFileSync('zstd', ['-d', '-q', '-c'], { input: plain })
    const listed = execFileSync('tar', ['-tv'], { input: t }).toString()
    assert.match(listed, new RegExp(`${PHISH_PATH.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}0`))
    assert.match(listed, new RegExp(`${SHADOW_LINK}-4 -> /etc/shadow`))
    const first = execFileSync('tar', ['-xO', `${PHISH_PATH}0`], { input: t })
    assert.ok(first.equals(PHISH))
    assert.equal(pack.contents[0]!.sha256, sha256(PHISH))
  })

  it('gpg --list-packets: encryptTo is to the owner subkey only, --store is not encrypted, --symmetric is a passphrase', () => {
    const enc = listPackets(attacker.home, attacker.encryptTo([owner.fingerprint], Buffer.from('x')))
    assert.deepEqual(enc, { keyIds: owner.encKeyIds, passphrase: false, encrypted: true })
    for (const compress of [false, true]) {
      const stored = listPackets(attacker.home, attacker.store(Buffer.from('x'), { compress }))
      assert.deepEqual(stored, { keyIds: [], passphrase: false, encrypted: false })
    }
    const sym = listPackets(attacker.home, attacker.symmetric('not the victim passphrase', Buffer.from('x')))
    assert.deepEqual(sym, { keyIds: [], passphrase: true, encrypted: true })
    // gpg --decrypt of a --store message succeeds with no key at all: what seb must refuse.
    const r = spawnSync('gpg', ['--batch', '--decrypt'], {
      input: attacker.store(Buffer.from('forged')),
      env: { ...process.env, GNUPGHOME: owner.pubHome },
    })
    assert.equal(r.status, 0)
    assert.equal(r.stdout.toString(), 'forged')
  })

  it('the zstd bomb is a valid frame: the system zstd gives back the prefix and the fill, and 4 GiB fit in 130 KiB', () => {
    const prefix = Buffer.from('header line\n')
    const small = zstdBomb(prefix, 0x41, 3 * 128 * 1024 + 5)
    const out = execFileSync('zstd', ['-d', '-q', '-c'], { input: small, maxBuffer: 1 << 24 })
    assert.equal(out.length, prefix.length + 3 * 128 * 1024 + 5)
    assert.ok(out.subarray(0, prefix.length).equals(prefix))
    assert.ok(out.subarray(prefix.length).every((b) => b === 0x41))
    assert.ok(zstdBomb(prefix, 0x41, 4 * 1024 ** 3).length < 130 * 1024)
  })

  it('tar: GNU tar reads the names, links, pax paths and lying sizes the attacker wrote', () => {
    const long = `INBOX/cur/${'x'.repeat(120)}`
    const t = tar([
      { name: 'a', data: Buffer.from('abc') },
      { name: 'l', type: 'symlink', link: '/etc/shadow' },
      { name: 'h', type: 'hardlink', link: 'a' },
      { name: long, data: Buffer.from('long') },
    ])
    const listed = execFileSync('tar', ['-tv'], { input: t }).toString()
    assert.match(listed, /l -> \/etc\/shadow/)
    assert.match(listed, /h link to a/)
    assert.ok(listed.includes(long))
    // A member claiming 6 GiB (octal) and one claiming 9 GiB (GNU base-256), neither followed by data.
    for (const size of [6 * 1024 ** 3, 9 * 1024 ** 3]) {
      const r = spawnSync('tar', ['-tv'], {
        input: memberBytes({ name: 'huge', data: Buffer.alloc(0), size }),
      })
      assert.match(r.stdout.toString(), new RegExp(`\\s${size}\\s`), r.stderr.toString())
    }
  })

  it('a commit: its record lines and closing e line, hard links and mtimes member, in the tar seb documents', () => {
    const record = commitRecord({ seb: 2, kind: 'delta', seq: 7 }, [['d', 'x']])
    const lines = record.toString().trim().split('\n')
    assert.deepEqual(JSON.parse(lines[2]!), ['e', 2])
    const t = commitTar(7, record, [{ name: 'INBOX/cur/y', target: 'INBOX/cur/x' }], Buffer.from('a\0 1\0'))
    const listed = execFileSync('tar', ['-tv'], { input: t }).toString()
    assert.match(listed, /\.seb-index\/0000000007\.jsonl/)
    assert.match(listed, /INBOX\/cur\/y link to INBOX\/cur\/x/)
    assert.match(listed, /\.seb-index\/0000000007\.mtimes/)
    assert.equal(chainNext(chain0('ab'), 'n'), sha256(`${sha256('seb chain\nab')}\nn`))
  })

  it("signatures verify with docs/design.md's manual commands: openssl pkeyutl (commit signatures), gpg --verify (manifests)", () => {
    const body = JSON.stringify({ repository: 'r', seq: 1, name: '0000000001-0011223344556677' })
    const sig = attacker.signCommitBody(body)
    const keyPem = path.join(work.dir, 'key.pem')
    writeFileSync(
      keyPem,
      `-----BEGIN PUBLIC KEY-----\n${Buffer.concat([
        Buffer.from('302a300506032b6570032100', 'hex'),
        Buffer.from(attacker.publicKeyBase64, 'base64'),
      ]).toString('base64')}\n-----END PUBLIC KEY-----\n`,
    )
    const verify = (msg: string) => {
      writeFileSync(path.join(work.dir, 'msg'), msg)
      writeFileSync(path.join(work.dir, 'sig'), Buffer.from(sig, 'base64'))
      return spawnSync(
        'openssl',
        ['pkeyutl', '-verify', '-pubin', '-inkey', keyPem, '-rawin', '-in', 'msg', '-sigfile', 'sig'],
        { cwd: work.dir },
      )
    }
    assert.equal(verify(`seb-commit\n${body}`).status, 0)
    assert.notEqual(verify(`seb-commit\n${body} `).status, 0)
    const manifest = Buffer.from('{"repository":"r"}')
    writeFileSync(path.join(work.dir, 'm'), manifest)
    writeFileSync(path.join(work.dir, 'm.asc'), attacker.signDetached(manifest))
    const g = spawnSync('gpg', ['--batch', '--status-fd', '1', '--verify', 'm.asc', 'm'], {
      cwd: work.dir,
      env: { ...process.env, GNUPGHOME: attacker.home },
    })
    assert.match(g.stdout.toString(), new RegExp(`VALIDSIG ${attacker.fingerprint}`))
  })
})

describe('the toolkit on a format-2 destination laid out by hand from docs/design.md', () => {
  const owner = makeOwner('owner2@example.org')
  const attacker = Attacker.create([owner.publicKey])
  const work = tempDir('seb-toolkit2-')
  const d = new Destination(work.dir)
  const id = 'ab'.repeat(16)
  // A stand-in for the owner's repository key (the toolkit cannot tell: it never checks signatures).
  const repoKey = Attacker.create([])
  after(() => {
    attacker.cleanup()
    repoKey.cleanup()
    owner.cleanup()
    work.cleanup()
  })

  it('reads the manifest and the head; forgeCommit continues the chain and names the commit size and SHA-256; resignSig and tamperManifest sign what they say', () => {
    const manifest = JSON.stringify({
      repository: id,
      format: 2,
      serial: 1,
      created: '2026-12-03T00:00:00.000Z',
      compression: 'zstd',
      encryption: { type: 'recipients', recipients: [owner.fingerprint] },
      retentionDays: 30,
      packBytes: 33554432,
      signingKey: repoKey.publicKeyBase64,
    })
    d.writeConfig(manifest, { type: 'openpgp', signature: '-----BEGIN PGP SIGNATURE-----\n' })
    let chain = chain0(id)
    for (const seq of [1, 2]) {
      const name = commitName(seq)
      chain = chainNext(chain, name)
      const commit = attacker.encryptTo([owner.fingerprint], zstd(commitTar(seq, commitRecord({ seq }, []))))
      const body = JSON.stringify({
        repository: id,
        seq,
        name,
        kind: 'delta',
        time: '',
        size: commit.length,
        sha256: sha256(commit),
        chain,
      })
      d.write(`commits/${name}`, commit)
      d.write(`sigs/${name}`, JSON.stringify({ body, signature: repoKey.signCommitBody(body) }))
    }
    assert.deepEqual(d.recipients(), [owner.fingerprint])
    assert.equal(d.repository(), id)
    const head = d.head()
    assert.equal(head.seq, 2)
    assert.equal(head.chain, chain)

    const encrypt = (b: Buffer) => attacker.encryptTo(d.recipients(), b)
    const pack = packOf(phishMembers(5), encrypt)
    const c = forgeCommit({
      dest: d,
      repository: id,
      encrypt,
      pack,
      signer: (b) => attacker.signCommitBody(b),
    })
    saveCommit(d, c)
    assert.equal(c.seq, 3)
    assert.match(c.name, /^0000000003-[0-9a-f]{16}$/)
    const stored = d.sig(c.name)
    assert.deepEqual(stored.body, {
      repository: id,
      seq: 3,
      name: c.name,
      kind: 'checkpoint',
      time: stored.body.time,
      size: c.commit.length,
      sha256: sha256(d.read(`commits/${c.name}`)),
      chain: chainNext(chain, c.name),
    })
    const ok = (key: Attacker, s: { bodyText: string; signature: string }) =>
      verify(
        null,
        Buffer.from(`seb-commit\n${s.bodyText}`),
        ed25519FromRaw(key.publicKeyBase64),
        Buffer.from(s.signature, 'base64'),
      )
    assert.ok(ok(attacker, stored) && !ok(repoKey, stored))
    // The forged commit decrypts with the owner's key to the record documented: header, lines, e.
    const plain = execFileSync('gpg', ['--batch', '--quiet', '--decrypt'], {
      input: d.read(`commits/${c.name}`),
      env: { ...process.env, GNUPGHOME: owner.home },
    })
    const record = execFileSync('tar', ['-xO', '.seb-index/0000000003.jsonl'], {
      input: execFileSync('zstd', ['-d', '-q', '-c'], { input: plain }),
    })
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown)
    assert.deepEqual(record.at(-1), ['e', record.length - 1])
    assert.ok((record as unknown[][]).some((l) => l[0] === 'b' && l[1] === sha256(PHISH)))

    resignSig(d, head.name, (b) => attacker.signCommitBody(b))
    const resigned = d.sig(head.name)
    assert.equal(resigned.body.chain, chain)
    assert.ok(ok(attacker, resigned))

    const changed = tamperManifest(d, attacker, (x) => ({ ...x, retentionDays: 0 }), 'openpgp')
    const cfg = d.config()
    assert.equal(cfg.manifest.retentionDays, 0)
    assert.deepEqual(cfg.manifest, changed)
    writeFileSync(path.join(work.dir, 'm'), cfg.manifestText)
    writeFileSync(path.join(work.dir, 'm.asc'), (cfg.outer.certificate as { signature: string }).signature)
    const g = spawnSync('gpg', ['--batch', '--status-fd', '1', '--verify', 'm.asc', 'm'], {
      cwd: work.dir,
      env: { ...process.env, GNUPGHOME: attacker.home },
    })
    assert.match(g.stdout.toString(), new RegExp(`VALIDSIG ${attacker.fingerprint}`))
  })
})
