/**
 * Every key a reload applies, applied to a running hbd: one test per live key, each showing the
 * effect on what hbd does (not on a field), and one test that the daemon's parts apply exactly
 * the keys the config says are live.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/passwords.js';
import { parseConfig } from '../../src/config/load.js';
import { LIVE_KEYS } from '../../src/config/reload.js';
import type { Config } from '../../src/config/schema.js';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, getJson, startTestDaemon, type TestConfig, type TestDaemon } from '../helpers/daemon.js';

const SECRET = 'the-key-of-the-reload-tests-0123';
const TOKEN = 'the-api-token-of-the-reload-tests';
const PUSH_TOKEN = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const PING_KEY = 'fqOOd6-F4MMNuCEnzTU01w';

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function start(overrides: TestConfig = {}): Promise<TestDaemon> {
  hbd = await startTestDaemon(overrides);
  return hbd;
}

/** The running config with `changes` parsed as the config file would give them. */
function reloaded(changes: TestConfig): Config {
  const daemon = hbd!;
  const { config } = parseConfig(stringify({ ...changes }), {
    sourceName: 'reload.yaml',
    baseDir: daemon.dir,
    env: {},
    home: daemon.dir,
  });
  const next: Record<string, unknown> = { ...daemon.config };
  for (const key of Object.keys(changes)) next[key] = config[key as keyof Config];
  return next as unknown as Config;
}

async function viewer(): Promise<Record<string, { password: string; role: string }>> {
  return { victor: { password: await hashPassword('a viewer password long enough'), role: 'viewer' } };
}

function reload(changes: TestConfig): void {
  hbd!.daemon.reload(reloaded(changes));
}

function beat(host: string, extra: string[] = []): string {
  return [`host=${host}`, 'status=ok', ...extra].join(' ');
}

function signedBeat(host: string, options: { tsSkewS?: number; secret?: string } = {}): Buffer {
  return encodeHeartbeat(
    { host, status: 'ok', ts: Date.now() / 1000 + (options.tsSkewS ?? 0) },
    { secret: options.secret ?? SECRET },
  );
}

/** Sends a datagram and waits until hbd has read it. */
async function send(datagram: string | Buffer): Promise<void> {
  const daemon = hbd!;
  const before = daemon.daemon.stats.received;
  await daemon.send(datagram);
  await eventually(() => expect(daemon.daemon.stats.received).toBe(before + 1));
}

async function accepted(datagram: string | Buffer): Promise<boolean> {
  const before = hbd!.daemon.stats.accepted;
  await send(datagram);
  return hbd!.daemon.stats.accepted === before + 1;
}

async function hostJson(name: string): Promise<{ interval: number; grace: number }> {
  const { status, body } = await getJson<{ interval: number; grace: number }>(hbd!.url(`/api/hosts/${name}`));
  expect(status).toBe(200);
  return body;
}

