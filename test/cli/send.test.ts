import { createSocket, type Socket } from 'node:dgram';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseServer, runSend, SendUsageError, sendCommand } from '../../src/cli/send.js';
import { decodeDatagram } from '../../src/protocol/decode.js';
import { verifySignature } from '../../src/protocol/sign.js';
import type { Heartbeat } from '../../src/protocol/types.js';

interface Received {
  heartbeat: Heartbeat;
  at: number;
}

/** A real UDP server on an ephemeral port that decodes what it receives. */
interface Listener {
  server: string;
  received: Received[];
  waitFor(count: number, timeoutMs?: number): Promise<Received[]>;
}

let sockets: Socket[] = [];
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-send-'));
});

afterEach(() => {
  for (const socket of sockets) socket.close();
  sockets = [];
  rmSync(dir, { recursive: true, force: true });
  vi.restoreAllMocks();
});

async function listen(type: 'udp4' | 'udp6', at: { host?: string; port?: number } = {}): Promise<Listener> {
  const socket = createSocket(type);
  sockets.push(socket);
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    const decoded = decodeDatagram(data);
    if (!decoded.ok) throw new Error(`received a bad datagram: ${decoded.detail}`);
    received.push({ heartbeat: decoded.value, at: performance.now() });
    for (const wake of waiters) wake();
  });
  const host = at.host ?? (type === 'udp4' ? '127.0.0.1' : '::1');
  await new Promise<void>((resolve) => socket.bind(at.port ?? 0, host, resolve));
  const { port } = socket.address();
  return {
    server: type === 'udp4' ? `${host}:${port}` : `[${host}]:${port}`,
    received,
    waitFor: (count, timeoutMs = 3000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (received.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(received);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`received ${received.length} of ${count} datagrams`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

async function sendOnce(listener: Listener, options: Parameters<typeof runSend>[0]): Promise<Heartbeat> {
  await runSend({ server: [listener.server], quiet: true, ...options });
  const [first] = await listener.waitFor(1);
  return first!.heartbeat;
}

describe('hbd send, one heartbeat', () => {
  it('sends host, ts (now, 3 decimals) and extra fields; no seq or every', async () => {
    const listener = await listen('udp4');
    const before = Date.now() / 1000;
    const hb = await sendOnce(listener, { host: 'web1', fields: ['rack=r7', 'load=0.42', 'note=a b'] });
    expect(hb).toMatchObject({
      host: 'web1',
      status: 'ok',
      fields: { rack: 'r7', load: '0.42', note: 'a b' },
    });
    expect(hb.seq).toBeUndefined();
    expect(hb.every).toBeUndefined();
    expect(hb.ts).toBeGreaterThanOrEqual(Math.floor(before * 1000) / 1000);
    expect(hb.ts).toBeLessThanOrEqual(Date.now() / 1000);
    expect(Math.round(hb.ts! * 1000)).toBeCloseTo(hb.ts! * 1000, 6);
  });

  it('signs, compresses and publishes over IPv6, with status, msg, key id and addresses', async () => {
    const listener = await listen('udp6');
    const hb = await sendOnce(listener, {
      host: 'Web1.Example.com',
      key: 'correct horse battery staple',
      keyId: 'k2025',
      status: 'warn',
      msg: 'disk "91%" full\nsoon',
      zlib: true,
      ip4: '192.0.2.7',
      ip6: '2001:db8::7',
    });
    expect(hb).toMatchObject({
      host: 'web1.example.com',
      status: 'warn',
      msg: 'disk "91%" full\nsoon',
      keyId: 'k2025',
      ip4: '192.0.2.7',
      ip6: '2001:db8::7',
      compressed: true,
    });
    expect(verifySignature(hb.signature!, 'correct horse battery staple')).toBe(true);
  });

  it('reads the secret from a key file, trimmed, and warns when others can read it', async () => {
    const listener = await listen('udp4');
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, '  s3cret\n', { mode: 0o600 });
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    const hb = await sendOnce(listener, { host: 'web1', keyFile, warn });
    expect(verifySignature(hb.signature!, 's3cret')).toBe(true);
    expect(warnings).toEqual([]);

    chmodSync(keyFile, 0o644);
    await runSend({ server: [listener.server], host: 'web1', keyFile, warn });
    expect(warnings).toEqual([expect.stringMatching(/key file .* can be read by other users/)]);
  });

  it('sends to every --server, IPv4 and IPv6 at once', async () => {
    const [v4, v6] = await Promise.all([listen('udp4'), listen('udp6')]);
    await runSend({ server: [v4.server, v6.server], host: 'web1' });
    const [[a], [b]] = await Promise.all([v4.waitFor(1), v6.waitFor(1)]);
    expect(a!.heartbeat.host).toBe('web1');
    expect(b!.heartbeat.host).toBe('web1');
  });

  it('names the host after the machine by default (its first label if the full name is not valid)', async () => {
    const listener = await listen('udp4');
    const hb = await sendOnce(listener, {});
    const name = hostname().toLowerCase();
    expect([name, name.split('.')[0]]).toContain(hb.host);
  });
});

describe('hbd send --every', () => {
  it('with --count 3 sends seq 1, 2, 3 with every=N, N seconds apart, then stops', async () => {
    const listener = await listen('udp4');
    await runSend({ server: [listener.server], host: 'web1', every: 0.2, count: 3 });
    const received = await listener.waitFor(3);
    expect(received.map((r) => [r.heartbeat.seq, r.heartbeat.every, r.heartbeat.status])).toEqual([
      [1, 0.2, 'ok'],
      [2, 0.2, 'ok'],
      [3, 0.2, 'ok'],
    ]);
    const gaps = received.slice(1).map((r, i) => r.at - received[i]!.at);
    for (const gap of gaps) expect(gap).toBeGreaterThan(150);
    expect(received.at(-1)!.at - received[0]!.at).toBeLessThan(1200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(listener.received).toHaveLength(3);
  });

  it('when stopped, sends a last status=bye with the next seq, then returns', async () => {
    const listener = await listen('udp4');
    const stop = new AbortController();
    const sending = runSend({
      server: [listener.server],
      host: 'web1',
      every: 0.1,
      signal: stop.signal,
      key: 'k',
    });
    await listener.waitFor(2);
    stop.abort();
    await sending;
    const received = await listener.waitFor(3);
    const last = received.at(-1)!.heartbeat;
    expect(last).toMatchObject({ status: 'bye', every: 0.1, seq: received.length });
    expect(verifySignature(last.signature!, 'k')).toBe(true);
  });

  it('with --no-bye, stops without a word, as a failing host would', async () => {
    const listener = await listen('udp4');
    const stop = new AbortController();
    const sending = runSend({
      server: [listener.server],
      host: 'web1',
      every: 0.1,
      signal: stop.signal,
      bye: false,
    });
    await listener.waitFor(2);
    stop.abort();
    await sending;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(listener.received.length).toBeGreaterThanOrEqual(2);
    expect(listener.received.every((r) => r.heartbeat.status !== 'bye')).toBe(true);
  });
});

describe('hbd send: finding the server', () => {
  /** A name server stand-in: answers `hb.example.test` with whatever `answer` holds at the time. */
  function resolver(answer: { address: string | Error }) {
    const asked: string[] = [];
    const resolve = async (host: string) => {
      asked.push(host);
      if (answer.address instanceof Error) throw answer.address;
      return { address: answer.address, family: 4 };
    };
    return { resolve, asked };
  }
  const portOf = (listener: Listener) => Number(listener.server.split(':').at(-1));

  /** `hbd send --every 0.05 --server hb.example.test:PORT`, looking the name up every 100 ms. */
  function loopTo(port: number, answer: { address: string | Error }) {
    const { resolve, asked } = resolver(answer);
    const warnings: string[] = [];
    const stop = new AbortController();
    const sending = runSend({
      host: 'web1',
      server: [`hb.example.test:${port}`],
      every: 0.05,
      resolve,
      resolveEveryMs: 100,
      signal: stop.signal,
      warn: (message) => warnings.push(message),
      quiet: true,
    });
    return { sending, stop, asked, warnings };
  }

  it('one heartbeat to a name that does not resolve fails, naming the server', async () => {
    const { resolve } = resolver({ address: new Error('getaddrinfo ENOTFOUND hb.example.test') });
    await expect(runSend({ host: 'web1', server: ['hb.example.test'], resolve })).rejects.toThrow(
      /cannot resolve server "hb.example.test": getaddrinfo ENOTFOUND/,
    );
  });

  it('a loop follows a server whose name moves to another address', async () => {
    const before = await listen('udp4', { host: '127.0.0.1' });
    const after = await listen('udp4', { host: '127.0.0.2', port: portOf(before) });
    const answer = { address: '127.0.0.1' as string | Error };
    const { sending, stop, asked, warnings } = loopTo(portOf(before), answer);
    await before.waitFor(2);
    answer.address = '127.0.0.2';
    await after.waitFor(2);
    stop.abort();
    await sending;
    expect(asked.length).toBeGreaterThan(1);
    expect(asked.every((host) => host === 'hb.example.test')).toBe(true);
    expect(warnings).toContain('server "hb.example.test" now resolves to 127.0.0.2 (was 127.0.0.1)');
    // One sequence across both addresses: nothing was sent twice, and the move lost nothing.
    const seqs = [...before.received, ...after.received].map((r) => r.heartbeat.seq).sort((a, b) => a! - b!);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
  });

  it('a loop keeps the last address while the name does not resolve, and waits for a name never found', async () => {
    const listener = await listen('udp4');
    const answer = { address: new Error('getaddrinfo EAI_AGAIN hb.example.test') as string | Error };
    const { sending, stop, asked, warnings } = loopTo(portOf(listener), answer);
    // Not found yet (the network is not up at boot, say): each beat tries again and is not
    // sent, and the outage is told once, not at every beat.
    await vi.waitFor(() => expect(asked.length).toBeGreaterThanOrEqual(3), { timeout: 3000 });
    expect(warnings).toEqual([
      'cannot resolve server "hb.example.test": getaddrinfo EAI_AGAIN hb.example.test; still sending every 0.05 s',
    ]);
    expect(listener.received).toHaveLength(0);
    answer.address = '127.0.0.1';
    await listener.waitFor(2);
    await vi.waitFor(() =>
      expect(warnings.at(-1)).toMatch(/^sending to 127\.0\.0\.1:\d+ \(hb\.example\.test\) works again$/),
    );
    // The name server goes away: the address found last keeps being used.
    answer.address = new Error('getaddrinfo EAI_AGAIN hb.example.test');
    const sent = listener.received.length;
    await vi.waitFor(
      () =>
        expect(warnings.at(-1)).toMatch(/EAI_AGAIN hb\.example\.test; still sending to 127\.0\.0\.1:\d+$/),
      { timeout: 3000 },
    );
    await listener.waitFor(sent + 2);
    stop.abort();
    await sending;
    await vi.waitFor(() => expect(listener.received.at(-1)?.heartbeat.status).toBe('bye'));
  });
});

describe('hbd send: usage errors', () => {
  it.each<[string, Parameters<typeof runSend>[0], RegExp]>([
    ['--count without --every', { count: 3 }, /--count needs --every/],
    ['--key and --key-file', { key: 'a', keyFile: '/dev/null' }, /--key or --key-file, not both/],
    ['--key-id without a key', { keyId: 'k1' }, /--key-id needs --key/],
    ['an empty --key', { key: '' }, /--key is empty/],
    ['a missing key file', { keyFile: '/nonexistent/key' }, /cannot read key file/],
    ['a field without "="', { fields: ['rack'] }, /field "rack" is not key=value/],
    ['a field given twice', { fields: ['a=1', 'a=2'] }, /field "a" is given twice/],
    ['a field with a bad key', { fields: ['Rack=r7'] }, /extra field key "Rack" is invalid/],
    ['a field that is a hb/1 key', { fields: ['status=ok'] }, /"status" is a hb\/1 field/],
    ['a bad host name', { host: 'web_1' }, /invalid host name "web_1"/],
    ['a bad --ip4', { ip4: '300.1.1.1' }, /key "ip4"/],
    ['a msg over 1024 characters', { msg: 'm'.repeat(1025) }, /longer than 1024/],
    ['a bad --server port', { server: ['127.0.0.1:99999'] }, /port must be 1 to 65535/],
  ])('refuses %s', async (_, options, message) => {
    const sending = runSend({ host: 'web1', ...options });
    await expect(sending).rejects.toThrow(SendUsageError);
    await expect(sending).rejects.toThrow(message);
  });

  it('refuses an empty key file', async () => {
    const keyFile = join(dir, 'key');
    writeFileSync(keyFile, '\n', { mode: 0o600 });
    await expect(runSend({ host: 'web1', keyFile })).rejects.toThrow(/is empty/);
  });
});

describe('--server', () => {
  it.each([
    ['hb.example.com', { host: 'hb.example.com', port: 50003 }],
    ['hb.example.com:6000', { host: 'hb.example.com', port: 6000 }],
    ['192.0.2.1:6000', { host: '192.0.2.1', port: 6000 }],
    ['[::1]:6000', { host: '::1', port: 6000 }],
    ['[::1]', { host: '::1', port: 50003 }],
    ['::1', { host: '::1', port: 50003 }],
    ['2001:db8::1', { host: '2001:db8::1', port: 50003 }],
  ])('reads %s', (spec, server) => {
    expect(parseServer(spec)).toEqual(server);
  });

  it.each(['', ':6000', '[::1', '[::1]6000', '[]:6000', 'host:', 'host:0', 'host:65536', 'host:http'])(
    'refuses %j',
    (spec) => {
      expect(() => parseServer(spec)).toThrow(SendUsageError);
    },
  );
});

describe('the send command', () => {
  class Exit extends Error {
    readonly code: number | undefined;
    constructor(code: number | undefined) {
      super(`exit ${code}`);
      this.code = code;
    }
  }

  function captureExit() {
    const stderr: string[] = [];
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exit(code === undefined || code === null ? undefined : Number(code));
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    return stderr;
  }

  it('parses the command line and sends', async () => {
    const listener = await listen('udp4');
    await sendCommand().parseAsync(
      ['--server', listener.server, '--host', 'web1', '--status', 'fail', '--key', 'k', 'rack=r7'],
      { from: 'user' },
    );
    const [first] = await listener.waitFor(1);
    expect(first!.heartbeat).toMatchObject({ host: 'web1', status: 'fail', fields: { rack: 'r7' } });
    expect(verifySignature(first!.heartbeat.signature!, 'k')).toBe(true);
  });

  it.each([
    ['a bad field', ['--host', 'web1', 'rack'], /^error: field "rack" is not key=value\n$/],
    ['an unknown option', ['--bogus'], /^error: unknown option '--bogus'/],
    ['a bad --every', ['--every', 'often'], /--every <seconds>.*often.*expected seconds > 0/],
    ['a bad --count', ['--every', '1', '--count', '0'], /--count <n>.*expected an integer > 0/],
    ['a bad --status', ['--status', 'down'], /--status.*down.*ok, warn, fail, bye/],
  ])('prints one line and exits 2 on %s', async (_, args, message) => {
    const stderr = captureExit();
    const parsing = sendCommand().parseAsync(args, { from: 'user' });
    await expect(parsing).rejects.toEqual(new Exit(2));
    expect(stderr.join('')).toMatch(message);
    expect(stderr.join('').trimEnd().split('\n')).toHaveLength(1);
  });

  it('has help with examples', () => {
    let help = '';
    sendCommand()
      .configureOutput({ writeOut: (text) => (help += text) })
      .outputHelp();
    expect(help).toContain('--server <host[:port]>');
    expect(help).toContain('[fields...]');
    expect(help).toMatch(/Examples:\n {2}\$ hbd send /);
  });
});
