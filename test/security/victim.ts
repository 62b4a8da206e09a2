// Why: the victim side of the security tests: an owner with an OpenPGP key pair (and a public-only copy
// of it, as a cron machine holds), a machine with its own data folder (SEB_DATA_DIR: repository keys and
// pins) and cache (SEB_CACHE_DIR), and the built seb CLI run exactly as the owner runs it. Repositories
// are made by seb itself (init, then backups with the public key only), and a World puts the machine
// and the destinations back as they were before each attack (fs.cp of saved copies), so one victim
// repository serves every attack of a test file.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promises as fs, mkdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { runSeb, SEB_BIN, type SebRun, sebNodeArgs, startSeb } from '../helpers/cli.js'
import { makeGnupgHome, publicOnlyHome } from '../helpers/gpg.js'
import { makeMaildir } from '../helpers/maildir.js'
import { descendants } from '../helpers/sshd.js'

/** Owner is whoever holds the secret key: the full GNUPGHOME, a public-only one, and key facts. */
export interface Owner {
  readonly home: string
  readonly pubHome: string
  readonly fingerprint: string
  /** the key ids of the encryption subkeys (what gpg --list-packets shows in a message) */
  readonly encKeyIds: string[]
  /** the armored public key (what the attacker has) */
  readonly publicKey: Buffer
  cleanup(): void
}

/** makeOwner generates a key pair (no passphrase) and a public-only GNUPGHOME holding its public half. */
export function makeOwner(email = 'victim@example.org'): Owner {
  const g = makeGnupgHome([email])
  const key = g.keys[0]!
  const pub = publicOnlyHome(key)
  const env = { ...process.env, GNUPGHOME: g.home }
  const colons = execFileSync('gpg', ['--with-colons', '--list-keys', key.fingerprint], { env }).toString()
  const encKeyIds = colons
    .split('\n')
    .filter((l) => l.startsWith('sub:') && l.split(':')[11]!.includes('e'))
    .map((l) => l.split(':')[4]!)
  return {
    home: g.home,
    pubHome: pub.home,
    fingerprint: key.fingerprint,
    encKeyIds,
    publicKey: execFileSync('gpg', ['--armor', '--export', key.fingerprint], { env }),
    cleanup: () => {
      g.cleanup()
      pub.cleanup()
    },
  }
}

/** RunOptions say which key, cache and machine data a seb run uses, and what wraps the process. */
export interface RunOptions {
  /** owner: the secret key is there (restore, compact, init); public: a cron machine (backup) */
  readonly key?: 'owner' | 'public'
  /** SEB_CACHE_DIR (default: the machine's) */
  readonly cache?: string
  /** SEB_DATA_DIR (default: the machine's) */
  readonly data?: string
  /** a command put before node (unshare, faketime) */
  readonly wrap?: readonly string[]
  readonly env?: NodeJS.ProcessEnv
}

/** Machine is one backing-up machine of the owner: its data folder, cache, and $HOME. */
export class Machine {
  readonly data: string
  readonly cache: string
  readonly home: string
  /** extraEnv is added to every run (an S3 server's endpoint and keys) */
  extraEnv: NodeJS.ProcessEnv = {}
  private fresh = 0

  constructor(
    readonly work: string,
    readonly owner: Owner,
    readonly name = 'machine',
  ) {
    this.data = path.join(work, `${name}-data`)
    this.cache = path.join(work, `${name}-cache`)
    this.home = path.join(work, `${name}-home`)
    for (const d of [this.data, this.cache, this.home]) mkdirSync(d, { recursive: true, mode: 0o700 })
  }

  env(o: RunOptions = {}): NodeJS.ProcessEnv {
    return {
      GNUPGHOME: o.key === 'public' ? this.owner.pubHome : this.owner.home,
      SEB_CACHE_DIR: o.cache ?? this.cache,
      SEB_DATA_DIR: o.data ?? this.data,
      HOME: this.home,
      XDG_CONFIG_HOME: path.join(this.home, '.config'),
      SEB_PROGRESS_INTERVAL: '100000',
      ...this.extraEnv,
      ...o.env,
    }
  }

  /** run runs `seb args…` and waits for it. */
  run(args: readonly string[], o: RunOptions = {}): Promise<SebRun> {
    if (o.wrap?.length) return this.start(args, o).done
    return runSeb([...args], this.env(o))
  }

  /** start starts `seb args…` (wrapped if asked) without waiting. */
  start(args: readonly string[], o: RunOptions = {}): { child: ChildProcess; done: Promise<SebRun> } {
    if (!o.wrap?.length) {
      const s = startSeb([...args], this.env(o))
      return { child: s.child, done: s.done }
    }
    const child = spawn(
      o.wrap[0]!,
      [...o.wrap.slice(1), process.execPath, ...sebNodeArgs(SEB_BIN), ...args],
      {
        env: { ...process.env, ...this.env(o) },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
    })
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const done = new Promise<SebRun>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    })
    return { child, done }
  }

  /** freshDir is a new empty folder: a lost cache, or the data folder of a brand-new machine. */
  freshDir(label: string): string {
    const d = path.join(this.work, `${this.name}-${label}-${++this.fresh}`)
    mkdirSync(d, { recursive: true, mode: 0o700 })
    return d
  }
}

/** Repo is a repository the victim made with seb, and its source Maildir. */
export interface Repo {
  readonly dest: string
  readonly src: string
  readonly passFile?: string
  /** the mail each backup after the first added (source-relative paths), in order */
  readonly added: string[]
}

