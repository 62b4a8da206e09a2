// Why: sample mail for `npm run demo`: a small synthetic Maildir (the benchmark's generator at a small
// scale) and one "day of mail" (new messages, reads, flag changes, moves, deletions).
// Usage: node dist/bench/demo-data.js generate DIR [SCALE] | day DIR
import { mutateDay } from './day-of-mail.js'
import { generateMaildir } from './maildir-gen.js'

const [cmd, dir, scale] = process.argv.slice(2)
if (!dir || (cmd !== 'generate' && cmd !== 'day')) {
  process.stderr.write('usage: demo-data generate DIR [SCALE] | day DIR\n')
  process.exit(2)
}
if (cmd === 'generate') {
  const r = await generateMaildir(dir, { scale: Number(scale ?? 0.02) })
  process.stdout.write(
    `${r.stats.files} messages, ${(r.stats.bytes / 1048576).toFixed(1)} MiB in ${r.folders.length} folders\n`,
  )
} else {
  const d = await mutateDay(dir, { scale: 0.05, newBytes: 256 * 1024 })
  process.stdout.write(
    `${d.newMessageFiles.length} new messages (${(d.newBytes / 1024).toFixed(0)} KiB), ${d.read.length} read, ${d.flagRenames.length} flag changes, ${d.moves.length} moves, ${d.deleted.length + d.trashEmptied.length} deletions\n`,
  )
}
