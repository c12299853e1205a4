/**
 * contrib/hbd-send.sh, the sender for hosts without Node: under dash, bash and BusyBox's sh,
 * sending with socat, OpenBSD's nc and bash's /dev/udp, to a real hbd (Debian's BusyBox has no UDP
 * nc: the sender refuses it clearly, and BusyBox runs send with socat).
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { sendCommand } from '../../src/cli/send.js';
import { decodeDatagram } from '../../src/protocol/decode.js';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { verifySignature } from '../../src/protocol/sign.js';
import { eventually, getJson, startTestDaemon, type TestConfig, type TestDaemon } from '../helpers/daemon.js';
import {
  binDir,
  busyboxBaseTools,
  busyboxNcHasUdp,
  itWithTools,
  openbsdNc,
  runScript,
  startScript,
  systemBaseTools,
  tempDir,
  which,
  writeKeyFile,
} from './shell-harness.js';

const SECRET = 'shell-sender-secret-with-6-and-\\-in-it';
/** Conditions wait this long: the suite must pass with CPU hogs beside it. */
const PATIENCE_MS = 15_000;
const LOOP_TIMEOUT_MS = 40_000;

const paths = {
  dash: which('dash'),
  bash: which('bash'),
  busybox: which('busybox'),
  socat: which('socat'),
  openssl: which('openssl'),
  openbsdNc: openbsdNc(),
};

function missing(needs: Array<keyof typeof paths>): string | undefined {
  const absent = needs.filter((need) => paths[need] === undefined);
  if (absent.length === 0) return undefined;
  const names: Record<keyof typeof paths, string> = {
    dash: 'dash',
    bash: 'bash',
    busybox: 'busybox',
    socat: 'socat',
    openssl: 'openssl',
    openbsdNc: "OpenBSD's nc",
  };
  return `needs ${absent.map((need) => names[need]).join(', ')}`;
}

const DASH = () => [paths.dash!];
const BASH = () => [paths.bash!];
const BUSYBOX_SH = () => [paths.busybox!, 'sh'];

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function startHbd(config: TestConfig = {}): Promise<TestDaemon> {
  hbd = await startTestDaemon(config);
  return hbd;
}

interface HostBody {
  name: string;
  state: string;
  status: string;
  msg: string | null;
  fields: Record<string, string>;
  interval: number;
}

async function hostOf(daemon: TestDaemon, name: string): Promise<HostBody | undefined> {
  const { status, body } = await getJson<HostBody>(daemon.url(`/api/hosts/${name}`));
  return status === 200 ? body : undefined;
}

function waitForHost(daemon: TestDaemon, name: string, expected: Partial<HostBody>): Promise<HostBody> {
  return eventually(async () => {
    const host = await hostOf(daemon, name);
    expect(host).toMatchObject(expected);
    return host!;
  }, PATIENCE_MS);
}

async function metric(daemon: TestDaemon, line: string): Promise<number> {
  const text = await (await fetch(daemon.url('/metrics'))).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.split(' ')[1]);
}

function sentLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => line.startsWith('sent '));
}

/** One way a host without Node sends: a shell, a transport, and the PATH that offers it. */
interface Run {
  id: string;
  title: string;
  needs: Array<keyof typeof paths>;
  shell: () => string[];
  transport: 'socat' | 'nc' | 'bash';
  /** PATH for the run; undefined: this machine's. */
  path: () => string | undefined;
  ipv6?: boolean;
}

const RUNS: Run[] = [
  {
    id: 'dash-socat',
    title: 'dash with socat, over IPv6',
    needs: ['dash', 'socat', 'openssl'],
    shell: DASH,
    transport: 'socat',
    path: () => undefined,
    ipv6: true,
  },
  {
    id: 'dash-nc',
    title: "dash with OpenBSD's nc",
    needs: ['dash', 'openbsdNc', 'openssl'],
    shell: DASH,
    transport: 'nc',
    path: () => binDir({ ...systemBaseTools(), nc: paths.openbsdNc! }),
  },
  {
    id: 'bash-devudp',
    title: "bash with bash's /dev/udp",
    needs: ['bash', 'openssl'],
    shell: BASH,
    transport: 'bash',
    path: () => binDir(systemBaseTools()),
  },
  {
    id: 'busybox-socat',
    title: "busybox sh with socat and only BusyBox's tools (date without %N)",
    needs: ['busybox', 'socat', 'openssl'],
    shell: BUSYBOX_SH,
    transport: 'socat',
    path: () => binDir({ ...busyboxBaseTools(paths.busybox!), socat: paths.socat! }),
  },
];

