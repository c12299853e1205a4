/**
 * The log tells what happened to the fleet: one info line per transition and status change,
 * with the event's own reason and fields beside it; every notification and DNS outcome; one
 * summary instead of hundreds of lines when many hosts change at once; JSON with string levels
 * and ISO times; and, at debug level only, a line per heartbeat. Against the real daemon.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon/start.js';
import { STORY_BURST, StoryLog } from '../../src/daemon/story-log.js';
import { Bus } from '../../src/lib/bus.js';
import { createLog } from '../../src/lib/log.js';
import type { HostEvent } from '../../src/model/events.js';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, startTestDaemon, type TestConfig, type TestDaemon } from '../helpers/daemon.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { type NamedServer, startNamed } from '../helpers/named.js';
import { startWebhookStandin } from '../helpers/standins/webhook.js';

type Line = Record<string, unknown>;

const WAIT_MS = 10_000;
const INFO = 30;
const DEBUG = 20;
const TOKEN = 'the-api-token-of-the-story-tests';

let hbd: TestDaemon | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let clock: ManualClock;
async function start(overrides: TestConfig = {}): Promise<TestDaemon> {
  clock = new ManualClock();
  hbd = await startTestDaemon({ interval: 5, grace: 30, ...overrides }, undefined, clock);
  return hbd;
}

/** The first line whose message is `text` (or matches it), waited for. */
function line(text: string | RegExp, from = 0): Promise<Line> {
  return eventually(() => {
    const found = hbd!.logs
      .slice(from)
      .find((l) => (typeof text === 'string' ? l.msg === text : text.test(String(l.msg))));
    expect(found, `no line ${text} in:\n${hbd!.logs.map((l) => l.msg).join('\n')}`).toBeDefined();
    return found!;
  }, WAIT_MS);
}

const storyLines = (from = 0) => hbd!.logs.slice(from).filter((l) => l.change !== undefined);

