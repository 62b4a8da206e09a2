// Why: seb speaks SSH itself (ssh2) but must connect the way the user's own ssh would, or say that it
// cannot: an option of ~/.ssh/config that changes how the connection is made is either honoured or
// refused with one line naming it — never ignored without a word (issue 15). This table is that
// decision for every ssh_config(5) keyword, written once; docs/storage.md lists the same classes.
import { UsageError } from '../../errors.js'

/**
 * Treatment is what seb does with one ssh_config keyword:
 * - `honoured`: applied (see SshSettings in host-settings.ts);
 * - `session`: concerns what ssh does besides a file transfer (forwardings, X11, a tty, commands,
 *   multiplexing, logging); ignored, as `sftp` and `scp` ignore or clear them;
 * - `hostkey`: would relax or tune the host key check; seb always checks known_hosts strictly and
 *   never writes to it (the refusal of an unknown key says so when such an option is set);
 * - `auth`: a login method or key source seb does not use (it logs in with public keys from the
 *   agent or the identity files); named in the message when a login fails;
 * - `refused`: changes how the connection is made and seb does not implement it: an error.
 */
export type Treatment = 'honoured' | 'session' | 'hostkey' | 'auth' | 'refused'

const TABLE: Readonly<Record<Treatment, readonly string[]>> = {
  honoured: [
    'Host',
    'Match',
    'Include',
    'HostName',
    'Port',
    'User',
    'IdentityFile',
    'IdentitiesOnly',
    'IdentityAgent',
    'UserKnownHostsFile',
    'GlobalKnownHostsFile',
    'HostKeyAlias',
    'ProxyJump',
    'ProxyCommand',
    'ConnectTimeout',
    'ServerAliveInterval',
    'ServerAliveCountMax',
    'KexAlgorithms',
    'Ciphers',
    'MACs',
    'HostKeyAlgorithms',
    'Compression',
    'AddressFamily',
    'BindAddress',
    'PubkeyAuthentication',
    'PreferredAuthentications',
    // Applied by `ssh -G` itself (the printed HostName is the canonical one).
    'CanonicalizeHostname',
    'CanonicalDomains',
    'CanonicalizeFallbackLocal',
    'CanonicalizeMaxDots',
    'CanonicalizePermittedCNAMEs',
  ],
  session: [
    'LocalForward',
    'RemoteForward',
    'DynamicForward',
    'ClearAllForwardings',
    'ExitOnForwardFailure',
    'GatewayPorts',
    'PermitRemoteOpen',
    'StreamLocalBindMask',
    'StreamLocalBindUnlink',
    'ForwardAgent',
    'ForwardX11',
    'ForwardX11Trusted',
    'ForwardX11Timeout',
    'XAuthLocation',
    'Tunnel',
    'TunnelDevice',
    'LocalCommand',
    'PermitLocalCommand',
    'RemoteCommand',
    'RequestTTY',
    'SessionType',
    'StdinNull',
    'ForkAfterAuthentication',
    'EscapeChar',
    'EnableEscapeCommandline',
    'SendEnv',
    'SetEnv',
    'LogLevel',
    'LogVerbose',
    'SyslogFacility',
    'ControlMaster',
    'ControlPath',
    'ControlPersist',
    'IPQoS',
    'TCPKeepAlive',
    'ConnectionAttempts',
    'AddKeysToAgent',
    'BatchMode',
    'NumberOfPasswordPrompts',
    'ObscureKeystrokeTiming',
    'ChannelTimeout',
    'IgnoreUnknown',
    'Tag',
    'UseRoaming',
  ],
  hostkey: [
    'StrictHostKeyChecking',
    'CheckHostIP',
    'VerifyHostKeyDNS',
    'UpdateHostKeys',
    'HashKnownHosts',
    'NoHostAuthenticationForLocalhost',
    'VisualHostKey',
    'FingerprintHash',
    'CASignatureAlgorithms',
  ],
  auth: [
    'PasswordAuthentication',
    'KbdInteractiveAuthentication',
    'KbdInteractiveDevices',
    'ChallengeResponseAuthentication',
    'GSSAPIAuthentication',
    'GSSAPIKeyExchange',
    'GSSAPIDelegateCredentials',
    'GSSAPITrustDNS',
    'GSSAPIRenewalForcesRekey',
    'GSSAPIKexAlgorithms',
    'GSSAPIClientIdentity',
    'GSSAPIServerIdentity',
    'HostbasedAuthentication',
    'HostbasedAcceptedAlgorithms',
    'HostbasedKeyTypes',
    'CertificateFile',
    'PKCS11Provider',
    'SecurityKeyProvider',
    'SmartcardDevice',
    'PubkeyAcceptedAlgorithms',
    'PubkeyAcceptedKeyTypes',
    'EnableSSHKeysign',
  ],
  refused: [
    'ProxyUseFdpass',
    'BindInterface',
    'RekeyLimit',
    'RequiredRSASize',
    'KnownHostsCommand',
    'RevokedHostKeys',
  ],
}

/** OptionInfo is an ssh_config keyword as the manual spells it and seb's treatment of it. */
export interface OptionInfo {
  readonly name: string
  readonly treatment: Treatment
}

const BY_KEY: ReadonlyMap<string, OptionInfo> = new Map(
  (Object.entries(TABLE) as [Treatment, readonly string[]][]).flatMap(([treatment, names]) =>
    names.map((name) => [name.toLowerCase(), { name, treatment }] as const),
  ),
)

/** optionInfo looks a keyword up (any case); unknown keywords are undefined. */
export function optionInfo(key: string): OptionInfo | undefined {
  return BY_KEY.get(key.toLowerCase())
}

