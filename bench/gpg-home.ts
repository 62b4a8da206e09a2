// Why: the benchmark encrypts to a key of its own, made for the run in a throwaway GnuPG home and removed
// afterwards, so that the user's keyring is never touched and no timed step pays for the agent's start-up.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { q, runMeasured, sh } from './run.js'

/** A throwaway GnuPG home with one ed25519/cv25519 key and no passphrase. */
export interface GpgHome {
  home: string
  fingerprint: string
  /** Environment for children: GNUPGHOME set to home. */
  env: NodeJS.ProcessEnv
  cleanup(): Promise<void>
}

/**
 * makeThrowawayGpg creates a GnuPG home under the system temp dir (short path: the agent's socket
 * must fit) with the key `bench <bench@example.invalid>` and returns its fingerprint.
 */
export async function makeThrowawayGpg(): Promise<GpgHome> {
  const home = await mkdtemp(join(tmpdir(), 'sebg-'))
  const env = { ...process.env, GNUPGHOME: home }
  await runMeasured(
    'gpg',
    [
      '--batch',
      '--passphrase',
      '',
      '--quick-gen-key',
      'bench <bench@example.invalid>',
      'future-default',
      'default',
      'never',
    ],
    { env },
  )
  const list = await runMeasured('gpg', ['--batch', '--with-colons', '--list-keys'], { env })
  const fpr = /^fpr:+([0-9A-F]{40,64}):/m.exec(list.stdout)?.[1]
  if (!fpr) throw new Error(`no fingerprint in gpg output: ${list.stdout}`)
  // Start the agent now (one tiny encrypt + decrypt) so that no timed step pays for its start-up.
  await sh(
    `echo warm | gpg --batch --trust-model always --recipient ${q(fpr)} --encrypt | gpg --batch --quiet --decrypt > /dev/null`,
    { env },
  )
  return {
    home,
    fingerprint: fpr,
    env,
    async cleanup() {
      await runMeasured('gpgconf', ['--kill', 'all'], { env, check: false }).catch(() => undefined)
      await rm(home, { recursive: true, force: true })
    },
  }
}