/** The --server a run sends to, as the script also writes it in its output. */
function serverOf(run: Run, daemon: TestDaemon): string {
  const port = daemon.daemon.udp.port;
  return run.ipv6 ? `[::1]:${port}` : `127.0.0.1:${port}`;
}

// Over 4096 bytes in all, so a transport that wrote in 4 KiB pieces would send two datagrams.
const MSG = `disk "91%" full, says \\"df\\"\tand more: ${'é'.repeat(900)}`;
const FIELDS = Object.fromEntries(
  Array.from({ length: 12 }, (_, i) => [`label${i}`, `value ${i} ${'x'.repeat(200)}`]),
);
const FIELD_ARGS = Object.entries(FIELDS).map(([key, value]) => `${key}=${value}`);

describe.each(RUNS)('hbd-send.sh: $title', (run) => {
  for (const signed of [true, false]) {
    const kind = signed ? 'signed' : 'unsigned';
    itWithTools(
      missing(run.needs),
      `${signed ? 'a signed' : 'an unsigned'} heartbeat shows on hbd with its status, msg and fields`,
      async () => {
        const host = `${run.id}-${kind}`;
        const daemon = await startHbd({
          hb_host: run.ipv6 ? '::' : '127.0.0.1',
          // A host with a key is accepted only signed; the unsigned one comes from loopback.
          keys: { [`${run.id}-signed`]: SECRET },
          limits: { host_bytes: 16_384 },
        });
        const server = serverOf(run, daemon);
        const keyArgs = signed ? ['--key-file', writeKeyFile(SECRET)] : [];
        const args = ['--server', server, '--host', host.toUpperCase(), '--transport', run.transport];
        args.push('--status', 'warn', '--msg', MSG, ...keyArgs, ...FIELD_ARGS);

        const result = await runScript(run.shell(), args, run.path());

        expect(result).toMatchObject({
          code: 0,
          stderr: '',
          stdout: `sent ${host} status=warn to ${server} (${kind})\n`,
        });
        await waitForHost(daemon, host, { state: 'up', status: 'warn', msg: MSG, fields: FIELDS });
        expect(await metric(daemon, 'hbd_datagrams_received_total')).toBe(1);
      },
    );
  }
});

describe.each(RUNS.filter((run) => run.transport !== 'nc' || run.id === 'dash-nc'))(
  'hbd-send.sh --every: $title',
  (run) => {
    itWithTools(
      missing(run.needs),
      'counts seq up, and on SIGTERM says bye (the host is left) and exits 0',
      async () => {
        const host = `${run.id}-loop`;
        const daemon = await startHbd({ hb_host: run.ipv6 ? '::' : '127.0.0.1', keys: { [host]: SECRET } });
        const server = serverOf(run, daemon);
        const args = ['--server', server, '--host', host, '--transport', run.transport, '--every', '1'];
        const sender = startScript(run.shell(), [...args, '--key-file', writeKeyFile(SECRET)], run.path());

        // Two beats sent: the loop now sleeps, which is where a signal usually finds it.
        await eventually(() => expect(sender.stdout()).toContain(' seq=2 '), PATIENCE_MS);
        await waitForHost(daemon, host, { state: 'up', status: 'ok', interval: 1 });
        sender.child.kill('SIGTERM');
        const result = await sender.finished;

        expect(result).toMatchObject({ code: 0, stderr: '' });
        const lines = sentLines(result.stdout);
        expect(lines.slice(0, 2)).toEqual([
          `sent ${host} status=ok seq=1 to ${server} (signed)`,
          `sent ${host} status=ok seq=2 to ${server} (signed)`,
        ]);
        expect(lines.at(-1)).toBe(`sent ${host} status=bye seq=${lines.length} to ${server} (signed)`);
        await waitForHost(daemon, host, { state: 'left', status: 'bye' });
      },
      LOOP_TIMEOUT_MS,
    );
  },
);

