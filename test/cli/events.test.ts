import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { HBD, runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/server-process.js';

// These run the built CLI (dist/) against a real hbd.

const READ_TOKEN = 'a-read-token-for-the-events-0123';
const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}/;

interface EventJson {
  id: number;
  host: string;
  kind: string;
  from: string | null;
  to: string | null;
}

let hbd: TestDaemon | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await hbd?.stop();
  hbd = undefined;
});

async function eventIds(host?: string): Promise<number[]> {
  const query = host === undefined ? '' : `?host=${host}`;
  const { body } = await getJson<EventJson[]>(hbd!.url(`/api/events${query}`), {
    headers: { authorization: `Bearer ${READ_TOKEN}` },
  });
  return body.map((event) => event.id).reverse();
}

/** `hbd events --follow …` as a process of its own, its output gathered as it comes. */
function follow(args: string[]) {
  const child = spawn(process.execPath, [HBD, 'events', '--follow', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => {
    out.stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out.stderr += chunk.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const printed = () =>
    out.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as EventJson);
  return { child, out, exited, printed };
}

describe('hbd events', () => {
  it('prints the latest events, oldest first, of every host or of one', async () => {
    hbd = await startTestDaemon({ api_token: 'an-api-token-for-the-events-0123' });
    for (const host of ['web1', 'web2', 'db1']) await hbd.send(host);
    await eventually(async () => expect(await eventIds()).toHaveLength(3));
    const url = hbd.url('');

    const all = await runHbd(['events', '--url', url]);
    expect(all.code).toBe(0);
    expect(all.stderr).toBe('');
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/ {2}web1 {2}state {2}- -> up {2}first heartbeat, from 127\.0\.0\.1$/),
      expect.stringMatching(/ {2}web2 {2}state {2}- -> up {2}first heartbeat, from 127\.0\.0\.1$/),
      expect.stringMatching(/ {2}db1 {2}state {2}- -> up {2}first heartbeat, from 127\.0\.0\.1$/),
    ]);
    expect(lines.every((line) => LINE.test(line))).toBe(true);

    const [one, latest, json, badLimit] = await Promise.all([
      runHbd(['events', '--url', url, '--host', 'WEB2']),
      runHbd(['events', '--url', url, '--limit', '1']),
      runHbd(['events', '--url', url, '--json']),
      runHbd(['events', '--url', url, '--limit', '5000']),
    ]);
    expect(one.stdout).toMatch(/^\S+ \S+ UTC {2}web2 {2}state {2}- -> up {2}.*\n$/);
    expect(latest.stdout).toMatch(/^\S+ \S+ UTC {2}db1 /);
    expect(latest.stdout.trimEnd().split('\n')).toHaveLength(1);
    const events = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as EventJson);
    expect(events.map((event) => [event.host, event.kind, event.from, event.to])).toEqual([
      ['web1', 'state', null, 'up'],
      ['web2', 'state', null, 'up'],
      ['db1', 'state', null, 'up'],
    ]);
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toMatch(/--limit <n>.*5000.*expected an integer from 1 to 1000/);
  });

  it('--follow prints new events as they happen, and across a restart of hbd misses none and repeats none', async () => {
    const port = await freePort();
    hbd = await startTestDaemon({
      hbd_port: port,
      read_access: 'login',
      read_token: READ_TOKEN,
      auth_users: { alice: { password: await hashPassword('alice has a long password'), role: 'viewer' } },
    });
    await hbd.send('web1');
    await eventually(async () => expect(await eventIds()).toHaveLength(1));

    // The token goes along in a header, to the API and to the live feed alike.
    const follower = follow(['--url', hbd.url(''), '--token', READ_TOKEN, '--json', '--host', 'web1']);
    await eventually(() => expect(follower.printed().map((e) => e.to)).toEqual(['up']), 10_000);

    await hbd.send('db1');
    await hbd.send('web1'); // nothing new: web1 is up already
    await hbd.send('host=web1 status=bye');
    await eventually(() => expect(follower.printed().map((e) => e.to)).toEqual(['up', 'left']), 10_000);

    await hbd.daemon.stop();
    await eventually(
      () =>
        expect(follower.out.stderr).toMatch(
          /lost the connection to hbd at http:\/\/127\.0\.0\.1:\d+ \(hbd is shutting down\); reconnecting\n/,
        ),
      10_000,
    );
    await hbd.restart();
    // Right after the restart, before the follower is back: read from the API when it reconnects.
    await hbd.send('web1');
    await eventually(
      () => expect(follower.out.stderr).toMatch(/reconnected to hbd at http:\/\/127\.0\.0\.1:\d+\n/),
      20_000,
    );
    await hbd.send('host=web1 status=bye');
    await eventually(async () => {
      expect(follower.printed().map((e) => e.id)).toEqual(await eventIds('web1'));
    }, 10_000);
    expect(follower.printed().map((e) => e.to)).toEqual(['up', 'left', 'up', 'left']);
    expect(follower.printed().every((event) => event.host === 'web1')).toBe(true);
    expect(follower.child.exitCode).toBeNull();
  });

  it('--follow with a wrong token says so and exits 1', async () => {
    hbd = await startTestDaemon({
      read_access: 'login',
      read_token: READ_TOKEN,
      auth_users: { alice: { password: await hashPassword('alice has a long password'), role: 'viewer' } },
    });
    const refused = await runHbd([
      'events',
      '--follow',
      '--url',
      hbd.url(''),
      '--token',
      'a-wrong-token-for-events-01',
    ]);
    expect(refused).toEqual({ code: 1, stdout: '', stderr: 'hbd: events: 401: wrong token\n' });
  });
});
