import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

interface HostBody {
  name: string;
  state: string;
  status: string;
  msg: string | null;
  fields: Record<string, string>;
  addr: string;
  last_seen: string;
  interval: number;
  grace: number;
  events?: { kind: string; from: string | null; to: string | null }[];
}

const SECRET = 'k3y-for-web1-that-is-long-enough';
const now = () => Math.round(Date.now()) / 1000;

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

async function hosts(): Promise<HostBody[]> {
  return (await getJson<HostBody[]>(hbd!.url('/api/hosts'))).body;
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(hbd!.url('/metrics'))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(' ')[1]);
}

describe('a heartbeat, end to end', () => {
  it('shows up in /api/hosts, /metrics and on /ws within a second', async () => {
    hbd = await startTestDaemon();
    const ws = new WebSocket(hbd.url('/ws').replace('http', 'ws'));
    const frames: { type: string; [key: string]: unknown }[] = [];
    ws.on('message', (data) => frames.push(JSON.parse(String(data))));
    await eventually(() => expect(frames[0]?.type).toBe('snapshot'));

    await hbd.send('host=Web1 seq=1 every=30 status=warn msg="disk 71% full" load=0.42 rack=r7');

    const [web1] = await eventually(async () => {
      const list = await hosts();
      expect(list).toHaveLength(1);
      return list;
    }, 1000);
    expect(web1).toMatchObject({
      name: 'web1',
      state: 'up',
      status: 'warn',
      msg: 'disk 71% full',
      fields: { load: '0.42', rack: 'r7' },
      addr: '127.0.0.1',
      interval: 30,
      grace: 30,
    });
    expect(Date.parse(web1!.last_seen)).toBeGreaterThan(Date.now() - 5000);
    expect(await metric('hbd_datagrams_received_total')).toBe(1);
    expect(await metric('hbd_heartbeats_accepted_total')).toBe(1);
    expect(await metric('hbd_hosts{state="up"}')).toBe(1);

    await eventually(() => {
      expect(frames).toContainEqual(
        expect.objectContaining({ type: 'heartbeat', host: 'web1', status: 'warn', msg: 'disk 71% full' }),
      );
      expect(frames).toContainEqual(
        expect.objectContaining({ type: 'event', host: 'web1', from: null, to: 'up' }),
      );
    }, 1000);
    ws.close();
  });

  it('the minimal unsigned heartbeat of the protocol works: `echo web1 | nc -u`', async () => {
    hbd = await startTestDaemon();
    await hbd.send('web1\n');
    await eventually(async () => expect((await hosts()).map((h) => h.name)).toEqual(['web1']));
  });

  it('a silent host goes late, then down, then back up when it beats again', async () => {
    hbd = await startTestDaemon({ grace: 0.5 });
    await hbd.send('host=web1 every=0.5');
    await eventually(async () => expect((await hosts())[0]?.state).toBe('late'), 2000);
    await eventually(async () => expect((await hosts())[0]?.state).toBe('down'), 2000);
    await hbd.send('host=web1 every=0.5');
    await eventually(async () => expect((await hosts())[0]?.state).toBe('up'));
    const { body } = await getJson<{ to: string }[]>(hbd.url('/api/events?host=web1'));
    expect(body.map((e) => e.to)).toEqual(['up', 'down', 'late', 'up']);
  });
});

