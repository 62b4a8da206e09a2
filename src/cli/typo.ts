// Why: `seb SRC DEST` is the short form of backup, so a mistyped command (`seb stat backup`,
// `seb restor backup r`) used to become a backup of a folder named "stat" — with advice to run
// `seb init backup`. A first word that is not an existing path and is within a typo of a command
// name is an unknown command, said in one line with the command meant; the same wording serves
// commander's own unknown commands and options, which it writes on two lines.
import { existsSync } from 'node:fs'
import path from 'node:path'
import type { Command } from 'commander'
import { UsageError } from '../errors.js'
import { editDistance } from '../util/edit-distance.js'

export { editDistance }

/**
 * closestName returns the name `word` is probably a typo of: the nearest within one edit per three
 * letters (at most two), or null. Case is ignored ("Restore" is "restore").
 */
export function closestName(word: string, names: readonly string[]): string | null {
  const w = word.toLowerCase()
  let best: string | null = null
  let bestDistance = Number.POSITIVE_INFINITY
  for (const name of names) {
    const limit = Math.min(2, Math.floor(Math.max(w.length, name.length) / 3))
    const dist = editDistance(w, name)
    if (dist <= limit && dist < bestDistance) {
      best = name
      bestDistance = dist
    }
  }
  return best
}

/** commandNames lists the names (and aliases) of a command's subcommands, and commander's `help`. */
export function commandNames(cmd: Command): string[] {
  return [...cmd.commands.flatMap((c) => [c.name(), ...c.aliases()]), 'help']
}

/** unknownCommand is the one-line error for `word`, naming the command meant when there is one. */
export function unknownCommand(word: string, names: readonly string[], cwd = process.cwd()): UsageError {
  const meant = closestName(word, names)
  if (meant) return new UsageError(`unknown command '${word}' (did you mean '${meant}'?)`)
  if (existsSync(path.resolve(cwd, word)))
    return new UsageError(
      `unknown command '${word}'; to back that folder up, name the repository too: seb ${word} DEST`,
    )
  return new UsageError(`unknown command '${word}' (see seb --help)`)
}

/**
 * mistypedCommand checks the words a user typed (before the short form is applied): when the first is
 * not an option, not an existing path and close to a command name, it is a mistyped command, and the
 * error says which one was meant; otherwise null. A word with a '/' or starting with '~' or '.' is
 * always a path.
 */
export function mistypedCommand(
  argv: readonly string[],
  names: readonly string[],
  cwd = process.cwd(),
): UsageError | null {
  const first = argv[0]
  if (!first || first.startsWith('-') || names.includes(first)) return null
  if (/[/~.]/.test(first[0]!) || first.includes('/')) return null
  if (existsSync(path.resolve(cwd, first))) return null
  const meant = closestName(first, names)
  return meant ? new UsageError(`unknown command '${first}' (did you mean '${meant}'?)`) : null
}

/** oneLine joins commander's "message\n(Did you mean x?)" into one line. */
export function oneLine(message: string): string {
  return message.replace(/\n\(Did you mean (.+)\?\)\s*$/s, ' (did you mean $1?)').replace(/\s*\n\s*/g, ' ')
}

/**
 * catchTypos makes `cmd` and every command below it report unknown commands and options in one line
 * (with the command meant), and checks a short-form run for a mistyped command before backup runs.
 */
export function catchTypos(program: Command): void {
  const visit = (cmd: Command) => {
    const error = cmd.error.bind(cmd)
    cmd.error = (message, options) => {
      if (options?.code === 'commander.excessArguments')
        throw new UsageError(`too many arguments for '${cmd.name()}' (see seb ${cmd.name()} --help)`)
      return error(oneLine(message), options)
    }
    if (cmd.commands.length)
      cmd.on('command:*', (operands: string[]) => {
        throw unknownCommand(operands[0] ?? '', commandNames(cmd))
      })
    for (const c of cmd.commands) visit(c)
  }
  visit(program)
  // The short form arrives as `backup WORDS… --init-if-missing` (src/cli/main.ts, shortForm): the
  // words the user typed are between the two.
  program.hook('preSubcommand', (thisCommand, sub) => {
    const raw = (thisCommand as unknown as { rawArgs: string[] }).rawArgs
    if (sub.name() !== 'backup' || raw[0] !== 'backup' || raw[raw.length - 1] !== '--init-if-missing') return
    const words = raw.slice(1, -1)
    const names = commandNames(program)
    const typo = mistypedCommand(words, names)
    if (typo) throw typo
  })
}