/** args puts a passphrase repository's --passphrase-file before the command. */
export function args(repo: Repo, ...rest: string[]): string[] {
  return [...(repo.passFile ? ['--passphrase-file', repo.passFile] : []), ...rest]
}

/** mustRun runs a victim command that must succeed (set-up steps). */
export async function mustRun(m: Machine, a: readonly string[], o: RunOptions = {}): Promise<SebRun> {
  const r = await m.run(a, o)
  if (r.code !== 0) throw new Error(`victim set-up: seb ${a.join(' ')} exited ${r.code}:\n${r.stderr}`)
  return r
}

/**
 * makeRepo makes a repository as its owner does: `seb init` with the secret key (or a passphrase file),
 * then `backups` backups of a Maildir — on a public-key-only GNUPGHOME for recipient repositories (a cron
 * machine) — each after new mail arrived. `marker` goes into the names and bodies of its extra mail (one message before the first backup too).
 */
export async function makeRepo(
  m: Machine,
  o: { dest: string; src: string; passphrase?: string; backups?: number; messages?: number; marker?: string },
): Promise<Repo> {
  let passFile: string | undefined
  if (o.passphrase !== undefined) {
    passFile = path.join(m.work, `pass-${randomBytes(4).toString('hex')}`)
    await fs.writeFile(passFile, `${o.passphrase}\n`, { mode: 0o600 })
  }
  const repo: Repo = { dest: o.dest, src: o.src, passFile, added: [] }
  await makeMaildir(o.src, o.messages ?? 24)
  await mustRun(
    m,
    passFile ? args(repo, 'init', o.dest) : ['init', o.dest, '--recipient', m.owner.fingerprint],
  )
  // A repository made to be spliced elsewhere carries its marker in its own mail from the first backup.
  if (o.marker) await addMail(repo, `${o.marker}-0`)
  for (let i = 0; i < (o.backups ?? 2); i++) {
    if (i > 0) repo.added.push(await addMail(repo, `${o.marker ?? 'mail'}-${i}`))
    await mustRun(m, args(repo, 'backup', o.src, o.dest), { key: passFile ? 'owner' : 'public' })
  }
  return repo
}

let mailSeq = 0

/** addMail delivers one new message into the repository's source; it returns its path. */
export async function addMail(repo: Repo, tag: string, body?: Buffer | string): Promise<string> {
  const t = 1_765_000_000 + ++mailSeq
  const rel = `INBOX/new/${t}.M${mailSeq}P1.${tag}`
  const p = path.join(repo.src, rel)
  await fs.mkdir(path.dirname(p), { recursive: true })
  await fs.writeFile(
    p,
    body ??
      `From: friend@example.org\nTo: me@example.org\nSubject: new mail ${tag}\n\nhello ${tag} ${mailSeq}\n`,
  )
  await fs.utimes(p, t, t)
  return rel
}

/** World saves folders (destinations, machine data, caches) and puts them back between attacks. */
export class World {
  constructor(private readonly dirs: readonly string[]) {}

  async save(): Promise<void> {
    for (const d of this.dirs) {
      await fs.rm(`${d}.pristine`, { recursive: true, force: true })
      await fs.cp(d, `${d}.pristine`, { recursive: true, preserveTimestamps: true })
    }
  }

  async reset(): Promise<void> {
    for (const d of this.dirs) {
      await fs.rm(d, { recursive: true, force: true })
      await fs.cp(`${d}.pristine`, d, { recursive: true, preserveTimestamps: true })
    }
  }
}

/** Measured is a run with the peak resident memory of the seb process (KiB), from GNU time. */
export interface Measured extends SebRun {
  readonly maxRssKiB: number
  readonly killedForMemory: boolean
  readonly timedOut: boolean
}

/** KILL_RSS_KIB: a run that goes past this is killed (the test fails; the machine is spared). */
const KILL_RSS_KIB = 1536 * 1024

/**
 * runMeasured runs seb under `/usr/bin/time -f %M` (peak RSS of the seb process) and watches it: past
 * 1.5 GiB or `timeoutMs` it is killed, so a failing implementation cannot take the machine down.
 */
export async function runMeasured(
  m: Machine,
  a: readonly string[],
  o: RunOptions & { timeoutMs?: number } = {},
): Promise<Measured> {
  const out = path.join(m.work, `time-${randomBytes(4).toString('hex')}`)
  const { child, done } = m.start(a, {
    ...o,
    wrap: ['/usr/bin/time', '-o', out, '-f', '%M', ...(o.wrap ?? [])],
  })
  let killedForMemory = false
  let timedOut = false
  const kill = () => {
    for (const p of [child.pid!, ...descendants(child.pid!)].reverse()) {
      try {
        process.kill(p, 'SIGKILL')
      } catch {}
    }
  }
  const watch = setInterval(() => {
    for (const p of descendants(child.pid!)) {
      let rss = 0
      try {
        rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0)
      } catch {}
      if (rss > KILL_RSS_KIB) {
        killedForMemory = true
        kill()
      }
    }
  }, 25)
  const timer = setTimeout(() => {
    timedOut = true
    kill()
  }, o.timeoutMs ?? 90_000)
  const r = await done
  clearInterval(watch)
  clearTimeout(timer)
  let maxRssKiB = killedForMemory ? KILL_RSS_KIB : 0
  try {
    const lines = (await fs.readFile(out, 'utf8')).trim().split('\n')
    maxRssKiB = Math.max(maxRssKiB, Number(lines[lines.length - 1]))
  } catch {}
  // GNU time says "Command exited with non-zero status N" before the number: the code is r.code.
  return { ...r, maxRssKiB, killedForMemory, timedOut }
}
