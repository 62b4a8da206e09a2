// Why: the message half of `seb find`: the header options are parsed and checked here (a malformed date
// is one line and exit 2, before the repository is opened), the search runs in the engine, and each
// message is printed as a line (date, sender, subject, folder, path, first and last snapshot) or as a
// JSON object with those fields (docs/json-output.md). Text from headers is escaped for the terminal.
import { parseDateQuery } from '../../core/mail-headers.js'
import type { FoundMessage } from '../../core/message-select.js'
import { displayPath } from '../../core/path-bytes.js'
import { findMessages } from '../../engine/inspect.js'
import { MessageNotFoundError, UsageError } from '../../errors.js'
import { safeText } from '../../util/terminal-text.js'
import { count } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import type { CommandContext } from './context.js'

/** HeaderOptions are find's header options as commander gives them. */
export interface HeaderOptions {
  subject?: string
  from?: string
  to?: string
  messageId?: string
  since?: string
  until?: string
}

/** hasHeaderQuery says whether any header option was given. */
export function hasHeaderQuery(o: HeaderOptions): boolean {
  return [o.subject, o.from, o.to, o.messageId, o.since, o.until].some((v) => v !== undefined)
}

const DAY_ONLY = /^\s*\d{4}-\d{1,2}-\d{1,2}\s*$/

/** parseDateOption reads --since/--until (a day alone means its start, or for --until its end). */
export function parseDateOption(name: '--since' | '--until', text: string): number {
  const t = parseDateQuery(text)
  if (t === null)
    throw new UsageError(
      `${name} ${safeText(text)}: not a date; give YYYY-MM-DD, optionally with a time (2026-10-01T08:00) and a zone (Z, +02:00)`,
    )
  return name === '--until' && DAY_ONLY.test(text) ? t + 86_400_000 - 1 : t
}

/** runMessageFind searches the messages and prints them. */
export async function runMessageFind(
  ctx: CommandContext,
  io: CliIO,
  dest: string,
  pattern: string | undefined,
  o: HeaderOptions,
): Promise<void> {
  const since = o.since !== undefined ? parseDateOption('--since', o.since) : undefined
  const until = o.until !== undefined ? parseDateOption('--until', o.until) : undefined
  if (since !== undefined && until !== undefined && since > until)
    throw new UsageError(`--since ${o.since} is after --until ${o.until}: no message can match`)
  for (const [name, v] of [
    ['--subject', o.subject],
    ['--from', o.from],
    ['--to', o.to],
    ['--message-id', o.messageId],
  ] as const)
    if (v !== undefined && !v.trim()) throw new UsageError(`${name} is empty: give the words to look for`)
  const storage = await ctx.open(dest)
  try {
    const { messages, complete, snapshots } = await explainMissingRepository(
      dest,
      findMessages({
        ...ctx.access(storage),
        patterns: pattern !== undefined ? [pattern] : [],
        query: {
          subject: o.subject,
          from: o.from,
          to: o.to,
          messageIds: o.messageId !== undefined ? [o.messageId] : undefined,
          since,
          until,
        },
      }),
    )
    const note = complete
      ? null
      : 'the search headers in the local cache are not at the newest commit and could not be rebuilt without the secret key: recent messages may be missing'
    if (ctx.mode.json) {
      for (const m of messages) io.out(`${JSON.stringify({ type: 'message', ...messageJson(m) })}\n`)
      if (note) io.out(`${JSON.stringify({ type: 'warning', message: note })}\n`)
      io.out(
        `${JSON.stringify({ type: 'summary', command: 'find', pattern: pattern ?? '', matches: messages.length, snapshots })}\n`,
      )
    } else if (!ctx.mode.quiet) {
      for (const m of messages) io.out(`${messageLine(m)}\n`)
      io.out(messages.length ? `${count(messages.length, 'message')}\n` : 'no message matches\n')
      if (note) io.err(`seb: note: ${note}\n`)
    }
    if (o.messageId !== undefined && !messages.length)
      throw new MessageNotFoundError([o.messageId], 'any snapshot')
  } finally {
    await storage.close()
  }
}

/** messageJson is a found message as `--json` prints it. */
export function messageJson(m: FoundMessage) {
  const [, subject, from, to, date, messageId] = m.headers
  return {
    date: date === null ? null : new Date(date).toISOString(),
    from,
    to,
    subject,
    messageId,
    folder: m.folder,
    path: m.path,
    size: m.size,
    firstSnapshot: { id: m.first.id, seq: m.first.seq, time: m.first.time },
    lastSnapshot: { id: m.last.id, seq: m.last.seq, time: m.last.time },
  }
}

/** messageLine is a found message as one line: date, from, subject, folder, path, first → last snapshot. */
function messageLine(m: FoundMessage): string {
  const [, subject, from, , date, messageId] = m.headers
  const day =
    date === null ? '(no date)'.padEnd(16) : new Date(date).toISOString().slice(0, 16).replace('T', ' ')
  const span = m.first.id === m.last.id ? m.first.id : `${m.first.id}..${m.last.id}`
  return [
    day,
    safeText(from || '(no sender)'),
    safeText(subject || '(no subject)'),
    displayPath(m.folder || '.'),
    displayPath(m.path),
    `snapshots ${span}`,
    messageId ? `<${safeText(messageId)}>` : '(no Message-ID)',
  ].join('  |  ')
}
