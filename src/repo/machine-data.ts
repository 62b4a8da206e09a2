// Why: what a backing-up machine must keep when its cache is deleted: its machine id (for locks), and
// per repository the repository key's secret half and the pins — the manifest it accepted and the
// newest commit it has seen — that let it refuse a forged, swapped or rolled-back destination
// (docs/design.md, "The local cache and the machine data"). Owner-only files in an owner-only folder.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type SigningKey, signingKeyFromPem, signingKeyPem } from '../crypto/signing.js'
import { SebError } from '../errors.js'
import { writeFileAtomic } from '../util/atomic-file.js'
import { errnoText } from '../util/errno.js'

/** dataBase is where seb keeps machine data: $SEB_DATA_DIR, else $XDG_DATA_HOME/seb, else ~/.local/share/seb. */
export function dataBase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SEB_DATA_DIR) return env.SEB_DATA_DIR
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, 'seb')
  return path.join(os.homedir(), '.local', 'share', 'seb')
}

/** HeadPin is the newest commit a machine has seen of a repository. */
export interface HeadPin {
  readonly seq: number
  readonly name: string
  readonly chain: string
}

/** Pins are what a machine remembers of one repository. */
export interface Pins {
  readonly repository: string
  /** the accepted manifest's text and serial */
  readonly manifest: string
  readonly serial: number
  /** the newest commit seen (null before the first) */
  readonly head: HeadPin | null
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T
  } catch {
    return null
  }
}

/** MachineData is one machine's data folder. */
export class MachineData {
  constructor(readonly base: string) {}

  private async ensure(dir: string): Promise<void> {
    try {
      await fs.mkdir(dir, { recursive: true, mode: 0o700 })
      await fs.chmod(dir, 0o700)
    } catch (err) {
      throw new SebError(
        'data-dir',
        `${this.base}: cannot write seb's machine data folder (${errnoText(err)}); make it yours, or set SEB_DATA_DIR to a folder you own`,
      )
    }
  }

  /** machineId is this machine's random id (made on first use): locks name it. */
  async machineId(): Promise<string> {
    const file = path.join(this.base, 'machine-id')
    try {
      const id = (await fs.readFile(file, 'utf8')).trim()
      if (/^[0-9a-f]{32}$/.test(id)) return id
    } catch {}
    await this.ensure(this.base)
    const id = randomBytes(16).toString('hex')
    await writeFileAtomic(file, `${id}\n`)
    return id
  }

  private repoDir(id: string): string {
    return path.join(this.base, id)
  }

  /** signingKey returns this machine's copy of a repository's key, or null. */
  async signingKey(id: string): Promise<SigningKey | null> {
    try {
      return signingKeyFromPem(await fs.readFile(path.join(this.repoDir(id), 'signing.pem')))
    } catch {
      return null
    }
  }

  /** saveSigningKey keeps a repository's key on this machine. */
  async saveSigningKey(id: string, key: SigningKey): Promise<void> {
    await this.ensure(this.repoDir(id))
    await writeFileAtomic(path.join(this.repoDir(id), 'signing.pem'), signingKeyPem(key))
  }

  /** dropSigningKey forgets a key kept under `id` (a replacement key, once published). */
  async dropSigningKey(id: string): Promise<void> {
    await fs.rm(path.join(this.repoDir(id), 'signing.pem'), { force: true })
    await fs.rmdir(this.repoDir(id)).catch(() => {})
  }

  /** pins returns what this machine remembers of a repository, or null (never seen). */
  async pins(id: string): Promise<Pins | null> {
    const p = await readJson<Pins>(path.join(this.repoDir(id), 'trust.json'))
    return p && p.repository === id && typeof p.manifest === 'string' && Number.isSafeInteger(p.serial)
      ? p
      : null
  }

  /** savePins records what this machine now knows of a repository. */
  async savePins(p: Pins): Promise<void> {
    await this.ensure(this.repoDir(p.repository))
    await writeFileAtomic(path.join(this.repoDir(p.repository), 'trust.json'), `${JSON.stringify(p)}\n`)
  }

  /** forgetPins drops a repository's pins (the next run trusts it afresh, as a new machine would). */
  async forgetPins(id: string): Promise<void> {
    await fs.rm(path.join(this.repoDir(id), 'trust.json'), { force: true })
  }

  /** repositoryAt returns the repository id this machine last saw at a destination, or null. */
  async repositoryAt(location: string): Promise<string | null> {
    const map = await readJson<Record<string, string>>(path.join(this.base, 'destinations.json'))
    return map?.[location] ?? null
  }

  /** rememberLocation records which repository a destination holds. */
  async rememberLocation(location: string, id: string): Promise<void> {
    const file = path.join(this.base, 'destinations.json')
    const map = (await readJson<Record<string, string>>(file)) ?? {}
    if (map[location] === id) return
    map[location] = id
    await this.ensure(this.base)
    await writeFileAtomic(file, `${JSON.stringify(map, null, 1)}\n`)
  }
}
