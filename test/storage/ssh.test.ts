// Why: issue 15 — seb must connect the way the user's ssh would or refuse with one clear line, never
// ignore an option. Against two real sshd on 127.0.0.1 (a jump host and a target), these tests show a
// ProxyJump route taken through the jump host (its log shows the forwarding; with forwarding off the
// route fails), a Match block honoured, a ProxyCommand used, unknown host keys refused at every hop,
// and options seb does not implement refused; plus the option policy and the settings builder alone.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { PermanentStorageError, UsageError } from '../../src/errors.js'
import { SftpStorage } from '../../src/storage/sftp/store.js'
import { algorithmList, parseJumpSpec, settingsFromDump } from '../../src/storage/ssh/host-settings.js'
import {
  checkOptions,
  optionsTreated,
  type Treatment,
  UnsupportedSshOptionError,
  unusedAuth,
} from '../../src/storage/ssh/policy.js'
import { parseDump, resolveSshSettings } from '../../src/storage/ssh/resolve.js'
import { bufferBody } from '../../src/storage/storage.js'
import { type Sshd, startSshd } from '../helpers/sshd.js'
import { load, pack } from './suite.js'

let jump: Sshd
let target: Sshd
let closedJump: Sshd
let n = 0

before(async () => {
  // DEBUG1: the jump host logs each direct-tcpip request, the target the cipher it negotiated.
  jump = await startSshd({ logLevel: 'DEBUG1' })
  target = await startSshd({ logLevel: 'DEBUG1' })
  closedJump = await startSshd({ config: ['AllowTcpForwarding no'] })
})
after(async () => {
  await Promise.all([jump?.stop(), target?.stop(), closedJump?.stop()])
})

/** both pins the host keys of the jump host and the target (as the user's known_hosts would). */
function knownHosts(name: string, servers: Sshd[]): string {
  const file = path.join(target.dir, name)
  writeFileSync(file, servers.map((s) => `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`).join(''))
  return file
}

/** sshConfig writes an ssh_config for the test and returns its path. */
function sshConfig(lines: string[]): string {
  const file = path.join(target.dir, `ssh_config_${n++}`)
  writeFileSync(file, `${lines.join('\n')}\n`)
  return file
}

function hostBlock(alias: string, server: Sshd, extra: string[] = []): string[] {
  return [
    `Host ${alias}`,
    '  HostName 127.0.0.1',
    `  Port ${server.port}`,
    `  User ${server.user}`,
    `  IdentityFile ${server.clientKey}`,
    ...extra.map((l) => `  ${l}`),
  ]
}

function storage(
  host: string,
  config: string,
  extra: Partial<ConstructorParameters<typeof SftpStorage>[0]> = {},
) {
  return new SftpStorage({
    host,
    path: path.join(target.dataDir, `repo${n++}`),
    sshConfigPath: config,
    knownHostsPath: knownHosts('kh_both', [jump, target]),
    agent: false,
    ...extra,
  })
}

async function roundTrip(s: SftpStorage, text: string): Promise<void> {
  try {
    const h = pack()
    await s.save(h, bufferBody(Buffer.from(text)))
    assert.equal((await load(s, h)).toString(), text)
  } finally {
    await s.close()
  }
}

/** forwardLine matches sshd's DEBUG1 line for a granted `ssh -W`-style forwarding to 127.0.0.1:port. */
const forwardLine = (port: number) =>
  new RegExp(`server_request_direct_tcpip: originator \\S+ port \\d+, target 127\\.0\\.0\\.1 port ${port}\\b`)