describe('host transitions and status changes', () => {
  it('each is one info line with the reason the history shows, and fields to query', async () => {
    await start({ api_token: TOKEN });
    await hbd!.send('host=web1 seq=1');
    expect(await line('web1 is new: first heartbeat, from 127.0.0.1')).toMatchObject({
      level: INFO,
      host: 'web1',
      change: 'new',
      from: null,
      state: 'up',
      reason: 'first heartbeat, from 127.0.0.1',
    });

    clock.advance(6_000);
    expect(await line('web1 is late: no heartbeat for 6s (interval 5 s)')).toMatchObject({
      level: INFO,
      host: 'web1',
      from: 'up',
      state: 'late',
    });
    clock.advance(29_000);
    expect(await line('web1 is down: no heartbeat for 35s (interval 5 s + grace 30 s)')).toMatchObject({
      level: INFO,
      host: 'web1',
      change: 'down',
      from: 'late',
      state: 'down',
      reason: 'no heartbeat for 35s (interval 5 s + grace 30 s)',
    });

    clock.advance(85_000);
    await hbd!.send('host=web1 seq=2');
    expect(await line('web1 is up again: heartbeat from 127.0.0.1 after 2m of silence')).toMatchObject({
      host: 'web1',
      from: 'down',
      state: 'up',
    });

    await hbd!.send('host=web1 seq=3 status=warn msg="disk 81% full"');
    expect(await line('web1 reports warn (was ok): reported: disk 81% full')).toMatchObject({
      level: INFO,
      host: 'web1',
      change: 'status',
      from: 'ok',
      status: 'warn',
      reason: 'reported: disk 81% full',
    });
    await hbd!.send('host=web1 seq=4 status=ok');
    await line('web1 is ok again (was warn): reported');

    await hbd!.send('host=web1 seq=5 status=bye msg=rebooting');
    expect(await line('web1 left: said bye: rebooting')).toMatchObject({ from: 'up', state: 'left' });

    const forget = { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } };
    expect((await fetch(hbd!.url('/api/hosts/web1'), forget)).status).toBe(200);
    expect(await line('web1 was forgotten: forgotten through the API')).toMatchObject({
      host: 'web1',
      change: 'forgotten',
      from: 'left',
    });
    // One line each, never twice.
    expect(storyLines().map((l) => l.change)).toEqual([
      'new',
      'late',
      'down',
      'up',
      'status',
      'status',
      'left',
      'forgotten',
    ]);
  });

  it('200 hosts going down at once are the first lines and one summary, not 200 lines', async () => {
    await start();
    const names = Array.from({ length: 200 }, (_, i) => `h${String(i).padStart(3, '0')}`);
    for (const name of names) await hbd!.send(`host=${name}`);
    await eventually(() => expect(hbd!.daemon.hosts.count).toBe(200), WAIT_MS);
    // Their arrival is a mass change too: however the windows fell on a busy machine, every
    // host is told, one by one or in a summary, and most in summaries.
    const summaries = () => hbd!.logs.filter((l) => l.more !== undefined);
    await eventually(() => {
      const counted = summaries().reduce(
        (sum, l) => sum + Number((l.byChange as { new?: number }).new ?? 0),
        0,
      );
      expect(storyLines().length + counted).toBe(200);
    }, WAIT_MS);
    expect(summaries()[0]?.msg).toMatch(/^… and \d+ more hosts appeared in the last 1s \(h\d{3}, /);
    expect(storyLines().length).toBeLessThanOrEqual(STORY_BURST * (summaries().length + 1));

    const before = hbd!.logs.length;
    clock.advance(35_000);
    const summary = await line(/^… and 180 more hosts went down in the last 1s \(/, before);
    expect(summary.msg).toMatch(/\((h\d{3}, ){5}…\)$/);
    expect(summary).toMatchObject({ level: INFO, more: 180, byChange: { down: 180 } });
    const down = storyLines(before);
    expect(down).toHaveLength(STORY_BURST);
    expect(down.every((l) => l.change === 'down')).toBe(true);
    const told = new Set([...down.map((l) => l.host), ...String(summary.msg).match(/h\d{3}/g)!]);
    expect(told.size).toBe(STORY_BURST + 5);
    expect(hbd!.logs.slice(before).filter((l) => l.more !== undefined)).toEqual([summary]);
  });
});

describe('the summary of a burst', () => {
  function storyLog(burst: number) {
    const lines: Line[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Line);
        done();
      },
    });
    const bus = new Bus();
    const timers = new ManualTimers();
    const story = new StoryLog({ bus, log: pino(sink), clock: timers.clock, timers, burst });
    let id = 0;
    const emit = (host: string, from: string | null, to: string) =>
      bus.emit('event', {
        id: ++id,
        at: 0,
        host,
        kind: 'state',
        from,
        to,
        reason: 'why',
      } satisfies HostEvent);
    return { lines, timers, story, emit };
  }

  it('counts each kind of change, names the first hosts of each, and ends with its window', async () => {
    const { lines, timers, emit } = storyLog(2);
    emit('a', 'up', 'down');
    emit('b', 'up', 'down');
    emit('c', 'up', 'down');
    for (const host of ['d', 'e', 'f', 'g', 'h', 'i', 'j']) emit(host, null, 'up');
    expect(lines.map((l) => l.msg)).toEqual(['a is down: why', 'b is down: why']);
    await timers.advance(999);
    expect(lines).toHaveLength(2);
    await timers.advance(1);
    expect(lines.at(-1)).toMatchObject({
      msg: '… and 8 more host changes in the last 1s: 1 went down (c); 7 appeared (d, e, f, g, h, …)',
      more: 8,
      byChange: { down: 1, new: 7 },
    });
    // A new window tells its first changes one by one again.
    emit('k', 'down', 'up');
    expect(lines.at(-1)?.msg).toBe('k is up again: why');
  });

  it('is written when hbd stops before its window ends', () => {
    const { lines, story, emit } = storyLog(1);
    emit('a', 'up', 'left');
    emit('b', 'up', 'left');
    story.close();
    expect(lines.map((l) => l.msg)).toEqual(['a left: why', '… and 1 more host left in the last 1s (b)']);
    emit('c', 'up', 'left');
    expect(lines).toHaveLength(2);
  });
});

