// Why: passphrases reach seb only through a file or an inherited file descriptor — never argv, where
// any user on the machine can read them with ps — and are never printed.
import { readFileSync } from 'node:fs'
import { UsageError } from '../errors.js'
import { errnoText } from '../util/errno.js'

/** readPassphrase returns the passphrase from --passphrase-file / --passphrase-fd / SEB_PASSPHRASE_FILE, if any. */
export function readPassphrase(
  opts: { passphraseFile?: string; passphraseFd?: string },
  env: NodeJS.ProcessEnv,
): Buffer | undefined {
  const file = opts.passphraseFile ?? env.SEB_PASSPHRASE_FILE
  let raw: Buffer
  if (opts.passphraseFd !== undefined) {
    const fd = Number(opts.passphraseFd)
    if (!Number.isInteger(fd) || fd < 0)
      throw new UsageError(`--passphrase-fd ${opts.passphraseFd}: not a file descriptor number`)
    try {
      raw = readFileSync(fd)
    } catch {
      throw new UsageError(`--passphrase-fd ${fd}: cannot read that file descriptor`)
    }
  } else if (file) {
    try {
      raw = readFileSync(file)
    } catch (err) {
      throw new UsageError(`${file}: cannot read the passphrase file (${errnoText(err)})`)
    }
  } else return undefined
  // One trailing newline is an editor's, not the passphrase's.
  let end = raw.length
  if (raw[end - 1] === 0x0a) end--
  if (raw[end - 1] === 0x0d) end--
  return raw.subarray(0, end)
}
