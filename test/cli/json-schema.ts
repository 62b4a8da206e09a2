// The schema of `seb --json` output (docs/json-output.md), as a small validator: every line is one
// object whose `type` picks its shape; a summary's `command` picks the summary's shape. Objects are
// closed — a field the code adds without documenting it here (and in the doc) fails the tests.

/** Schema describes one JSON value. */
export type Schema =
  | 'int' // a whole number >= 0
  | 'number'
  | 'string'
  | 'boolean'
  | 'null'
  | { readonly enum: readonly string[] }
  | { readonly array: Schema }
  | { readonly object: Readonly<Record<string, Schema>>; readonly optional?: readonly string[] }
  | { readonly anyOf: readonly Schema[] }

const obj = (object: Record<string, Schema>, optional: string[] = []): Schema => ({ object, optional })
const int: Schema = 'int'
const str: Schema = 'string'
const bool: Schema = 'boolean'
const pathReason = { array: obj({ path: str, reason: str }) }

/** PHASES lists the values of a phase event. */
export const PHASES = ['lock', 'index', 'scan', 'pack', 'commit', 'cleanup', 'restore', 'verify', 'compact']

/** EVENTS maps each `type` (other than summary) to its shape; `profile` may be added to any line. */
export const EVENTS: Record<string, Readonly<Record<string, Schema>>> = {
  phase: { phase: { enum: PHASES } },
  scanned: { entries: int, files: int, bytes: int, toRead: int, bytesToRead: int },
  progress: {
    filesDone: int,
    filesTotal: int,
    bytesDone: int,
    bytesTotal: int,
    bytesUploaded: int,
    elapsedMs: int,
    bytesPerSecond: int,
    etaMs: { anyOf: [int, 'null'] },
  },
  warning: { message: str, path: str },
  error: { code: str, message: str, exitCode: int },
  snapshot: {
    seq: int,
    id: str,
    time: str,
    host: str,
    source: str,
    files: int,
    bytes: int,
    uploaded: int,
    packsWritten: int,
    indexBytes: { anyOf: [int, 'null'] },
  },
  file: { path: str, kind: { enum: ['f', 'l', 'd'] }, size: int, mtime: str, mode: int, target: str },
  match: {
    snapshot: str,
    seq: int,
    time: str,
    path: str,
    kind: { enum: ['f', 'l', 'd'] },
    size: int,
    mtime: str,
  },
  message: {
    date: { anyOf: [str, 'null'] },
    from: str,
    to: str,
    subject: str,
    messageId: str,
    folder: str,
    path: str,
    size: int,
    firstSnapshot: obj({ id: str, seq: int, time: str }),
    lastSnapshot: obj({ id: str, seq: int, time: str }),
  },
  recipient: {
    fingerprint: str,
    uid: { anyOf: [str, 'null'] },
    canEncrypt: bool,
    expired: bool,
    revoked: bool,
    secretKey: bool,
  },
}

/** OPTIONAL lists the fields of EVENTS that may be missing. */
const OPTIONAL: Record<string, string[]> = { warning: ['path'] }

/** SUMMARIES maps each summary's `command` to its fields (besides type and command). */
export const SUMMARIES: Record<string, Readonly<Record<string, Schema>>> = {
  backup: {
    snapshot: { anyOf: [str, 'null'] },
    seq: int,
    dryRun: bool,
    filesAdded: int,
    filesChanged: int,
    filesRenamed: int,
    filesDeleted: int,
    filesUnchanged: int,
    files: int,
    bytes: int,
    bytesRead: int,
    bytesNew: int,
    bytesUploaded: int,
    packsWritten: int,
    packsRewritten: int,
    packsDropped: int,
    indexBytes: int,
    durationMs: int,
    unreadable: pathReason,
    skipped: pathReason,
    excluded: { array: obj({ pattern: str, files: int }) },
    excludedPaths: { array: str },
    indexRebuilt: bool,
  },
  'backup-all': { profiles: { array: obj({ profile: str, exitCode: int }) }, exitCode: int },
  init: {
    id: str,
    location: str,
    encryption: {
      anyOf: [
        obj({ type: { enum: ['recipients'] }, recipients: { array: str } }),
        obj({ type: { enum: ['passphrase'] } }),
      ],
    },
  },
  restore: {
    snapshot: str,
    filesRestored: int,
    bytesRestored: int,
    failed: pathReason,
    damagedIndex: { array: str },
    durationMs: int,
    delivered: { array: str },
  },
  verify: {
    ok: bool,
    snapshots: int,
    packsChecked: int,
    packsRead: int,
    filesChecked: int,
    problems: {
      array: obj({
        kind: { enum: ['damaged', 'untrusted'] },
        object: str,
        message: str,
        files: { array: str },
      }),
    },
    differences: { array: obj({ path: str, change: { enum: ['added', 'changed', 'missing'] } }) },
    indexFromDestination: bool,
    checked: { array: { enum: ['signatures', 'commits', 'index', 'head', 'packs', 'files', 'data'] } },
    skipped: { array: obj({ check: str, reason: str }) },
  },
  compact: {
    dryRun: bool,
    snapshotsForgotten: int,
    packsDropped: int,
    packsRewritten: int,
    packsWritten: int,
    bytesDeleted: int,
    bytesUploaded: int,
    deadBytesBefore: int,
    liveBytes: int,
    durationMs: int,
  },
  unlock: {
    removed: {
      array: obj(
        { name: str, host: str, pid: int, command: str, exclusive: bool, created: str, heartbeat: str },
        ['host', 'pid', 'command', 'exclusive', 'created', 'heartbeat'],
      ),
    },
  },
  ls: { snapshot: str, time: str, entries: int, files: int, bytes: int },
  find: { pattern: str, matches: int, snapshots: int },
  stats: {
    snapshots: int,
    files: int,
    bytes: int,
    packs: int,
    packBytes: int,
    contentBytes: int,
    deadBytes: int,
    liveBytes: int,
    indexObjects: int,
    indexBytes: int,
    unreferencedPacks: int,
    compressionRatio: 'number',
  },
  'key list': { encryption: { enum: ['recipients', 'passphrase'] }, recipients: int },
  'key add': {
    changed: bool,
    key: obj({ fingerprint: str, uid: { anyOf: [str, 'null'] } }),
    recipients: { array: str },
  },
  'key remove': {
    changed: bool,
    key: obj({ fingerprint: str, uid: { anyOf: [str, 'null'] } }),
    recipients: { array: str },
  },
  'key rotate': {
    recipients: { array: str },
    packsRotated: int,
    packsSkipped: int,
    commitsRotated: int,
    commitsSkipped: int,
    indexUpdated: bool,
    bytesUploaded: int,
    durationMs: int,
  },
  'config check': {
    ok: bool,
    file: str,
    problems: { array: obj({ line: int, message: str }) },
    profiles: { array: str },
  },
}