describe('hbd-send.sh --every, and what goes wrong while sending', () => {
  itWithTools(
    missing(['dash', 'openbsdNc']),
    'with --no-bye, SIGTERM ends the loop without bye: the host stays up',
    async () => {
      const daemon = await startHbd();
      const server = `127.0.0.1:${daemon.daemon.udp.port}`;
      const path = binDir({ ...systemBaseTools(), nc: paths.openbsdNc! });
      const args = ['--server', server, '--host', 'nobye', '--transport', 'nc', '--every', '1', '--no-bye'];
      const sender = startScript(DASH(), args, path);

      await eventually(() => expect(sender.stdout()).toContain(' seq=2 '), PATIENCE_MS);
      sender.child.kill('SIGTERM');
      const result = await sender.finished;

      expect(result).toMatchObject({ code: 0, stderr: '' });
      const sent = sentLines(result.stdout);
      expect(sent.every((line) => line.includes(' status=ok '))).toBe(true);
      // Every datagram sent has arrived: nothing after them can still say bye.
      await eventually(
        async () => expect(await metric(daemon, 'hbd_datagrams_received_total')).toBe(sent.length),
        PATIENCE_MS,
      );
      expect(await hostOf(daemon, 'nobye')).toMatchObject({ state: 'up', status: 'ok' });
    },
    LOOP_TIMEOUT_MS,
  );

  itWithTools(
    missing(['dash', 'socat']),
    'a server that cannot be reached is one warning, and the loop goes on to the others',
    async () => {
      const daemon = await startHbd();
      const server = `127.0.0.1:${daemon.daemon.udp.port}`;
      // The kernel refuses a broadcast without SO_BROADCAST: a send that fails without leaving the machine.
      const unreachable = '255.255.255.255:9';
      const args = ['--server', unreachable, '--server', server, '--host', 'partial', '--every', '0.2'];
      const sender = startScript(DASH(), [...args, '--transport', 'socat']);

      await eventually(() => expect(sender.stdout()).toContain(' seq=4 '), PATIENCE_MS);
      expect(sender.child.exitCode).toBeNull();
      sender.child.kill('SIGTERM');
      const result = await sender.finished;

      expect(result.code).toBe(0);
      const warnings = result.stderr.split('\n').filter((line) => line !== '');
      expect(warnings).toEqual([
        expect.stringMatching(
          /^warning: cannot send to 255\.255\.255\.255:9: .*Permission denied; still sending every 0\.2 s$/,
        ),
      ]);
      expect(sentLines(result.stdout)[0]).toBe(`sent partial status=ok seq=1 to ${server} (unsigned)`);
      await waitForHost(daemon, 'partial', { state: 'left', status: 'bye' });
    },
    LOOP_TIMEOUT_MS,
  );

  itWithTools(
    missing(['dash', 'socat']),
    'a single heartbeat that cannot reach a server exits 1, after sending to the others',
    async () => {
      const daemon = await startHbd();
      const server = `127.0.0.1:${daemon.daemon.udp.port}`;
      const args = [
        '--server',
        '255.255.255.255:9',
        '--server',
        server,
        '--host',
        'once',
        '--transport',
        'socat',
      ];

      const result = await runScript(DASH(), args);

      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^error: cannot send to 255\.255\.255\.255:9: .*Permission denied\n$/);
      expect(result.stdout).toBe(`sent once status=ok to ${server} (unsigned)\n`);
      await waitForHost(daemon, 'once', { state: 'up' });
    },
  );

  itWithTools(
    missing(['dash', 'socat']),
    'hbd drops a heartbeat signed with the wrong key as auth',
    async () => {
      const daemon = await startHbd({ keys: { web1: SECRET } });
      const server = `127.0.0.1:${daemon.daemon.udp.port}`;
      const args = ['--server', server, '--host', 'web1', '--key-file', writeKeyFile('not-the-secret')];

      const result = await runScript(DASH(), args);

      expect(result).toMatchObject({ code: 0, stdout: `sent web1 status=ok to ${server} (signed)\n` });
      await eventually(
        async () => expect(await metric(daemon, 'hbd_datagrams_dropped_total{reason="auth"}')).toBe(1),
        PATIENCE_MS,
      );
      expect(await hostOf(daemon, 'web1')).toBeUndefined();
    },
  );
});