/** optionsTreated lists the keywords given `treatment`, as the manual spells them (for docs and tests). */
export function optionsTreated(treatment: Treatment): readonly string[] {
  return TABLE[treatment]
}

/**
 * UnsupportedSshOptionError: the user's ssh configuration sets, for the host seb connects to, an
 * option that seb cannot honour. A usage error (exit code 2): the setting must change, not the server.
 */
export class UnsupportedSshOptionError extends UsageError {
  constructor(
    readonly host: string,
    readonly option: string,
    message: string,
  ) {
    super(message)
  }
}
UnsupportedSshOptionError.prototype.name = 'UnsupportedSshOptionError'

/** SshDump holds effective options as `ssh -G` prints them: lowercase keyword → one value per line. */
export type SshDump = ReadonlyMap<string, readonly string[]>

/** dumpValue joins a keyword's values the way they are compared and shown (`identityfile a b`). */
export function dumpValue(dump: SshDump, key: string): string | undefined {
  const v = dump.get(key)
  return v === undefined ? undefined : v.join(' ')
}

const OFF = new Set(['no', 'false', 'none', 'off', 'default none', '0 0', 'internal'])

/** PolicyInput is one host's effective options and what they are compared with. */
export interface PolicyInput {
  /** host is the host as the user wrote it (for messages). */
  readonly host: string
  readonly dump: SshDump
  /**
   * baseline is ssh's own defaults (`ssh -G -F /dev/null`): an option equal to it was not set by the
   * user. Undefined when seb read the files itself: then every option in `dump` was written.
   */
  readonly baseline?: SshDump
  /** how tells the user where the options come from, for messages ("'ssh -G HOST' shows them"). */
  readonly how: string
}

/** changed tells whether the user's configuration set `key` to something else than ssh's default. */
export function changed(p: PolicyInput, key: string): boolean {
  const v = dumpValue(p.dump, key)
  if (v === undefined) return false
  if (p.baseline) return v !== dumpValue(p.baseline, key)
  return true
}

function refuse(p: PolicyInput, name: string, what: string): UnsupportedSshOptionError {
  return new UnsupportedSshOptionError(
    p.host,
    name,
    `${p.host}: ssh option ${name} ${what}, which seb does not implement: remove it for this host (for example give seb its own Host alias without it) and run seb again (${p.how})`,
  )
}

/**
 * checkOptions throws an UnsupportedSshOptionError for the first option in `p.dump` that seb cannot
 * honour: a `refused` keyword set to anything but its off value, a keyword seb does not know that
 * differs from ssh's default, or a login setup with no public key authentication.
 */
export function checkOptions(p: PolicyInput): void {
  for (const [key, values] of p.dump) {
    const info = optionInfo(key)
    const value = values.join(' ')
    if (!info) {
      if (changed(p, key))
        throw new UnsupportedSshOptionError(
          p.host,
          key,
          `${p.host}: ssh option '${key} ${value}' is not one seb knows (it may change how to connect): remove it for this host (for example give seb its own Host alias without it) and run seb again (${p.how})`,
        )
      continue
    }
    if (info.treatment === 'refused' && changed(p, key) && !(p.baseline === undefined && OFF.has(value)))
      throw refuse(p, info.name, `is set to '${value}' for this host`)
  }
  const pubkey = dumpValue(p.dump, 'pubkeyauthentication')
  if (pubkey !== undefined && OFF.has(pubkey.toLowerCase()))
    throw new UnsupportedSshOptionError(
      p.host,
      'PubkeyAuthentication',
      `${p.host}: PubkeyAuthentication is off for this host, but seb logs in with public keys only (agent or IdentityFile): turn it on for this host and run seb again (${p.how})`,
    )
  const preferred = dumpValue(p.dump, 'preferredauthentications')
  if (preferred !== undefined && !preferred.split(',').includes('publickey'))
    throw new UnsupportedSshOptionError(
      p.host,
      'PreferredAuthentications',
      `${p.host}: PreferredAuthentications '${preferred}' has no publickey, but seb logs in with public keys only (agent or IdentityFile): add publickey for this host and run seb again (${p.how})`,
    )
}

/** unusedAuth names the `auth` options the user set for the host (for a failed login's message). */
export function unusedAuth(p: PolicyInput): string[] {
  const out: string[] = []
  for (const [key, values] of p.dump) {
    const info = optionInfo(key)
    if (info?.treatment !== 'auth' || !changed(p, key)) continue
    if (OFF.has(values.join(' ').toLowerCase())) continue
    out.push(info.name)
  }
  return out
}

/** relaxedHostKeyCheck names a `hostkey` option set to accept more than seb does, if any. */
export function relaxedHostKeyCheck(p: PolicyInput): string | undefined {
  const strict = dumpValue(p.dump, 'stricthostkeychecking')?.toLowerCase()
  // ssh -G prints `no` as `false`.
  if (strict === 'no' || strict === 'off' || strict === 'false') return 'StrictHostKeyChecking no'
  if (strict === 'accept-new') return 'StrictHostKeyChecking accept-new'
  const dns = dumpValue(p.dump, 'verifyhostkeydns')?.toLowerCase()
  if (dns === 'yes' || dns === 'true' || dns === 'ask') return `VerifyHostKeyDNS ${dns}`
  const local = dumpValue(p.dump, 'nohostauthenticationforlocalhost')?.toLowerCase()
  if (local === 'yes' || local === 'true') return 'NoHostAuthenticationForLocalhost yes'
  return undefined
}
