import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/server-process.js';

// These run the built CLI (dist/) against a real hbd.

/** Nagios's plugin return codes, which `hbd status` keeps to. */
const NAGIOS = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

/** Hosts named late* go late at once and stay late; down* go down at once; the rest stay up. */
async function fleet(): Promise<TestDaemon> {
  return startTestDaemon({
    interval: 3600,
    hosts: { 'late*': { interval: 0.2, grace: 3600 }, 'down*': { interval: 0.2, grace: 0 } },
  });
}

async function beat(host: string, status: 'ok' | 'warn' | 'fail' | 'bye' = 'ok', msg?: string) {
  await hbd!.send(encodeHeartbeat({ host, status, msg, ts: Date.now() / 1000 }, {}));
}

async function stateOf(host: string): Promise<string | undefined> {
  const { body } = await getJson<{ state?: string }>(hbd!.url(`/api/hosts/${host}`));
  return body.state;
}

const status = (...args: string[]) => runHbd(['status', '--url', hbd!.url(''), ...args]);

describe('hbd status', () => {
  it('exits 0, 1, 2 as the fleet gets worse, with a summary first and a line per host that is not well', async () => {
    hbd = await fleet();
    await beat('web1');
    await eventually(async () => expect(await stateOf('web1')).toBe('up'));
    expect(await status()).toEqual({ code: NAGIOS.OK, stdout: '1 host: 1 up\n', stderr: '' });

    await beat('warn1');
    await beat('warn1', 'warn', 'disk 91% full');
    await beat('left1', 'bye');
    await eventually(async () => expect(await stateOf('left1')).toBe('left'));
    const warning = await status();
    expect(warning.code).toBe(NAGIOS.WARNING);
    // A host that left said so on purpose: counted, not a problem.
    expect(warning.stdout).toMatch(
      /^3 hosts: 2 up, 1 left; 1 warn\nwarn1 {2}up, warn {2}warn for \d+s {2}disk 91% full\n$/,
    );

    await beat('late1');
    await eventually(async () => expect(await stateOf('late1')).toBe('late'), 5000);
    expect((await status()).code).toBe(NAGIOS.WARNING);

    await beat('down1');
    await beat('fail1', 'fail', 'raid degraded');
    await eventually(async () => expect(await stateOf('down1')).toBe('down'), 5000);
    const critical = await status();
    expect(critical.code).toBe(NAGIOS.CRITICAL);
    expect(critical.stderr).toBe('');
    const [summary, ...problems] = critical.stdout.trimEnd().split('\n');
    expect(summary).toBe('6 hosts: 3 up, 1 late, 1 down, 1 left; 1 warn, 1 fail');
    expect(problems).toEqual([
      expect.stringMatching(/^down1 +down +no heartbeat for \d+s$/),
      expect.stringMatching(/^fail1 +up, fail +fail for \d+s +raid degraded$/),
      expect.stringMatching(/^late1 +late +no heartbeat for \d+s$/),
      expect.stringMatching(/^warn1 +up, warn +warn for \d+s +disk 91% full$/),
    ]);
    // The columns line up: how long starts at the same place on every line.
    const howLongAt = problems.map((line) => /^\S+ +\w+(?:, \w+)? +/.exec(line)![0].length);
    expect(new Set(howLongAt).size).toBe(1);

    // --name narrows it: only the web hosts, all well.
    expect(await status('--name', 'web*')).toEqual({ code: NAGIOS.OK, stdout: '1 host: 1 up\n', stderr: '' });
    expect((await status('--name', 'down*')).code).toBe(NAGIOS.CRITICAL);
  });

  it('a status that a host fixed is no longer a problem', async () => {
    hbd = await fleet();
    await beat('web1', 'fail', 'raid degraded');
    await eventually(async () => expect(await stateOf('web1')).toBe('up'));
    expect((await status()).code).toBe(NAGIOS.CRITICAL);
    await beat('web1', 'ok');
    await eventually(async () => expect((await status()).code).toBe(NAGIOS.OK), 5000);
  });

  it("exits 3, Nagios's UNKNOWN, when it cannot tell: hbd not running, no such host, a bad config or bad usage", async () => {
    hbd = await fleet();
    await beat('web1');
    await eventually(async () => expect(await stateOf('web1')).toBe('up'));
    const url = `http://127.0.0.1:${await freePort()}`;
    const config = join(hbd.dir, 'bad.yaml');
    writeFileSync(config, 'hbd_port: soon\n');
    const [notRunning, noSuchHost, badConfig, badUsage] = await Promise.all([
      runHbd(['status', '--url', url]),
      status('--name', 'nosuchhost'),
      runHbd(['status', '-c', config]),
      status('--bogus'),
    ]);
    expect(notRunning).toEqual({
      code: NAGIOS.UNKNOWN,
      stdout: '',
      stderr: `cannot reach hbd at ${url}: connection refused (is it running? --url URL)\n`,
    });
    expect(noSuchHost).toEqual({
      code: NAGIOS.UNKNOWN,
      stdout: '',
      stderr: 'hbd: status: no host matches "nosuchhost"\n',
    });
    expect(badConfig.code).toBe(NAGIOS.UNKNOWN);
    expect(badConfig.stderr).toMatch(/bad\.yaml:1: hbd_port: expected an integer/);
    expect(badUsage.code).toBe(NAGIOS.UNKNOWN);
    expect(badUsage.stderr).toMatch(/unknown option '--bogus'/);
  });

  it('reads a fleet under read_access: login with the read token, from the config', async () => {
    const { hashPassword } = await import('../../src/auth/passwords.js');
    const readToken = 'a-read-token-for-status-0123';
    hbd = await startTestDaemon({
      read_access: 'login',
      read_token: readToken,
      auth_users: { alice: { password: await hashPassword('alice has a long password'), role: 'viewer' } },
    });
    await beat('web1');
    await eventually(async () =>
      expect(
        (await getJson(hbd!.url('/api/hosts'), { headers: { authorization: `Bearer ${readToken}` } })).body,
      ).toHaveLength(1),
    );
    const config = join(hbd.dir, 'cli.yaml');
    writeFileSync(
      config,
      `hbd_host: 127.0.0.1\nhbd_port: ${hbd.daemon.http.port}\nread_token: ${readToken}\n`,
      {
        mode: 0o600,
      },
    );
    expect(await runHbd(['status', '-c', config], { HBD_API_TOKEN: '' })).toEqual({
      code: NAGIOS.OK,
      stdout: '1 host: 1 up\n',
      stderr: '',
    });
    const refused = await status('--token', 'a-wrong-token-for-status-0123');
    expect(refused).toEqual({
      code: NAGIOS.UNKNOWN,
      stdout: '',
      stderr: 'hbd: status: cannot read the hosts: 401: wrong token\n',
    });
  });
});
