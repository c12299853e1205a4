import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { HBD, runHbd, useHbdSandbox } from '../helpers/cli.js';
import { eventually, getJson } from '../helpers/daemon.js';

const sandbox = useHbdSandbox('hbd-cli-');

function writeConfig(extra = ''): string {
  const path = join(sandbox.dir, 'hb.yaml');
  writeFileSync(
    path,
    `hb_host: 127.0.0.1\nhb_port: 0\nhbd_port: 0\npickfile: state.sqlite\nlogfmt: json\n${extra}`,
  );
  return path;
}

interface Host {
  name: string;
  state: string;
  msg: string | null;
}

describe('hbd (the command line)', () => {
  it('runs as a program of its own, as `npx hbd` runs it: the built bin is executable', async () => {
    const help = await new Promise<{ code: number | null; stdout: string }>((resolve, reject) => {
      execFile(HBD, ['--help'], (error, stdout) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ code: error ? Number(error.code) : 0, stdout });
      });
    });
    expect(help).toEqual({ code: 0, stdout: expect.stringContaining('Usage: hbd') });
  });

  it("says its own version, whatever package's npm script runs it", async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const result = await runHbd(['--version'], { npm_package_version: '9.9.9' });
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('has help for every subcommand', async () => {
    const top = await runHbd(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['serve', 'send', 'keygen', 'check-config', 'hosts']) {
      expect(top.stdout).toContain(command);
      const help = await runHbd([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: hbd ${command}`);
    }
  });

  it('keygen prints a strong, fresh secret', async () => {
    const [a, b] = await Promise.all([runHbd(['keygen']), runHbd(['keygen'])]);
    expect(a.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(a.stdout).not.toBe(b.stdout);
  });

  it('check-config accepts a good file and lists every problem of a bad one', async () => {
    const good = await runHbd(['check-config', '-c', writeConfig()]);
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('ok:');
    const bad = writeConfig('interval: soon\nauth: maybe\nhb_prot: 1\n');
    const result = await runHbd(['check-config', '-c', bad]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('hb.yaml:6: interval:');
    expect(result.stderr).toContain('hb.yaml:7: auth:');
    expect(result.stderr).toMatch(/hb_prot.*did you mean "hb_port"/);
  });

  it('check-config also reads the DNS key file, as serve would', async () => {
    const result = await runHbd([
      'check-config',
      '-c',
      writeConfig('dyndomains: [dyn.example.test]\ndns: {tsig_file: missing.key}\n'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/dns\.tsig_file: cannot read .*missing\.key/);
  });

  it('serve refuses to start on a bad config, naming the problem', async () => {
    const result = await runHbd(['serve', '-c', writeConfig('udp_rcvbuf: lots\n')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/hb\.yaml:6: udp_rcvbuf: expected an integer/);
  });

  it('`hbd -c FILE -f -v` serves; `hbd send` beats; `hbd hosts` shows it; SIGTERM stops it quickly', async () => {
    const running = await sandbox.serve(['-c', writeConfig(), '-f', '-v']);
    const sent = await runHbd([
      'send',
      '--server',
      `127.0.0.1:${running.udpPort}`,
      '--host',
      'web1',
      '--msg',
      'hello from the cli',
      'rack=r7',
    ]);
    expect(sent.code).toBe(0);
    await eventually(async () => {
      const { body } = await getJson<Host[]>(`${running.httpUrl}/api/hosts`);
      expect(body).toEqual([
        expect.objectContaining({ name: 'web1', state: 'up', msg: 'hello from the cli' }),
      ]);
    }, 2000);
    const table = await runHbd(['hosts', '--url', running.httpUrl]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^HOST\s+STATE\s+STATUS\s+ADDRESS\s+LAST SEEN\s+MESSAGE$/m);
    expect(table.stdout).toMatch(/^web1\s+up\s+ok\s+127\.0\.0\.1\s+\d+s ago\s+hello from the cli$/m);

    const stopAsked = Date.now();
    running.process.kill('SIGTERM');
    expect(await running.exited).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(2000);
  });

  it('after kill -9 and a restart, every reported transition and the host are still there', async () => {
    const config = writeConfig('grace: 0.5\n');
    let running = await sandbox.serve(['serve', '-c', config]);
    const ws = new WebSocket(`${running.httpUrl.replace('http', 'ws')}/ws`);
    const reported: { type: string; to?: string }[] = [];
    ws.on('message', (data) => reported.push(JSON.parse(String(data))));
    await runHbd([
      'send',
      '--server',
      `127.0.0.1:${running.udpPort}`,
      '--host',
      'db1',
      '--every',
      '0.5',
      '--count',
      '1',
    ]);
    await eventually(
      () =>
        expect(reported.filter((f) => f.type === 'event').map((f) => f.to)).toEqual(['up', 'late', 'down']),
      5000,
    );
    ws.close();
    running.process.kill('SIGKILL');
    await running.exited;

    running = await sandbox.serve(['serve', '-c', config]);
    const { body } = await getJson<Host & { events: { to: string }[] }>(`${running.httpUrl}/api/hosts/db1`);
    expect(body.state).toBe('down');
    expect(body.events.map((e) => e.to)).toEqual(['down', 'late', 'up']);
  });

  it('a heartbeat accepted just before kill -9 keeps its last-seen time and cannot be replayed after the restart', async () => {
    const secret = 'a-secret-for-the-replay-test';
    const config = writeConfig(`keys: {web1: ${secret}}\n`);
    let running = await sandbox.serve(['serve', '-c', config]);
    const socket = dgram.createSocket('udp4');
    const send = (datagram: Buffer, port: number) =>
      new Promise<void>((resolve) => socket.send(datagram, port, '127.0.0.1', () => resolve()));
    const metric = async (name: string) => {
      const text = await (await fetch(`${running.httpUrl}/metrics`)).text();
      return Number(text.match(new RegExp(`^${name} (\\d+)$`, 'm'))?.[1]);
    };
    // The first heartbeat creates the host, which is stored at once; the second changes only
    // its timing, which the store gets in its next routine cycle: until then only the replay log has it.
    await send(encodeHeartbeat({ host: 'web1', ts: Date.now() / 1000 - 1 }, { secret }), running.udpPort);
    await eventually(async () => expect(await metric('hbd_heartbeats_accepted_total')).toBe(1), 2000);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const datagram = encodeHeartbeat({ host: 'web1', ts: Date.now() / 1000 }, { secret });
    await send(datagram, running.udpPort);
    await eventually(async () => expect(await metric('hbd_heartbeats_accepted_total')).toBe(2), 2000);
    // The log is written before hbd's next event-loop turn; the API may answer within the same turn.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = await getJson<Host & { last_seen: string }>(`${running.httpUrl}/api/hosts/web1`);
    running.process.kill('SIGKILL');
    await running.exited;

    running = await sandbox.serve(['serve', '-c', config]);
    const after = await getJson<Host & { last_seen: string }>(`${running.httpUrl}/api/hosts/web1`);
    expect(after.body.last_seen).toBe(before.body.last_seen);
    await send(datagram, running.udpPort);
    await eventually(async () => expect(await metric('hbd_datagrams_received_total')).toBe(1), 2000);
    expect(await metric('hbd_heartbeats_accepted_total')).toBe(0);
    socket.close();
  });

  it('SIGHUP reloads the config: live keys apply, the rest are named as needing a restart', async () => {
    const config = writeConfig();
    const running = await sandbox.serve(['serve', '-c', config]);
    writeFileSync(
      config,
      'hb_host: 127.0.0.1\nhb_port: 1\nhbd_port: 0\npickfile: state.sqlite\nlogfmt: json\ninterval: 5\n',
    );
    running.process.kill('SIGHUP');
    const applied = await running.waitForLog((l) => String(l.msg).startsWith('config reloaded'));
    expect(applied.applied).toEqual(['interval']);
    const restart = await running.waitForLog((l) => String(l.msg).startsWith('restart hbd to apply'));
    expect(restart.needRestart).toEqual(['hb_port']);

    writeFileSync(config, 'interval: -1\n');
    running.process.kill('SIGHUP');
    await running.waitForLog((l) => String(l.msg).startsWith('config reload refused'));
    expect(running.process.exitCode).toBeNull();
  });

  it('SIGHUP with a log file that cannot be reopened says so, and hbd keeps running and reloading', async () => {
    const logs = join(sandbox.dir, 'logs');
    mkdirSync(logs);
    const config = writeConfig('logfile: logs/hbd.log\n');
    const child = spawn(process.execPath, [HBD, 'serve', '-c', config], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const logFile = (dir: string) => join(dir, 'hbd.log');
    const logText = (dir: string) => (existsSync(logFile(dir)) ? readFileSync(logFile(dir), 'utf8') : '');
    try {
      await eventually(() => expect(logText(logs)).toMatch(/listening for heartbeats/), 10_000);
      // Where the log directory was, a file: the log can be neither reopened nor made anew.
      renameSync(logs, `${logs}.1`);
      writeFileSync(logs, '');
      child.kill('SIGHUP');
      await eventually(() => expect(stderr).toMatch(/^hbd: cannot reopen the log file .*hbd\.log: /m), 5000);
      await eventually(() => expect(logText(`${logs}.1`)).toMatch(/config reloaded/), 5000);
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