describe('signed heartbeats', () => {
  const keyed = { auth: 'optional', keys: { web1: SECRET } };

  it('accepts a signed heartbeat, compressed or not, and counts every rejected one by reason', async () => {
    hbd = await startTestDaemon(keyed);
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() }, { secret: SECRET }));
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() + 0.5 }, { secret: SECRET, zlib: true }));
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() + 1 }, { secret: 'wrong-secret-wrong-secret' }));
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() + 2 }));
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() - 3600 }, { secret: SECRET }));
    await eventually(async () => expect(await metric('hbd_datagrams_received_total')).toBe(5));
    expect(await metric('hbd_heartbeats_accepted_total')).toBe(2);
    expect(await metric('hbd_datagrams_dropped_total{reason="auth"}')).toBe(1);
    expect(await metric('hbd_datagrams_dropped_total{reason="unsigned"}')).toBe(1);
    expect(await metric('hbd_datagrams_dropped_total{reason="skew"}')).toBe(1);
  });

  it('a replayed datagram is dropped, even from another address and after a restart', async () => {
    hbd = await startTestDaemon(keyed);
    const original = encodeHeartbeat({ host: 'web1', ts: now(), msg: 'first' }, { secret: SECRET });
    await hbd.send(original);
    await eventually(async () => expect((await hosts())[0]?.msg).toBe('first'));
    await hbd.send(original);
    await eventually(async () =>
      expect(await metric('hbd_datagrams_dropped_total{reason="replay"}')).toBe(1),
    );

    await hbd.restart();
    await hbd.send(original);
    await eventually(async () =>
      expect(await metric('hbd_datagrams_dropped_total{reason="replay"}')).toBe(1),
    );
    expect(await metric('hbd_heartbeats_accepted_total')).toBe(0);
  });

  it('auth: required refuses unsigned heartbeats from hosts without a key', async () => {
    hbd = await startTestDaemon({ auth: 'required', keys: { web1: SECRET } });
    await hbd.send('host=web2');
    await eventually(async () =>
      expect(await metric('hbd_datagrams_dropped_total{reason="unsigned"}')).toBe(1),
    );
    expect(await hosts()).toEqual([]);
  });

  it('auth: off ignores signatures altogether', async () => {
    hbd = await startTestDaemon({ auth: 'off', keys: { web1: SECRET } });
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() }, { secret: 'not-the-right-one-at-all' }));
    await eventually(async () => expect((await hosts()).map((h) => h.name)).toEqual(['web1']));
  });
});

describe('bad input', () => {
  it('a flood of garbage creates no host, moves no host, and every datagram is counted', async () => {
    hbd = await startTestDaemon({ keys: { web1: SECRET } });
    await hbd.send(encodeHeartbeat({ host: 'web1', ts: now() }, { secret: SECRET }));
    await eventually(async () => expect(await hosts()).toHaveLength(1));
    const garbage: (string | Uint8Array)[] = [
      new Uint8Array(8193).fill(0x61),
      'host=-evil-',
      'host=a..b',
      'host="web2;rm -rf /"',
      'host=web2 host=web3',
      'host=web2 seq=-1',
      'host=web2 msg="unterminated',
      new Uint8Array([0xff, 0xfe, 0x00]),
      'host=web1 msg=hijack',
    ];
    for (let round = 0; round < 50; round++) {
      for (const datagram of garbage) await hbd.send(datagram);
      await hbd.send(crypto.getRandomValues(new Uint8Array(64 + round)));
    }
    const sent = 1 + 50 * (garbage.length + 1);
    await eventually(async () => expect(await metric('hbd_datagrams_received_total')).toBe(sent));
    expect(await metric('hbd_heartbeats_accepted_total')).toBe(1);
    const list = await hosts();
    expect(list.map((h) => h.name)).toEqual(['web1']);
    expect(list[0]?.msg).toBeNull();
    // Warnings name the source but are rate-limited.
    const warnings = hbd.logs.filter(
      (l) => typeof l.msg === 'string' && l.msg.startsWith('dropped datagram'),
    );
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThanOrEqual(10);
    expect(warnings[0]?.source).toBe('127.0.0.1');
  });
});

describe('restarts', () => {
  it('keeps hosts, their fields and their history', async () => {
    hbd = await startTestDaemon();
    await hbd.send('host=web1 status=fail msg=broken seq=7 rack=r1');
    await eventually(async () => expect(await hosts()).toHaveLength(1));
    await hbd.restart();
    const { body } = await getJson<HostBody>(hbd.url('/api/hosts/web1'));
    expect(body).toMatchObject({
      name: 'web1',
      state: 'up',
      status: 'fail',
      msg: 'broken',
      fields: { rack: 'r1' },
    });
    expect(body.events?.map((e) => `${e.kind}:${e.to}`)).toEqual(['status:fail', 'state:up']);
  });
});