describe('ssh: ProxyJump', () => {
  it('reaches the target through its jump host (the jump host logs the forwarding)', async () => {
    const cfg = sshConfig([...hostBlock('box', target, ['ProxyJump jumpbox']), ...hostBlock('jumpbox', jump)])
    const before = jump.log().length
    await roundTrip(storage('box', cfg), 'through the jump host')
    const log = jump.log().slice(before)
    assert.match(log, forwardLine(target.port), `jump host log:\n${log.slice(-3000)}`)
    assert.match(log, /Accepted publickey/)
  })

  it('follows several hops and the user@host:port form', async () => {
    // jump → jump → target: each hop reached through the one before, as `ssh -J a,b` does. The two
    // hops are the same server under two names (ssh refuses a hop named like the host after it).
    const cfg = sshConfig([
      ...hostBlock('box2', target, [
        `ProxyJump ${jump.user}@localhost:${jump.port},${jump.user}@127.0.0.1:${jump.port}`,
      ]),
    ])
    const kh = knownHosts('kh_two_names', [jump, target])
    writeFileSync(kh, `${readFileSync(kh, 'utf8')}[localhost]:${jump.port} ${jump.hostKeyLine}\n`)
    const before = jump.log().length
    await roundTrip(
      storage('box2', cfg, { identityFile: [jump.clientKey, target.clientKey], knownHostsPath: kh }),
      'two hops',
    )
    const log = jump.log().slice(before)
    assert.match(log, forwardLine(jump.port), 'the second hop is reached through the first')
    assert.match(log, forwardLine(target.port))
  })

  it('goes nowhere when the jump host forbids forwarding (so it never connects directly)', async () => {
    const cfg = sshConfig([
      ...hostBlock('box3', target, ['ProxyJump closedjump']),
      ...hostBlock('closedjump', closedJump),
    ])
    const s = storage('box3', cfg, { knownHostsPath: knownHosts('kh_closed', [closedJump, target]) })
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(
          err.message,
          /jump host closedjump cannot open a connection to 127\.0\.0\.1:\d+: it refuses to forward/,
        )
        assert.match(err.message, /AllowTcpForwarding/)
        assert.ok(!err.message.includes('\n'))
        return true
      })
    } finally {
      await s.close()
    }
  })

  it("refuses the jump host's unknown host key, naming the jump host", async () => {
    const cfg = sshConfig([
      ...hostBlock('box4', target, ['ProxyJump jumpbox4']),
      ...hostBlock('jumpbox4', jump, ['StrictHostKeyChecking no']),
    ])
    const s = storage('box4', cfg, { knownHostsPath: knownHosts('kh_target_only', [target]) })
    const before = jump.log().length
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(
          err.message,
          new RegExp(
            `^127\\.0\\.0\\.1:${jump.port} \\(jump host to reach box4\\): host key SHA256:\\S+ is not in known_hosts; seb never accepts a new host key by itself \\(even with StrictHostKeyChecking no in your ssh configuration\\): run 'ssh -p ${jump.port} ${jump.user}@jumpbox4' once`,
          ),
        )
        return true
      })
    } finally {
      await s.close()
    }
    assert.doesNotMatch(jump.log().slice(before), /Accepted publickey/, 'no login on an unchecked host')
  })

  it("refuses the target's unknown host key behind a known jump host", async () => {
    const cfg = sshConfig([
      ...hostBlock('box5', target, ['ProxyJump jumpbox']),
      ...hostBlock('jumpbox', jump),
    ])
    const s = storage('box5', cfg, { knownHostsPath: knownHosts('kh_jump_only', [jump]) })
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(
          err.message,
          new RegExp(`^127\\.0\\.0\\.1:${target.port} \\(via jump host jumpbox\\): host key`),
        )
        return true
      })
    } finally {
      await s.close()
    }
  })
})