describe('hbd-send.sh picks a transport', () => {
  itWithTools(missing(['dash']), 'without socat, nc or bash it says what to install, exit 2', async () => {
    const result = await runScript(DASH(), ['--host', 'web1'], binDir(systemBaseTools()));

    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^error: no way to send UDP here: install socat or netcat-openbsd/);
  });

  itWithTools(missing(['dash', 'openbsdNc']), "without socat it sends with OpenBSD's nc", async () => {
    const daemon = await startHbd();
    const path = binDir({ ...systemBaseTools(), nc: paths.openbsdNc! });

    const result = await runScript(
      DASH(),
      ['--server', `127.0.0.1:${daemon.daemon.udp.port}`, '--host', 'vianc'],
      path,
    );

    expect(result).toMatchObject({ code: 0, stderr: '' });
    await waitForHost(daemon, 'vianc', { state: 'up' });
  });

  itWithTools(
    missing(['bash']),
    "without socat or nc, under bash, it sends with bash's /dev/udp",
    async () => {
      const daemon = await startHbd();

      const result = await runScript(
        BASH(),
        ['--server', `127.0.0.1:${daemon.daemon.udp.port}`, '--host', 'viabash'],
        binDir(systemBaseTools()),
      );

      expect(result).toMatchObject({ code: 0, stderr: '' });
      await waitForHost(daemon, 'viabash', { state: 'up' });
    },
  );

  itWithTools(missing(['dash', 'busybox']), "uses BusyBox's nc only when it was built with UDP", async () => {
    const daemon = await startHbd();
    const path = binDir({ ...systemBaseTools(), nc: paths.busybox! });
    const args = [
      '--server',
      `127.0.0.1:${daemon.daemon.udp.port}`,
      '--host',
      'viabusybox',
      '--transport',
      'nc',
    ];

    const result = await runScript(DASH(), args, path);

    if (busyboxNcHasUdp(paths.busybox!)) {
      expect(result).toMatchObject({ code: 0, stderr: '' });
      await waitForHost(daemon, 'viabusybox', { state: 'up' });
    } else {
      expect(result).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toMatch(/^error: --transport nc: no nc that sends UDP/);
    }
  });

  itWithTools(missing(['dash']), '--transport bash under another shell is refused, exit 2', async () => {
    const result = await runScript(DASH(), ['--host', 'web1', '--transport', 'bash']);

    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(/^error: --transport bash: run this script with bash/);
  });
});

const VECTOR =
  'host=web1 ts=1764080000.123 seq=42 every=30 status=ok msg="disk 71% full" load=0.42 ' +
  'sig=4bf14434620a61cd4e1e05cb64cbfe01d53013bdf519123fc63ecee2e14ac79b';

const SHELLS: Array<{ name: string; needs: Array<keyof typeof paths>; shell: () => string[] }> = [
  { name: 'dash', needs: ['dash', 'openssl'], shell: DASH },
  { name: 'bash', needs: ['bash', 'openssl'], shell: BASH },
  { name: 'busybox sh', needs: ['busybox', 'openssl'], shell: BUSYBOX_SH },
];

