// Why: `seb key list|add|remove|rotate|setup|reset-signing DEST`: who can read the repository and who
// may sign its commits. add/remove change the recipients in the signed settings, so new packs and
// commits go to the new set; rotate re-encrypts what is already stored; setup readies a new machine;
// reset-signing replaces the repository key (src/engine/keys.ts, key-rotate.ts).
import type { Command } from 'commander'
import { rotateKeys } from '../../engine/key-rotate.js'
import {
  addRecipient,
  listRecipients,
  removeRecipient,
  resetSigningKey,
  setupMachine,
} from '../../engine/keys.js'
import { UsageError } from '../../errors.js'
import { count, formatBytes, formatDuration } from '../format.js'
import type { CliIO } from '../io.js'
import { explainMissingRepository } from '../locations.js'
import { commandContext } from './context.js'

/** registerKey adds `seb key` and its subcommands. */
export function registerKey(program: Command, io: CliIO, _result: { code: number }): void {
  const key = program
    .command('key')
    .description(
      'list, add or remove the GnuPG keys the repository is encrypted to; re-encrypt everything to them',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  seb key list /mnt/backup/mail\n  seb key add /mnt/backup/mail bob@example.org\n  seb key remove /mnt/backup/mail alice@example.org\n  seb key rotate /mnt/backup/mail          # re-encrypt packs and commits to the current keys\n',
    )

  key
    .command('list')
    .description('list the recipients (with the user id when the key is in your keyring)')
    .argument('<dest>', 'the repository')
    .addHelpText('after', '\nExample:\n  seb key list /mnt/backup/mail\n')
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const r = await explainMissingRepository(dest, listRecipients(ctx.access(storage)))
        if (ctx.mode.json) {
          for (const k of r.recipients) io.out(`${JSON.stringify({ type: 'recipient', ...k })}\n`)
          io.out(
            `${JSON.stringify({ type: 'summary', command: 'key list', encryption: r.encryption, recipients: r.recipients.length })}\n`,
          )
          return
        }
        if (r.encryption === 'passphrase') {
          io.out('this repository is encrypted with a passphrase, not to GnuPG keys: it has no recipients\n')
          return
        }
        for (const k of r.recipients) {
          const notes = [
            k.uid === null ? 'not in your keyring' : '',
            k.expired ? 'EXPIRED' : '',
            k.revoked ? 'REVOKED' : '',
            k.uid !== null && !k.canEncrypt && !k.expired && !k.revoked ? 'cannot encrypt' : '',
            k.secretKey ? 'secret key here' : '',
          ].filter(Boolean)
          io.out(`${k.fingerprint}  ${k.uid ?? '?'}${notes.length ? `  (${notes.join(', ')})` : ''}\n`)
        }
        if (!ctx.mode.quiet) io.out(`${count(r.recipients.length, 'recipient')}\n`)
      } finally {
        await storage.close()
      }
    })

  key
    .command('add')
    .description(
      'add a recipient: new packs and commits are encrypted to it too (existing ones: seb key rotate)',
    )
    .argument('<dest>', 'the repository')
    .argument('<key>', 'fingerprint, key id or e-mail of a public key in your keyring')
    .addHelpText(
      'after',
      '\nExample:\n  seb key add /mnt/backup/mail bob@example.org && seb key rotate /mnt/backup/mail\n',
    )
    .action(async (dest: string, k: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const c = await explainMissingRepository(dest, addRecipient(ctx.access(storage), k))
        if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'key add', ...c })}\n`)
        else if (!ctx.mode.quiet) {
          if (!c.changed)
            io.out(`${c.key.fingerprint} (${c.key.uid}) is already a recipient; nothing changed\n`)
          else {
            io.out(`added ${c.key.fingerprint} (${c.key.uid}); ${count(c.recipients.length, 'recipient')}\n`)
            io.out(
              `new packs and commits are encrypted to it; to make the existing ones readable with it, run: seb key rotate ${dest}\n`,
            )
          }
        }
      } finally {
        await storage.close()
      }
    })

  key
    .command('remove')
    .description('remove a recipient (never the last): new packs and commits are no longer encrypted to it')
    .argument('<dest>', 'the repository')
    .argument('<key>', 'fingerprint, key id or e-mail of a recipient')
    .addHelpText(
      'after',
      '\nExample:\n  seb key remove /mnt/backup/mail 0123456789ABCDEF && seb key rotate /mnt/backup/mail\n',
    )
    .action(async (dest: string, k: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const c = await explainMissingRepository(dest, removeRecipient(ctx.access(storage), k))
        if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'key remove', ...c })}\n`)
        else if (!ctx.mode.quiet) {
          io.out(
            `removed ${c.key.fingerprint}${c.key.uid ? ` (${c.key.uid})` : ''}; ${count(c.recipients.length, 'recipient')} left\n`,
          )
          io.out(
            `the removed key can still read what is stored now; run 'seb key rotate ${dest}' to re-encrypt it without that key\n`,
          )
          io.out(
            `the repository key was replaced too (the removed key could read it): other machines that back up here run 'seb key setup ${dest}' once\n`,
          )
        }
      } finally {
        await storage.close()
      }
    })

  key
    .command('rotate')
    .description(
      're-encrypt every pack and commit to the current recipients (needs your secret key; resumable)',
    )
    .argument('<dest>', 'the repository')
    .addHelpText(
      'after',
      '\nExample:\n  seb key rotate /mnt/backup/mail\n\nInterrupted? Run it again: what is done is skipped (progress is kept in the cache folder).\n',
    )
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const reporter = ctx.reporter()
        const s = await explainMissingRepository(
          dest,
          rotateKeys({
            ...ctx.access(storage),
            progress: reporter.sink,
          }),
        ).finally(reporter.done)
        if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'key rotate', ...s })}\n`)
        else if (!ctx.mode.quiet) {
          const skipped =
            s.packsSkipped + s.commitsSkipped
              ? ` (${count(s.packsSkipped, 'pack')} and ${count(s.commitsSkipped, 'commit')} were already done)`
              : ''
          io.out(
            `re-encrypted ${count(s.packsRotated, 'pack')} and ${count(s.commitsRotated, 'commit')} to ${count(s.recipients.length, 'recipient')}${skipped}; uploaded ${formatBytes(s.bytesUploaded)} in ${formatDuration(s.durationMs)}\n`,
          )
        }
      } finally {
        await storage.close()
      }
    })

  key
    .command('setup')
    .description(
      "ready this machine for a repository, once, with the owner's secret key (or the passphrase): trust its settings, fetch its key, build the cache",
    )
    .argument('<dest>', 'the repository')
    .option(
      '--trust-owner <fingerprint>',
      "accept settings signed by this owner key although its secret key is not on this machine (repeatable; compare the fingerprint with the owner's first)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .addHelpText(
      'after',
      '\nExample (on a new backup machine, with your secret key available once):\n  seb key setup user@host:seb/mail\n\nAfterwards this machine backs up with the public key only.\n',
    )
    .action(async (dest: string, opts: { trustOwner: string[] }, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const trustedOwners = opts.trustOwner.map((f) => {
        const fpr = f.replace(/\s+/g, '').toUpperCase()
        if (!/^[0-9A-F]{40}$/.test(fpr) && !/^[0-9A-F]{64}$/.test(fpr))
          throw new UsageError(
            `--trust-owner ${f}: not a key fingerprint (40 hex digits, as 'gpg --fingerprint' prints it)`,
          )
        return fpr
      })
      const storage = await ctx.open(dest)
      try {
        const s = await setupMachine({
          ...ctx.access(storage),
          trustedOwners,
        })
        if (ctx.mode.json) io.out(`${JSON.stringify({ type: 'summary', command: 'key setup', ...s })}\n`)
        else if (!ctx.mode.quiet)
          io.out(
            `this machine is ready for repository ${s.repository} (${s.snapshots} snapshots): backups here need the public key only\n`,
          )
      } finally {
        await storage.close()
      }
    })

  key
    .command('reset-signing')
    .description(
      "replace the repository key that signs commits (lost, or on a machine that should no longer back up); needs the owner's secret key",
    )
    .argument('<dest>', 'the repository')
    .addHelpText(
      'after',
      "\nExample:\n  seb key reset-signing /mnt/backup/mail\n\nEvery other machine that backs up here then runs 'seb key setup DEST' once.\n",
    )
    .action(async (dest: string, _opts: unknown, cmd: Command) => {
      const ctx = commandContext(cmd, io)
      const storage = await ctx.open(dest)
      try {
        const key = await resetSigningKey(ctx.access(storage))
        if (ctx.mode.json)
          io.out(`${JSON.stringify({ type: 'summary', command: 'key reset-signing', signingKey: key })}\n`)
        else if (!ctx.mode.quiet)
          io.out(
            `a new repository key signs the history (${key}); other backing-up machines: seb key setup ${dest}\n`,
          )
      } finally {
        await storage.close()
      }
    })
}