/** check validates one value against a schema and returns the problems (empty when it fits). */
export function check(value: unknown, schema: Schema, at = '$'): string[] {
  if (schema === 'int')
    return Number.isSafeInteger(value) && (value as number) >= 0
      ? []
      : [`${at}: expected a whole number >= 0, got ${JSON.stringify(value)}`]
  if (schema === 'number')
    return typeof value === 'number' && Number.isFinite(value)
      ? []
      : [`${at}: expected a number, got ${JSON.stringify(value)}`]
  if (schema === 'string' || schema === 'boolean')
    return typeof value === schema ? [] : [`${at}: expected a ${schema}, got ${JSON.stringify(value)}`]
  if (schema === 'null') return value === null ? [] : [`${at}: expected null, got ${JSON.stringify(value)}`]
  if ('enum' in schema)
    return schema.enum.includes(value as string)
      ? []
      : [`${at}: expected one of ${schema.enum.join(', ')}, got ${JSON.stringify(value)}`]
  if ('array' in schema) {
    if (!Array.isArray(value)) return [`${at}: expected a list`]
    return value.flatMap((v, i) => check(v, schema.array, `${at}[${i}]`))
  }
  if ('anyOf' in schema) {
    const all = schema.anyOf.map((s) => check(value, s, at))
    return all.some((p) => p.length === 0)
      ? []
      : [`${at}: fits none of the alternatives (${all.map((p) => p[0]).join('; ')})`]
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${at}: expected an object`]
  const o = value as Record<string, unknown>
  const problems: string[] = []
  for (const [k, s] of Object.entries(schema.object)) {
    if (!(k in o)) {
      if (!schema.optional?.includes(k)) problems.push(`${at}.${k}: missing`)
      continue
    }
    problems.push(...check(o[k], s, `${at}.${k}`))
  }
  for (const k of Object.keys(o))
    if (!(k in schema.object)) problems.push(`${at}.${k}: not in the documented schema`)
  return problems
}

/** checkLine validates one line of `seb --json` output: its type, and for a summary its command. */
export function checkLine(line: string): string[] {
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    return [`not JSON: ${line}`]
  }
  if (typeof v !== 'object' || v === null) return [`not an object: ${line}`]
  const o = v as Record<string, unknown>
  const common: Record<string, Schema> = { type: 'string', profile: 'string' }
  if (o.type === 'summary') {
    const fields = SUMMARIES[o.command as string]
    if (!fields) return [`summary of unknown command ${JSON.stringify(o.command)}`]
    return check(o, obj({ ...common, command: 'string', ...fields }, ['profile']))
  }
  const fields = EVENTS[o.type as string]
  if (!fields) return [`unknown type ${JSON.stringify(o.type)}`]
  return check(o, obj({ ...common, ...fields }, ['profile', ...(OPTIONAL[o.type as string] ?? [])]))
}

/** documentedNames lists every type, command and field name the doc must mention. */
export function documentedNames(): string[] {
  const names = new Set<string>(['type', 'profile', 'command', 'summary'])
  const walk = (s: Schema) => {
    if (typeof s === 'string') return
    if ('array' in s) walk(s.array)
    else if ('anyOf' in s) s.anyOf.forEach(walk)
    else if ('object' in s)
      for (const [k, v] of Object.entries(s.object)) {
        names.add(k)
        walk(v)
      }
  }
  for (const [t, f] of Object.entries(EVENTS)) {
    names.add(t)
    walk(obj(f))
  }
  for (const [c, f] of Object.entries(SUMMARIES)) {
    names.add(c)
    walk(obj(f))
  }
  return [...names]
}