describe.each(SHELLS)('hbd-send.sh under $name', ({ needs, shell }) => {
  itWithTools(missing(needs), 'signs the test vector of PROTOCOL.md exactly', async () => {
    const keyFile = writeKeyFile('correct horse battery staple');
    const args = [
      '--dry-run',
      '--host',
      'web1',
      '--key-file',
      keyFile,
      '--ts',
      '1764080000.123',
      '--seq',
      '42',
    ];
    args.push('--every', '30', '--count', '1', '--status', 'ok', '--msg', 'disk 71% full', 'load=0.42');

    const result = await runScript(shell(), args);

    expect(result).toEqual({ code: 0, signal: null, stdout: `${VECTOR}\n`, stderr: '' });
  });

  itWithTools(missing(needs), "writes what hbd send's encoder writes, for awkward values", async () => {
    const awkward = {
      spaced: 'a b',
      quoted: 'say "hi"',
      backslash: 'back\\slash',
      both: 'back\\slash and "quote"',
      tab: 'tab\there',
      lines: 'line 1\nline 2',
      cr: 'cr\rhere',
      ff: 'ff\fhere',
      empty: '',
      equals: 'a=b',
      unicode: 'ünïcödé 🎉 ok',
      trailing: 'trailing ',
      single: "it's",
    };
    const input: HeartbeatInput = {
      host: 'web1.example.com',
      ts: 1764080000.5,
      seq: 7,
      every: 2.5,
      status: 'fail',
      msg: 'disk "91%" full\n\tsee \\\\server\\share',
      ip4: '192.0.2.7',
      ip6: '2001:db8::7',
      keyId: 'k2026',
      fields: awkward,
    };
    const args = ['--dry-run', '--host', 'Web1.Example.com', '--ts', '1764080000.5', '--seq', '7'];
    args.push('--every', '2.50', '--count', '1', '--status', 'fail', '--msg', input.msg!);
    args.push('--ip4', '192.0.2.7', '--ip6', '2001:db8::7', '--key-id', 'k2026', '--key', SECRET);
    args.push(...Object.entries(awkward).map(([key, value]) => `${key}=${value}`));

    const result = await runScript(shell(), args);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`${encodeHeartbeat(input, { secret: SECRET }).toString('utf8')}\n`);
  });

  itWithTools(
    missing(needs),
    'reads the key file as hbd send does: surrounding whitespace ignored; others reading it is a warning',
    async () => {
      const keyFile = writeKeyFile(`  \t${SECRET} \n`);
      const args = ['--dry-run', '--host', 'web1', '--key-file', keyFile];

      const quiet = await runScript(shell(), args);
      chmodSync(keyFile, 0o644);
      const warned = await runScript(shell(), args);

      for (const result of [quiet, warned]) {
        expect(result.code).toBe(0);
        const decoded = decodeDatagram(Buffer.from(result.stdout.trimEnd()));
        if (!decoded.ok) throw new Error(decoded.detail);
        expect(verifySignature(decoded.value.signature!, SECRET)).toBe(true);
      }
      expect(quiet.stderr).toBe('');
      expect(warned.stderr).toBe(
        `warning: key file ${keyFile} can be read by other users than its owner (chmod 600 ${keyFile})\n`,
      );
    },
  );

  itWithTools(
    missing([...needs, 'socat']),
    'never gives the secret to another program, on its command line or in its environment',
    async () => {
      const daemon = await startHbd({ keys: { web1: SECRET } });
      const log = join(tempDir('hbd-send-spy-'), 'exec.log');
      // Each tool the script may run is a wrapper that writes down how it was run, then runs the tool;
      // printf is among them, to see that the shell's own printf is the one used.
      const wrappers = tempDir('hbd-send-wrappers-');
      const tools = {
        ...systemBaseTools(),
        socat: paths.socat!,
        printf: which('printf') ?? '/usr/bin/printf',
      };
      for (const [name, target] of Object.entries(tools)) {
        const wrapper = join(wrappers, name);
        const record = `{ printf '%s\\n' "${name} $*"; export -p; } >>'${log}'`;
        writeFileSync(wrapper, `#!/bin/sh\n${record}\nexec '${target}' "$@"\n`, { mode: 0o755 });
      }
      const args = ['--server', `127.0.0.1:${daemon.daemon.udp.port}`, '--host', 'web1'];

      const result = await runScript(shell(), [...args, '--key-file', writeKeyFile(SECRET)], wrappers);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      await waitForHost(daemon, 'web1', { state: 'up' });
      const recorded = readFileSync(log, 'utf8');
      expect(recorded).toContain('openssl dgst -sha256');
      // Neither the secret nor the HMAC pad made from it, in any form a script could hand on.
      const secret = Buffer.from(SECRET);
      const innerPad = Buffer.from(Buffer.alloc(64, 0x36).map((byte, i) => byte ^ (secret[i] ?? 0)));
      const octal = [...innerPad].map((byte) => `\\${byte.toString(8).padStart(3, '0')}`).join('');
      for (const form of [SECRET, secret.toString('hex'), innerPad.toString('hex'), octal]) {
        expect(recorded).not.toContain(form);
      }
      expect(recorded).not.toMatch(/^printf /m);
    },
  );
});

describe('hbd-send.sh on BusyBox alone', () => {
  itWithTools(
    missing(['busybox', 'openssl']),
    'makes every ts later than the last, with whole seconds from a date without %N',
    async () => {
      const path = binDir(busyboxBaseTools(paths.busybox!));
      const args = ['--dry-run', '--host', 'web1', '--every', '0.1', '--count', '5', '--key', SECRET];

      const result = await runScript(BUSYBOX_SH(), args, path);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      const stamps = result.stdout
        .trimEnd()
        .split('\n')
        .map((line) => /\bts=(\S+)/.exec(line)![1]!);
      expect(stamps).toHaveLength(5);
      for (const stamp of stamps) expect(stamp).toMatch(/^\d+(\.\d{1,3})?$/);
      const values = stamps.map(Number);
      for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThan(values[i - 1]!);
    },
  );
});