describe('notification outcomes', () => {
  it('a retry says its wait, a send says so, a refusal says it gives up and why', async () => {
    const webhook = await startWebhookStandin();
    cleanups.push(() => webhook.close());
    await start({
      notify: {
        restart_grace: 0,
        group_wait: 0,
        retry_min: 1,
        retry_max: 1,
        webhook: { url: `${webhook.url}/hooks/hbd` },
      },
    });
    await hbd!.send('host=web1 seq=1');
    await line(/^web1 is new/);

    webhook.failNext(503);
    await hbd!.send('host=web1 seq=2 status=fail msg=broken');
    expect(await line('notification "web1 reports fail" queued for webhook')).toMatchObject({
      level: INFO,
      channels: ['webhook'],
      hosts: 1,
    });
    const retry = await line(/^webhook: "web1 reports fail" failed, retrying in 1s: /);
    expect(retry).toMatchObject({ level: 40, channel: 'webhook', attempts: 1 });
    expect(retry.retryInMs).toBeGreaterThanOrEqual(500);
    expect(retry.msg).toMatch(/503/);

    clock.advance(1_000);
    expect(await line('webhook: sent "web1 reports fail" at attempt 2')).toMatchObject({
      level: INFO,
      channel: 'webhook',
      attempts: 2,
    });
    expect(webhook.requests).toHaveLength(1);

    webhook.failNext(400);
    await hbd!.send('host=web1 seq=3 status=ok');
    const refused = await line(/^webhook: "web1 is ok again" failed for good, a retry cannot help: .*400/);
    expect(refused).toMatchObject({ level: 40, channel: 'webhook', attempts: 1 });
  });
});

describe('DNS outcomes', () => {
  let named: NamedServer;
  beforeAll(async () => {
    named = await startNamed();
  });
  afterAll(async () => {
    await named?.stop();
  });

  const SECRET = 'the-key-of-web1-in-the-story-tests';
  let ts = 0;
  const startWith = (key: NamedServer['tsig']) =>
    start({
      keys: { web1: SECRET },
      dyndomains: ['dyn.example.test'],
      dns: {
        method: 'rfc2136',
        server: named.host,
        port: named.port,
        tsig_name: key.name,
        tsig_secret: key.secret,
        tsig_algorithm: key.algorithm,
        retry_max: 1,
      },
    });
  /** Signed, with a `ts` near the manual clock (the skew check reads it) and growing. */
  const signed = (ip4: string) =>
    encodeHeartbeat({ host: 'web1', ts: clock.wall() / 1000 + ++ts, ip4 }, { secret: SECRET });

  it('an update says which name now has which address, and what it had', async () => {
    await startWith(named.tsig);
    await hbd!.send(signed('198.51.100.7'));
    expect(await line('DNS: web1.dyn.example.test → 198.51.100.7 (was none)')).toMatchObject({
      level: INFO,
      host: 'web1',
      name: 'web1.dyn.example.test',
      A: '198.51.100.7',
    });
    await hbd!.send(signed('198.51.100.8'));
    await line('DNS: web1.dyn.example.test → 198.51.100.8 (was 198.51.100.7)');
    expect(await named.dig('web1.dyn.example.test', 'A')).toEqual(['198.51.100.8']);
  });

  it('a failed update says why and when it is tried again, once per failure', async () => {
    await startWith(named.wrongTsig);
    await hbd!.send(signed('198.51.100.9'));
    const failed = await line(/^DNS: web1\.dyn\.example\.test update failed: .+; retrying in 1s$/);
    expect(failed).toMatchObject({ level: 40, host: 'web1', name: 'web1.dyn.example.test' });
    // The retries of the same failure are at debug level: an outage is one warning.
    const retried = await line(
      /^DNS: web1\.dyn\.example\.test update failed: /,
      hbd!.logs.indexOf(failed) + 1,
    );
    expect(retried.level).toBe(DEBUG);
    expect(await named.dig('web1.dyn.example.test', 'A')).not.toContain('198.51.100.9');
  });
});

