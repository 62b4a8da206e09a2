// Why: tests of what sync tools do to a Maildir need someone acting on the server as a person does: mail
// arriving (APPEND with flags and an arrival date), folders made, messages moved (UID MOVE), flagged and
// deleted. A small IMAP client over `net` does that in-process with the few commands it needs:
// synchronising literals for APPEND, tagged replies, untagged lines collected per command. Test-only.
import net from 'node:net'

/** ImapReply is a tagged reply and the untagged lines that came before it. */
export interface ImapReply {
  status: 'OK' | 'NO' | 'BAD'
  text: string
  untagged: string[]
}

interface Pending {
  tag: string
  untagged: string[]
  resolve: (r: ImapReply) => void
  reject: (e: Error) => void
  onContinue?: () => void
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** imapDate formats a date as an IMAP date-time in UTC: `"03-Jun-2024 10:00:00 +0000"`. */
export function imapDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `"${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000"`
}

/** quote writes a string as an IMAP quoted string (ASCII only: tests use plain folder names). */
export function quote(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new Error(`not an ASCII name: ${JSON.stringify(s)}`)
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

/** uidSet writes UIDs as an IMAP sequence set, runs as ranges: 1,2,3,7 → `1:3,7`. */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b)
  const parts: string[] = []
  for (let i = 0; i < sorted.length; ) {
    let j = i
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`)
    i = j + 1
  }
  return parts.join(',')
}

/** toCrlf turns bare LF line ends into CRLF, as IMAP wants a message. */
export function toCrlf(message: Buffer): Buffer {
  return Buffer.from(message.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1')
}

/** ImapActor is one logged-in IMAP session acting as a person; commands run one at a time, in order. */
export class ImapActor {
  readonly #socket: net.Socket
  #input: Buffer = Buffer.alloc(0)
  #line = ''
  #literal: number | null = null
  #pending: Pending | null = null
  #queue: Promise<unknown> = Promise.resolve()
  #tag = 0
  #selected: string | null = null
  #closed: Error | null = null
  #greeting: ((line: string) => void) | null = null

  private constructor(socket: net.Socket) {
    this.#socket = socket
    socket.on('data', (d: Buffer) => this.#read(d))
    const fail = (e: Error) => {
      this.#closed = e
      this.#pending?.reject(e)
      this.#pending = null
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error('IMAP connection closed')))
  }

  /** connect opens a session on 127.0.0.1:port and logs in. */
  static async connect(port: number, user: string, password: string): Promise<ImapActor> {
    const socket = net.connect(port, '127.0.0.1')
    socket.setNoDelay(true)
    const actor = new ImapActor(socket)
    const greeting = new Promise<string>((resolve, reject) => {
      actor.#greeting = resolve
      socket.once('error', reject)
    })
    const line = await greeting
    if (!line.startsWith('* OK')) throw new Error(`IMAP greeting: ${line}`)
    await actor.#command(`LOGIN ${quote(user)} ${quote(password)}`)
    return actor
  }

  #read(data: Buffer): void {
    this.#input = this.#input.length ? Buffer.concat([this.#input, data]) : data
    for (;;) {
      if (this.#literal !== null) {
        if (this.#input.length < this.#literal) return
        this.#line += this.#input.subarray(0, this.#literal).toString('latin1')
        this.#input = this.#input.subarray(this.#literal)
        this.#literal = null
        continue
      }
      const end = this.#input.indexOf('\r\n')
      if (end < 0) return
      const segment = this.#input.subarray(0, end).toString('latin1')
      this.#input = this.#input.subarray(end + 2)
      this.#line += segment
      const literal = /\{(\d+)\+?\}$/.exec(segment)
      if (literal) {
        this.#line += '\r\n'
        this.#literal = Number(literal[1])
        continue
      }
      const line = this.#line
      this.#line = ''
      this.#dispatch(line)
    }
  }

  #dispatch(line: string): void {
    if (this.#greeting) {
      this.#greeting(line)
      this.#greeting = null
      return
    }
    const p = this.#pending
    if (!p) return
    if (line.startsWith('+')) p.onContinue?.()
    else if (line.startsWith('* ')) p.untagged.push(line.slice(2))
    else if (line.startsWith(`${p.tag} `)) {
      const m = /^\S+ (OK|NO|BAD) ?(.*)$/.exec(line)
      this.#pending = null
      if (!m) p.reject(new Error(`IMAP: unreadable reply ${JSON.stringify(line)}`))
      else p.resolve({ status: m[1] as ImapReply['status'], text: m[2]!, untagged: p.untagged })
    }
  }

  /** #command sends one command (with an optional literal after it) and waits for an OK reply. */
  #command(text: string, literal?: Buffer): Promise<ImapReply> {
    const run = () =>
      new Promise<ImapReply>((resolve, reject) => {
        if (this.#closed) return reject(this.#closed)
        const tag = `s${++this.#tag}`
        const pending: Pending = {
          tag,
          untagged: [],
          resolve: (r) =>
            r.status === 'OK'
              ? resolve(r)
              : reject(new Error(`IMAP ${text.split(' ')[0]}: ${r.status} ${r.text}`)),
          reject,
        }
        if (literal) {
          pending.onContinue = () => {
            pending.onContinue = undefined
            this.#socket.write(Buffer.concat([literal, Buffer.from('\r\n')]))
          }
        }
        this.#pending = pending
        this.#socket.write(literal ? `${tag} ${text} {${literal.length}}\r\n` : `${tag} ${text}\r\n`)
      })
    const result = this.#queue.then(run, run)
    this.#queue = result.catch(() => undefined)
    return result
  }

  /** createFolder creates a mailbox. */
  async createFolder(name: string): Promise<void> {
    await this.#command(`CREATE ${quote(name)}`)
  }

  /** list returns every mailbox name. */
  async list(): Promise<string[]> {
    const r = await this.#command('LIST "" "*"')
    return r.untagged
      .filter((l) => l.startsWith('LIST '))
      .map((l) => {
        const m = /^LIST \([^)]*\) (?:"(?:[^"\\]|\\.)*"|NIL) (.*)$/.exec(l)
        const name = m?.[1] ?? ''
        return name.startsWith('"') ? name.slice(1, -1).replace(/\\(.)/g, '$1') : name
      })
      .sort()
  }

  async #select(folder: string): Promise<void> {
    if (this.#selected === folder) return
    this.#selected = null
    await this.#command(`SELECT ${quote(folder)}`)
    this.#selected = folder
  }

  /**
   * append stores a message in a folder (LF line ends become CRLF, as IMAP requires), with flags such
   * as `\Seen` and an arrival date; returns the new UID from APPENDUID.
   */
  async append(folder: string, message: Buffer, flags: string[] = [], internalDate?: Date): Promise<number> {
    const date = internalDate ? ` ${imapDate(internalDate)}` : ''
    const r = await this.#command(`APPEND ${quote(folder)} (${flags.join(' ')})${date}`, toCrlf(message))
    const m = /\[APPENDUID \d+ (\d+)\]/i.exec(r.text)
    if (!m) throw new Error(`APPEND gave no APPENDUID: ${r.text}`)
    return Number(m[1])
  }

  /** uids lists the UIDs of a folder's messages, ascending. */
  async uids(folder: string): Promise<number[]> {
    await this.#select(folder)
    const r = await this.#command('UID SEARCH ALL')
    const line = r.untagged.find((l) => l.startsWith('SEARCH')) ?? 'SEARCH'
    return line
      .split(' ')
      .slice(1)
      .filter(Boolean)
      .map(Number)
      .sort((a, b) => a - b)
  }

  /**
   * moveMessages moves messages with UID MOVE: the first `which` of the folder (by UID) or the UIDs
   * given. Returns the source UIDs moved.
   */
  async moveMessages(from: string, to: string, which: number | number[]): Promise<number[]> {
    const uids = typeof which === 'number' ? (await this.uids(from)).slice(0, which) : which
    if (uids.length === 0) return []
    await this.#select(from)
    await this.#command(`UID MOVE ${uidSet(uids)} ${quote(to)}`)
    return uids
  }

  /** setFlags adds (`+`), removes (`-`) or replaces (``) flags on messages of a folder. */
  async setFlags(folder: string, uids: number[], flags: string[], mode: '+' | '-' | '' = '+'): Promise<void> {
    if (uids.length === 0) return
    await this.#select(folder)
    await this.#command(`UID STORE ${uidSet(uids)} ${mode}FLAGS.SILENT (${flags.join(' ')})`)
  }

  /** expunge deletes messages of a folder for good (\Deleted, then UID EXPUNGE of just those). */
  async expunge(folder: string, uids: number[]): Promise<void> {
    if (uids.length === 0) return
    await this.setFlags(folder, uids, ['\\Deleted'], '+')
    await this.#command(`UID EXPUNGE ${uidSet(uids)}`)
  }

  /** close logs out and closes the connection. */
  async close(): Promise<void> {
    if (!this.#closed) await this.#command('LOGOUT').catch(() => undefined)
    this.#socket.destroy()
  }
}
