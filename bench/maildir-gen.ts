// Why: the benchmark and the leak/incremental tests need a Maildir that looks like the seed author's
// published mailbox (87,107 files, 218 B .. 16 MB, mean 13.75 kB, ~1.17 GB, 3 accounts, 7 years) and that
// compresses like real mail (~2x with zstd -3), built reproducibly from a seed so that every run of the
// benchmark measures the same bytes. Nothing here uses Math.random.
//
// This is the generator's public face; each part lives in bench/maildir/:
//   prng.ts     mulberry32, mix32 and the AES-CTR keystream
//   sizes.ts    the size distribution (log-normal bodies, attachments, the exact mean)
//   layout.ts   accounts, folders and the mbsync / offlineimap file names
//   plan.ts     every message's account, folder, date, flags, size and name, decided up front
//   text.ts     the pseudo-language of message bodies
//   message.ts  one message of an exact size: headers, body, attachment
//   write.ts    writing the planned tree to disk
//   read.ts     reading a tree back: walk, statistics, plaintext samples
// The day mutations are bench/day-of-mail.ts.

export {
  ACCOUNT_TEMPLATES,
  type AccountTemplate,
  accountsFor,
  folderMd5,
  foldersOf,
  HOST,
  MAILBOX_END,
  MAILBOX_YEARS,
  mbsyncName,
  offlineimapName,
  type SyncStyle,
} from './maildir/layout.js'
export { buildMessage, type MessageSpec, rfc2822, tuidLine } from './maildir/message.js'
export { type GenerateOptions, type PlannedMessage, planMailbox } from './maildir/plan.js'
export { keystream, mix32, mulberry32 } from './maildir/prng.js'
export {
  isMessagePath,
  type MailboxStats,
  mailboxStats,
  type PlaintextSamples,
  samplePlaintext,
  type TreeEntry,
  walkTree,
} from './maildir/read.js'
export { words } from './maildir/text.js'
export { type GenerateResult, generateMaildir, mbsyncState } from './maildir/write.js'