describe('a line per heartbeat', () => {
  const heartbeatLines = () => hbd!.logs.filter((l) => /^web1: heartbeat from /.test(String(l.msg)));
  const accepted = (count: number) =>
    eventually(() => expect(hbd!.daemon.stats.accepted).toBe(count), WAIT_MS);

  it('is written at debug level only, and follows the level on reload', async () => {
    await start();
    await hbd!.send('host=web1 seq=1');
    expect(await line('web1: heartbeat from 127.0.0.1, ok, seq 1, unsigned')).toMatchObject({
      level: DEBUG,
      host: 'web1',
      addr: '127.0.0.1',
      status: 'ok',
      seq: 1,
      signed: false,
    });

    hbd!.daemon.reload({ ...hbd!.config, log_level: 'info' });
    // The level is read at the reload, not for each datagram: a logger turned to debug behind
    // hbd's back gets no line per heartbeat.
    hbd!.log.level = 'debug';
    await hbd!.send('host=web1 seq=2 status=warn');
    await accepted(2);
    await line(/^web1 reports warn/);
    expect(heartbeatLines()).toHaveLength(1);

    hbd!.daemon.reload({ ...hbd!.config, log_level: 'debug' });
    await hbd!.send('host=web1 seq=3');
    await line('web1: heartbeat from 127.0.0.1, ok, seq 3, unsigned');
    expect(heartbeatLines()).toHaveLength(2);
  });
});

describe('log formats', () => {
  async function startLogging(format: 'json' | 'text'): Promise<{ daemon: RunningDaemon; file: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'hbd-story-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const text = stringify({
      hb_host: '127.0.0.1',
      hb_port: 0,
      hbd_host: '127.0.0.1',
      hbd_port: 0,
      pickfile: join(dir, 'state.sqlite'),
    });
    const { config } = parseConfig(text, { sourceName: 'test.yaml', baseDir: dir, env: {}, home: dir });
    const file = join(dir, 'hbd.log');
    const logging = createLog({ format, level: 'info', file });
    const daemon = await startDaemon(config, { log: logging.log });
    cleanups.push(() => daemon.stop());
    const { createSocket } = await import('node:dgram');
    const client = createSocket('udp4');
    await new Promise<void>((resolve, reject) =>
      client.send('host=web1', daemon.udp.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
    client.close();
    return { daemon, file };
  }

  const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('json: string levels and ISO 8601 times', async () => {
    const { file } = await startLogging('json');
    const record = await eventually(() => {
      const found = linesOf(file)
        .map((l) => JSON.parse(l) as Line)
        .find((l) => l.msg === 'web1 is new: first heartbeat, from 127.0.0.1');
      expect(found).toBeDefined();
      return found!;
    }, WAIT_MS);
    expect(record).toMatchObject({ level: 'info', host: 'web1', change: 'new', state: 'up' });
    expect(record.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Math.abs(Date.parse(String(record.time)) - Date.now())).toBeLessThan(60_000);
    // At info, no line per heartbeat.
    expect(linesOf(file).some((l) => l.includes('heartbeat from'))).toBe(false);
  });

  it('text: as before, a local time and the level in words', async () => {
    const { file } = await startLogging('text');
    const story = await eventually(() => {
      const found = linesOf(file).find((l) => l.includes('web1 is new'));
      expect(found).toBeDefined();
      return found!;
    }, WAIT_MS);
    expect(story).toMatch(
      /^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}\] INFO: web1 is new: first heartbeat, from 127\.0\.0\.1 /,
    );
  });
});