describe('ssh: the configuration as ssh evaluates it', () => {
  it('honours a Match block that changes the port', async () => {
    const cfg = sshConfig([
      'Match originalhost matchbox',
      `  Port ${target.port}`,
      ...hostBlock('matchbox', target).map((l) => l.replace(/Port \d+/, 'Port 1')),
    ])
    await roundTrip(storage('matchbox', cfg), 'matched')
  })

  it('without the ssh program, its own parser refuses a Match block with a clear line', async () => {
    const cfg = sshConfig([
      'Match originalhost matchbox',
      `  Port ${target.port}`,
      ...hostBlock('matchbox', target),
    ])
    const s = storage('matchbox', cfg, { sshBinary: '/nonexistent/ssh' })
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof UsageError, String(err))
        assert.equal(err.exitCode, 2)
        assert.match(
          err.message,
          /:1: a Match block needs OpenSSH's ssh .* install it \(Debian package 'openssh-client'/,
        )
        return true
      })
    } finally {
      await s.close()
    }
    // …and reads a plain configuration, ProxyJump included, by itself.
    const plain = sshConfig([
      ...hostBlock('box6', target, ['ProxyJump jumpbox']),
      ...hostBlock('jumpbox', jump),
    ])
    await roundTrip(storage('box6', plain, { sshBinary: false }), 'parsed by seb')
  })

  it('runs a ProxyCommand (here ssh -W through the jump host)', async () => {
    const jumpCfg = sshConfig([
      ...hostBlock('jumpbox', jump, [`UserKnownHostsFile ${knownHosts('kh_jump', [jump])}`, 'BatchMode yes']),
    ])
    const cfg = sshConfig([...hostBlock('box7', target, [`ProxyCommand ssh -F ${jumpCfg} -W %h:%p jumpbox`])])
    const before = jump.log().length
    await roundTrip(storage('box7', cfg), 'over a proxy command')
    assert.match(jump.log().slice(before), forwardLine(target.port))
  })

  it('fails a ProxyCommand that cannot run with a permanent, one-line error', async () => {
    const cfg = sshConfig([...hostBlock('box8', target, ['ProxyCommand /nonexistent/connector %h %p'])])
    const s = storage('box8', cfg)
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof PermanentStorageError, String(err))
        assert.match(
          err.message,
          /ProxyCommand '\/nonexistent\/connector 127\.0\.0\.1 \d+' exited with 127.*fix ProxyCommand/,
        )
        assert.ok(!err.message.includes('\n'))
        return true
      })
    } finally {
      await s.close()
    }
  })

  it('uses the Ciphers the configuration allows (the server logs the one negotiated)', async () => {
    const cfg = sshConfig([...hostBlock('box9', target, ['Ciphers aes256-ctr'])])
    const before = target.log().length
    await roundTrip(storage('box9', cfg), 'aes256-ctr only')
    assert.match(target.log().slice(before), /cipher: aes256-ctr/)
  })

  it('refuses an option that changes how to connect, naming it and the host', async () => {
    for (const [line, name] of [
      ['BindInterface lo', 'BindInterface'],
      ['RekeyLimit 1G 1h', 'RekeyLimit'],
    ] as const) {
      const cfg = sshConfig([...hostBlock('box10', target, [line])])
      const s = storage('box10', cfg)
      try {
        await assert.rejects(s.stat(pack()), (err: Error) => {
          assert.ok(err instanceof UnsupportedSshOptionError, String(err))
          assert.equal(err.exitCode, 2)
          assert.equal(err.option, name)
          assert.match(
            err.message,
            new RegExp(
              `^box10: ssh option ${name} is set to '.+' for this host, which seb does not implement: remove it for this host .* \\('ssh -G box10' shows the options in effect\\)$`,
            ),
          )
          return true
        })
      } finally {
        await s.close()
      }
    }
  })

  it("passes on ssh's own complaint about the configuration", async () => {
    const cfg = sshConfig([...hostBlock('box11', target, ['NoSuchOption yes'])])
    const s = storage('box11', cfg)
    try {
      await assert.rejects(s.stat(pack()), (err: Error) => {
        assert.ok(err instanceof UsageError, String(err))
        assert.match(
          err.message,
          /^box11: ssh cannot read its configuration for this host: .*Bad configuration option: nosuchoption/,
        )
        return true
      })
    } finally {
      await s.close()
    }
  })

  it('resolves the route ssh would take (settings of each hop)', async () => {
    const cfg = sshConfig([
      ...hostBlock('routed', target, ['ProxyJump hop1,hop2', 'HostKeyAlias routed-key']),
      ...hostBlock('hop1', jump),
      ...hostBlock('hop2', jump, ['ProxyJump unused']),
    ])
    const s = await resolveSshSettings({ alias: 'routed', user: 'me' }, { configFile: cfg })
    assert.equal(s.user, 'me', "the destination's user wins over User")
    assert.equal(s.port, target.port)
    assert.equal(s.hostKeyAlias, 'routed-key')
    assert.equal(s.jump?.alias, 'hop2')
    // hop2 is reached through hop1 (ssh -J hop1), not through its own ProxyJump.
    assert.equal(s.jump?.jump?.alias, 'hop1')
    assert.equal(s.jump?.jump?.jump, undefined)
  })
})