describe('reload', () => {
  it('applies exactly the keys the config calls live, each through a part of the daemon', async () => {
    await start();
    expect([...hbd!.daemon.liveKeys].sort()).toEqual([...LIVE_KEYS].sort());
  });

  it('interval: hosts are timed by the new interval', async () => {
    await start({ interval: 60 });
    await send(beat('web1'));
    expect((await hostJson('web1')).interval).toBe(60);
    reload({ interval: 20 });
    expect((await hostJson('web1')).interval).toBe(20);
  });

  it('grace: hosts get the new grace', async () => {
    await start({ grace: 30 });
    await send(beat('web1'));
    reload({ grace: 90 });
    expect((await hostJson('web1')).grace).toBe(90);
  });

  it('hosts: a new per-host override applies to a known host', async () => {
    await start({ interval: 60 });
    await send(beat('web1'));
    reload({ hosts: { web1: { interval: 7 } } });
    expect((await hostJson('web1')).interval).toBe(7);
  });

  it('auth: with auth required, an unsigned heartbeat is no longer accepted', async () => {
    await start({ keys: { web2: SECRET } });
    expect(await accepted(beat('web1'))).toBe(true);
    reload({ auth: 'required' });
    expect(await accepted(beat('web1'))).toBe(false);
    expect(await accepted(signedBeat('web2'))).toBe(true);
  });

  it('keys: a heartbeat signed with a key added by the reload is accepted', async () => {
    await start({ auth: 'required', keys: { web2: 'an-older-key-for-web2-0123456789' } });
    expect(await accepted(signedBeat('web1'))).toBe(false);
    reload({ keys: { web2: 'an-older-key-for-web2-0123456789', web1: SECRET } });
    expect(await accepted(signedBeat('web1'))).toBe(true);
  });

  it('max_skew: a heartbeat whose clock is off by more than the old bound is accepted under the new one', async () => {
    await start({ keys: { web1: SECRET }, max_skew: 30 });
    expect(await accepted(signedBeat('web1', { tsSkewS: 120 }))).toBe(false);
    reload({ max_skew: 300 });
    expect(await accepted(signedBeat('web1', { tsSkewS: 120 }))).toBe(true);
  });

  it('api_token: the new token is taken and the old one refused', async () => {
    const other = 'another-api-token-of-the-reload-tests';
    await start({ api_token: TOKEN, read_access: 'login', auth_users: await viewer() });
    const read = (token: string) =>
      fetch(hbd!.url('/api/hosts'), { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    expect(await read(TOKEN)).toBe(200);
    reload({ api_token: other });
    expect(await read(TOKEN)).toBe(401);
    expect(await read(other)).toBe(200);
  });

  it('read_token: a read token added by the reload may read', async () => {
    const readToken = 'the-read-token-of-the-reload-tests';
    await start({ api_token: TOKEN, read_access: 'login', auth_users: await viewer() });
    const read = () =>
      fetch(hbd!.url('/api/hosts'), { headers: { authorization: `Bearer ${readToken}` } }).then(
        (r) => r.status,
      );
    expect(await read()).toBe(401);
    reload({ read_token: readToken });
    expect(await read()).toBe(200);
  });

  it('auth_users: a user added by the reload can log in', async () => {
    const password = 'a password long enough to pass';
    const hash = await hashPassword(password);
    await start({ api_token: TOKEN });
    const login = () =>
      fetch(hbd!.url('/api/login'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'alice', password }),
      }).then((r) => r.status);
    expect(await login()).not.toBe(200);
    reload({ auth_users: { alice: { password: hash, role: 'viewer' } } });
    expect(await login()).toBe(200);
  });

  it('read_access: reads open to everyone once it says public', async () => {
    await start({ api_token: TOKEN, read_access: 'login', auth_users: await viewer() });
    expect((await fetch(hbd!.url('/api/hosts'))).status).toBe(401);
    reload({ read_access: 'public' });
    expect((await fetch(hbd!.url('/api/hosts'))).status).toBe(200);
  });

  it('log_level: the log takes the new level', async () => {
    await start({ log_level: 'info' });
    reload({ log_level: 'error' });
    expect(hbd!.log.isLevelEnabled('warn')).toBe(false);
    // A dropped datagram is worth a warning, which the error level leaves out.
    await send('host=-bad-');
    expect(hbd!.logs.filter((line) => line.level === 40 && String(line.msg).startsWith('dropped'))).toEqual(
      [],
    );
    reload({ log_level: 'debug' });
    expect(hbd!.log.isLevelEnabled('debug')).toBe(true);
  });

  it('history: the new max_events bounds the events as they are written', async () => {
    await start({ history: { days: 30, max_events: 1000 } });
    reload({ history: { days: 30, max_events: 100 } });
    for (let index = 0; index < 60; index++) await send(beat(`host${index}`, ['msg=first']));
    for (let index = 0; index < 60; index++) await send(`host=host${index} status=warn`);
    await eventually(async () => {
      const { body } = await getJson<unknown[]>(hbd!.url('/api/events?limit=1000'));
      expect(body.length).toBe(100);
    });
  });

  it('limits: a lower max_hosts refuses new unsigned hosts', async () => {
    await start();
    expect(await accepted(beat('web1'))).toBe(true);
    reload({ limits: { max_hosts: 1 } });
    expect(await accepted(beat('web2'))).toBe(false);
    expect(hbd!.daemon.stats.dropped.limit).toBe(1);
    expect(await accepted(beat('web1'))).toBe(true);
  });

  it('unsigned_networks: unsigned heartbeats from outside the new list are dropped', async () => {
    await start();
    expect(await accepted(beat('web1'))).toBe(true);
    reload({ unsigned_networks: ['10.0.0.0/8'] });
    expect(await accepted(beat('web1'))).toBe(false);
    expect(hbd!.daemon.stats.dropped.unsigned).toBe(1);
  });

  it('push: a ping to a token added by the reload is heard', async () => {
    await start();
    const ping = () => fetch(hbd!.url(`/ping/${PUSH_TOKEN}`)).then((r) => r.status);
    expect(await ping()).toBe(404);
    reload({ push: { 'backup-db': { token: PUSH_TOKEN } } });
    expect(await ping()).toBe(200);
    expect(hbd!.daemon.hosts.find('backup-db')?.state).toBe('up');
  });

  it('push_ping_key: pings by host name work once a key is set', async () => {
    await start();
    // As on Healthchecks.io, `create=1` lets a ping by name make the host.
    const ping = () => fetch(hbd!.url(`/ping/${PING_KEY}/nightly?create=1`)).then((r) => r.status);
    expect(await ping()).toBe(404);
    reload({ push_ping_key: PING_KEY });
    expect(await ping()).toBe(201);
    expect(hbd!.daemon.hosts.find('nightly')?.state).toBe('up');
  });

  it('metrics: the next scrape has the new host labels and cap', async () => {
    await start();
    await send(beat('web1', ['site=ams1']));
    await send(beat('web2'));
    const upSeries = async () =>
      (await (await fetch(hbd!.url('/metrics'))).text())
        .split('\n')
        .filter((line) => line.startsWith('hbd_host_up{'));
    expect(await upSeries()).toEqual(['hbd_host_up{host="web1"} 1', 'hbd_host_up{host="web2"} 1']);
    reload({ metrics: { host_labels: ['site'], max_hosts: 1 } });
    expect(await upSeries()).toEqual(['hbd_host_up{host="web1",site="ams1"} 1']);
  });
});
