import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSend, SendFailed } from '../../src/cli/send.js';
import { decodeDatagram } from '../../src/protocol/decode.js';
import { runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// The binary's tests run the built CLI (dist/).

const sockets: Socket[] = [];
let hbd: TestDaemon | undefined;
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await hbd?.stop();
  hbd = undefined;
});

/** A UDP socket on 127.0.0.1 that counts the heartbeats it gets; port 0 is any free one. */
async function udpListener(port = 0) {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const hosts: string[] = [];
  socket.on('message', (data) => {
    const decoded = decodeDatagram(data);
    if (decoded.ok) hosts.push(`${decoded.value.host} ${decoded.value.status}`);
  });
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return { port: socket.address().port, hosts };
}

/** A port where nothing listens: taken, then given back. */
async function closedPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

const refusedBy = (port: number) =>
  `cannot send to 127.0.0.1:${port}: connection refused (nothing listens on that UDP port: is hbd running there?)`;

describe('hbd send says what it did', () => {
  it('prints one line per heartbeat sent: host, status, seq, where to, signed or not', async () => {
    const { port } = await udpListener();
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    await runSend({ server: [`127.0.0.1:${port}`], host: 'Web1', print });
    await runSend({
      server: [`127.0.0.1:${port}`],
      host: 'web1',
      key: 'k',
      zlib: true,
      status: 'warn',
      print,
    });
    await runSend({ server: [`127.0.0.1:${port}`], host: 'web1', every: 0.05, count: 2, print });
    const resolve = async () => ({ address: '127.0.0.1', family: 4 });
    await runSend({ server: [`hb.example.test:${port}`], host: 'web1', resolve, print });
    expect(lines).toEqual([
      `sent web1 status=ok to 127.0.0.1:${port} (unsigned)`,
      `sent web1 status=warn to 127.0.0.1:${port} (signed, zlib)`,
      `sent web1 status=ok seq=1 to 127.0.0.1:${port} (unsigned)`,
      `sent web1 status=ok seq=2 to 127.0.0.1:${port} (unsigned)`,
      `sent web1 status=ok to 127.0.0.1:${port} (hb.example.test, unsigned)`,
    ]);
  });

  it('--quiet prints nothing', async () => {
    const listener = await udpListener();
    const print = vi.fn();
    await runSend({ server: [`127.0.0.1:${listener.port}`], host: 'web1', quiet: true, print });
    await eventually(() => expect(listener.hosts).toEqual(['web1 ok']));
    expect(print).not.toHaveBeenCalled();
  });

  it('one heartbeat to a port where nothing listens fails, naming the server; the others still get theirs', async () => {
    const listener = await udpListener();
    const port = await closedPort();
    const lines: string[] = [];
    const sending = runSend({
      server: [`127.0.0.1:${port}`, `127.0.0.1:${listener.port}`],
      host: 'web1',
      print: (line) => lines.push(line),
    });
    await expect(sending).rejects.toEqual(new SendFailed([refusedBy(port)]));
    expect(lines).toEqual([`sent web1 status=ok to 127.0.0.1:${listener.port} (unsigned)`]);
    await eventually(() => expect(listener.hosts).toEqual(['web1 ok']));
  });

  it('--every keeps going while nothing listens, says so once, and says when it works again', async () => {
    const port = await closedPort();
    const lines: string[] = [];
    const warnings: string[] = [];
    const stop = new AbortController();
    const sending = runSend({
      server: [`127.0.0.1:${port}`],
      host: 'web1',
      every: 0.05,
      signal: stop.signal,
      print: (line) => lines.push(line),
      warn: (message) => warnings.push(message),
    });
    await eventually(() => expect(lines.length).toBeGreaterThanOrEqual(6), 5000);
    expect(warnings).toEqual([`${refusedBy(port)}; still sending every 0.05 s`]);

    const listener = await udpListener(port);
    await eventually(() => expect(listener.hosts.length).toBeGreaterThanOrEqual(2), 5000);
    await eventually(() => expect(warnings.at(-1)).toBe(`sending to 127.0.0.1:${port} works again`), 5000);
    expect(warnings).toHaveLength(2);
    stop.abort();
    await sending;
    expect(lines.at(-1)).toMatch(
      new RegExp(`^sent web1 status=bye seq=\\d+ to 127\\.0\\.0\\.1:${port} \\(unsigned\\)$`),
    );
  });
});

describe('the hbd send binary', () => {
  it('prints what it sent to a running hbd, and exits 0', async () => {
    hbd = await startTestDaemon();
    const port = hbd.daemon.udp.port;
    const result = await runHbd([
      'send',
      '--server',
      `127.0.0.1:${port}`,
      '--host',
      'web1',
      '--msg',
      'hello',
    ]);
    expect(result).toEqual({
      code: 0,
      stdout: `sent web1 status=ok to 127.0.0.1:${port} (unsigned)\n`,
      stderr: '',
    });
    await eventually(async () =>
      expect((await getJson<{ msg: string }>(hbd!.url('/api/hosts/web1'))).body.msg).toBe('hello'),
    );
    const quiet = await runHbd(['send', '--server', `127.0.0.1:${port}`, '--host', 'web1', '--quiet']);
    expect(quiet).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('to a port where nothing listens: one clear line and exit 1', async () => {
    const port = await closedPort();
    const result = await runHbd(['send', '--server', `127.0.0.1:${port}`, '--host', 'web1']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `error: ${refusedBy(port)}\n` });
  });
});