describe('ssh option policy and settings (no server)', () => {
  const base = parseDump(
    execFileSync('ssh', ['-G', '-F', '/dev/null', '--', 'h'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString(),
  )
  const withOpts = (lines: string[]) => {
    const file = sshConfig(['Host h', ...lines.map((l) => `  ${l}`)])
    return parseDump(
      execFileSync('ssh', ['-G', '-F', file, '--', 'h'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString(),
    )
  }
  const policy = (dump: Map<string, string[]>) => ({
    host: 'h',
    dump,
    baseline: base,
    how: "'ssh -G h' shows them",
  })

  it('lets honoured, session and login options through and refuses the others', () => {
    checkOptions(
      policy(
        withOpts([
          'LocalForward 8080 localhost:80',
          'ForwardAgent yes',
          'ControlMaster auto',
          'GSSAPIAuthentication yes',
        ]),
      ),
    )
    assert.deepEqual(
      unusedAuth(policy(withOpts(['GSSAPIAuthentication yes', 'CertificateFile ~/c']))).sort(),
      ['CertificateFile', 'GSSAPIAuthentication'],
    )
    assert.throws(
      () => checkOptions(policy(withOpts(['ProxyUseFdpass yes', 'ProxyCommand x']))),
      /ProxyUseFdpass/,
    )
    assert.throws(() => checkOptions(policy(withOpts(['PubkeyAuthentication no']))), /public keys only/)
    assert.throws(
      () => checkOptions(policy(withOpts(['PreferredAuthentications password']))),
      /has no publickey/,
    )
  })

  it('maps algorithm restrictions onto what ssh2 implements, refusing an impossible one', () => {
    const ctx = (dump: Map<string, string[]>) => ({
      alias: 'h',
      home: '/home/u',
      env: {},
      expanded: true,
      policy: policy(dump),
    })
    assert.deepEqual(settingsFromDump(ctx(withOpts(['Ciphers aes256-ctr,aes128-ctr']))).algorithms.cipher, [
      'aes256-ctr',
      'aes128-ctr',
    ])
    assert.deepEqual(settingsFromDump(ctx(base)).algorithms, {}, 'defaults stay ssh2 defaults')
    assert.throws(
      () => settingsFromDump(ctx(withOpts(['KexAlgorithms sntrup761x25519-sha512@openssh.com']))),
      (err: Error) =>
        err instanceof UnsupportedSshOptionError && /none of the KexAlgorithms/.test(err.message),
    )
    assert.deepEqual(algorithmList('-aes*', ['aes128-ctr', 'chacha20-poly1305@openssh.com']), [
      'chacha20-poly1305@openssh.com',
    ])
    assert.deepEqual(algorithmList('^b', ['a', 'b']), ['b', 'a'])
    assert.deepEqual(algorithmList('+c', ['a']), ['a', 'c'])
  })

  it('expands IdentityFile tokens with $HOME and moves ssh-expanded paths there', () => {
    const dump = withOpts(['IdentityFile %d/.ssh/id_%h_%r', 'User bob', 'HostName real.example'])
    const pw = dump
      .get('userknownhostsfile')![0]!
      .split(' ')[0]!
      .replace(/\/\.ssh\/known_hosts$/, '')
    const s = settingsFromDump({
      alias: 'h',
      home: '/home/u',
      passwdHome: pw,
      env: {},
      expanded: true,
      policy: policy(dump),
    })
    assert.deepEqual(s.identityFiles, ['/home/u/.ssh/id_real.example_bob'])
    assert.deepEqual(s.userKnownHostsFiles, ['/home/u/.ssh/known_hosts', '/home/u/.ssh/known_hosts2'])
  })

  it('docs/storage.md lists every option with the treatment the policy gives it', () => {
    const docs = readFileSync(new URL('../../../docs/storage.md', import.meta.url), 'utf8')
    const rows = new Map(
      docs
        .split('\n')
        .filter((l) => l.startsWith('| **'))
        .map((l) => [l.slice(4, l.indexOf('**', 4)), l] as const),
    )
    const heading: Record<Treatment, string> = {
      honoured: 'Honoured',
      session: 'Not for a file transfer',
      hostkey: 'Host key check',
      auth: 'Login methods seb does not use',
      refused: 'Refused',
    }
    for (const [treatment, title] of Object.entries(heading) as [Treatment, string][]) {
      const row = rows.get(title)
      assert.ok(row, `no row "${title}"`)
      const written = [...row.matchAll(/`([A-Za-z0-9]+)(\*?)/g)].map((m) => ({
        name: m[1]!,
        prefix: m[2] === '*',
      }))
      for (const name of optionsTreated(treatment))
        assert.ok(
          written.some((w) => (w.prefix ? name.startsWith(w.name) : name === w.name)),
          `${name} (${treatment}) is not in its row of docs/storage.md`,
        )
    }
  })

  it('reads ProxyJump hops in every form ssh accepts', () => {
    assert.deepEqual(parseJumpSpec('me@gw:2222', 'h'), {
      user: 'me',
      host: 'gw',
      port: 2222,
      text: 'me@gw:2222',
    })
    assert.deepEqual(parseJumpSpec('ssh://gw', 'h'), {
      user: undefined,
      host: 'gw',
      port: undefined,
      text: 'ssh://gw',
    })
    assert.deepEqual(parseJumpSpec('[::1]:22', 'h'), {
      user: undefined,
      host: '::1',
      port: 22,
      text: '[::1]:22',
    })
    assert.throws(() => parseJumpSpec('-oEvil', 'h'), UsageError)
  })
})