describe('HTTP API', () => {
  it('forgetting a host needs the bearer token', async () => {
    hbd = await startTestDaemon({ api_token: 'an-api-token-of-some-length' });
    await hbd.send('web1');
    await eventually(async () => expect(await hosts()).toHaveLength(1));
    const anonymous = await getJson<{ error: string }>(hbd.url('/api/hosts/web1'), { method: 'DELETE' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatch(/Bearer/);
    const wrong = await fetch(hbd.url('/api/hosts/web1'), {
      method: 'DELETE',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(hbd.url('/api/hosts/web1'), {
      method: 'DELETE',
      headers: { authorization: 'Bearer an-api-token-of-some-length' },
    });
    expect(right.status).toBe(200);
    expect(await hosts()).toEqual([]);
    const events = await getJson<{ kind: string }[]>(hbd.url('/api/events?limit=1'));
    expect(events.body[0]?.kind).toBe('forget');
  });

  it('write calls are refused outright when no api_token is configured', async () => {
    hbd = await startTestDaemon();
    const response = await getJson<{ error: string }>(hbd.url('/api/hosts/web1'), { method: 'DELETE' });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatch(/api_token/);
  });

  it('answers errors as JSON with the right status', async () => {
    hbd = await startTestDaemon();
    expect(await getJson(hbd.url('/api/hosts/nope'))).toEqual({
      status: 404,
      body: { error: 'no host named "nope"' },
    });
    expect((await getJson(hbd.url('/api/events?limit=0'))).status).toBe(400);
    expect((await getJson(hbd.url('/api/events?since=yesterday'))).status).toBe(400);
    expect((await getJson(hbd.url('/nowhere'))).status).toBe(404);
    expect((await getJson<{ ok: boolean }>(hbd.url('/healthz'))).body.ok).toBe(true);
  });

  it('lists hosts filtered by state, status and name; `hbd hosts` passes the filters on', async () => {
    hbd = await startTestDaemon();
    await hbd.send('host=web1 status=fail msg="disk full"');
    await hbd.send('host=web2 status=warn');
    await hbd.send('host=db1');
    await hbd.send('host=old1 status=bye');
    await eventually(async () => expect(await hosts()).toHaveLength(4));
    const names = async (query: string) =>
      (await getJson<HostBody[]>(hbd!.url(`/api/hosts?${query}`))).body.map((host) => host.name);
    expect(await names('state=up')).toEqual(['db1', 'web1', 'web2']);
    expect(await names('state=left,down')).toEqual(['old1']);
    expect(await names('status=fail,warn')).toEqual(['web1', 'web2']);
    expect(await names('name=web*')).toEqual(['web1', 'web2']);
    expect(await names('name=WEB?&status=warn')).toEqual(['web2']);
    expect(await names('name=db1&state=down')).toEqual([]);
    expect(await getJson(hbd.url('/api/hosts?state=dead'))).toEqual({
      status: 400,
      body: { error: 'state: expected a comma-separated list of up, late, down, left, got "dead"' },
    });
    expect((await getJson<{ error: string }>(hbd.url('/api/hosts?name=web%0A1'))).body.error).toMatch(
      /^name: expected a host name or a glob/,
    );

    const table = await runHbd(['hosts', '--url', hbd.url(''), '--status', 'fail,warn', '--name', 'web*']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^web1\s+up\s+fail\s/m);
    expect(table.stdout).toMatch(/^web2\s+up\s+warn\s/m);
    expect(table.stdout).not.toMatch(/^(db1|old1)\s/m);
    const refused = await runHbd(['hosts', '--url', hbd.url(''), '--state', 'dead']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/400: state: expected a comma-separated list of up, late, down, left/);
  });

  it('lists events newest first, filtered by host and time', async () => {
    hbd = await startTestDaemon();
    await hbd.send('web1');
    await hbd.send('web2');
    await eventually(async () => expect(await hosts()).toHaveLength(2));
    const all = await getJson<{ host: string; id: number }[]>(hbd.url('/api/events'));
    expect(all.body.map((e) => e.host)).toEqual(['web2', 'web1']);
    const one = await getJson<{ host: string }[]>(hbd.url('/api/events?host=web1'));
    expect(one.body.map((e) => e.host)).toEqual(['web1']);
    const future = await getJson<unknown[]>(
      hbd.url(`/api/events?since=${new Date(Date.now() + 60_000).toISOString()}`),
    );
    expect(future.body).toEqual([]);
  });
});