describe('hbd-send.sh refuses bad input with exit 2 and one line saying why', () => {
  const keyDir = () => tempDir('hbd-send-bad-');
  const cases: Array<[string, () => string[], RegExp]> = [
    [
      'a missing key file',
      () => ['--key-file', '/nonexistent/hbd.key'],
      /cannot read key file: .*no such file/,
    ],
    [
      'an empty key file',
      () => {
        const path = join(keyDir(), 'key');
        writeFileSync(path, ' \n', { mode: 0o600 });
        return ['--key-file', path];
      },
      /key file .* is empty/,
    ],
    ['both --key and --key-file', () => ['--key', 'a', '--key-file', writeKeyFile('b')], /not both/],
    ['an empty --key', () => ['--key', ''], /--key is empty/],
    ['--key-id without a key', () => ['--key-id', 'k1'], /--key-id needs --key or --key-file/],
    ['a --key-id with a space', () => ['--key', 'a', '--key-id', 'k 1'], /--key-id must be/],
    ['port 0', () => ['--server', '127.0.0.1:0'], /port must be 1 to 65535/],
    ['an unclosed IPv6 bracket', () => ['--server', '[::1:50003'], /expected \[ipv6\]:port/],
    ['a bad server name', () => ['--server', 'bad_name:50003'], /is not a host name or address/],
    ['a bad host name', () => ['--host', '-web1'], /invalid host name "-web1"/],
    ['a bad status', () => ['--status', 'great'], /--status must be ok, warn, fail or bye/],
    ['--every 0', () => ['--every', '0'], /--every: expected seconds > 0/],
    ['--count without --every', () => ['--count', '3'], /--count needs --every/],
    ['a msg over 1024 characters', () => ['--msg', 'é'.repeat(1025)], /--msg is longer than 1024 characters/],
    ['a field without =', () => ['rack'], /field "rack" is not key=value/],
    ['a bad field key', () => ['Rack=r7'], /extra field key "Rack" is invalid/],
    ['a hb/1 key as a field', () => ['status=ok'], /extra field "status" is a hb\/1 field/],
    ['a field given twice', () => ['rack=1', 'rack=2'], /field "rack" is given twice/],
    ['a field over 256 characters', () => [`rack=${'x'.repeat(257)}`], /longer than 256 characters/],
    ['--zlib', () => ['--zlib'], /--zlib: this sender cannot compress/],
    ['an unknown option', () => ['--colour'], /unknown option --colour/],
    ['an unknown transport', () => ['--transport', 'pigeon'], /--transport must be socat, nc or bash/],
  ];
  for (const [name, args, message] of cases) {
    itWithTools(missing(['dash', 'openssl']), name, async () => {
      // Port 9 on loopback: should a bad input slip through, its datagram goes nowhere.
      const result = await runScript(DASH(), ['--server', '127.0.0.1:9', '--host', 'web1', ...args()]);

      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(new RegExp(`^error: [^\\n]*${message.source}[^\\n]*\\n$`));
    });
  }

  itWithTools(missing(['dash']), 'takes a msg of 1024 characters, however many bytes they are', async () => {
    const result = await runScript(DASH(), ['--dry-run', '--host', 'web1', '--msg', 'é'.repeat(1024)]);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(`msg=${'é'.repeat(1024)}\n`);
  });
});

describe('hbd-send.sh describes itself', () => {
  itWithTools(
    missing(['dash']),
    '--help names every option of hbd send but --zlib, and its own',
    async () => {
      const result = await runScript(DASH(), ['--help']);

      expect(result).toMatchObject({ code: 0, stderr: '' });
      const options = sendCommand()
        .options.map((option) => option.long!)
        .filter((long) => long !== '--zlib');
      for (const option of [...options, '--quiet', '--transport', '--dry-run']) {
        expect(result.stdout).toContain(option);
      }
    },
  );

  itWithTools(missing(['dash']), "--version says hbd's version", async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const result = await runScript(DASH(), ['--version']);

    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`^hbd-send\\.sh ${pkg.version.replaceAll('.', '\\.')} `));
  });
});
