import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import { CHANNELS, createChannels } from '../../src/notify/channels/index.js';
import type { Notifier } from '../../src/notify/types.js';
import { parse, problems } from '../config/helpers.js';
import { failure } from '../helpers/notify-failure.js';
import { STANDIN_MATTERMOST_HOOK, startMattermostStandin } from '../helpers/standins/mattermost.js';
import { STANDIN_NTFY_TOPIC, startNtfyStandin } from '../helpers/standins/ntfy.js';
import {
  STANDIN_PUSHOVER_TOKEN,
  STANDIN_PUSHOVER_USER,
  startPushoverStandin,
} from '../helpers/standins/pushover.js';
import { startSignalStandin } from '../helpers/standins/signal.js';
import { STANDIN_SMTP_PASS, STANDIN_SMTP_USER, startSmtpStandin } from '../helpers/standins/smtp.js';
import { startWebhookStandin } from '../helpers/standins/webhook.js';
import { TEST_CONTEXT } from './notifier-contract.js';

const SECRET = 'correct horse battery staple';
const ACCOUNT = '+4915112345678';
const ALICE = '+4915199990001';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

function later<T extends { close(): Promise<unknown> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

/** The channels of a config file's `notify:` lines (and any top-level lines before them). */
function channelsOf(lines: string[]): Notifier[] {
  const notifiers = createChannels(parse(lines).config, TEST_CONTEXT);
  for (const notifier of notifiers) cleanups.push(async () => notifier.close?.());
  return notifiers;
}

function only(lines: string[]): Notifier {
  const notifiers = channelsOf(lines);
  expect(notifiers).toHaveLength(1);
  return notifiers[0]!;
}

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    dedupKey: 'down:web1:1700000000000',
    kind: 'down',
    title: 'web1 is down',
    body: 'web1 went quiet at 12:00:00.',
    details: 'web1 went quiet at 12:00:00.\n  last heard 11:59:30, status ok\n  address 192.0.2.10',
    hosts: [
      { name: 'web1', state: 'down', status: 'ok', msg: null, addr: '192.0.2.10', previousFor: 60_000 },
    ],
    at: 1_700_000_000_000,
    resolves: false,
    ...overrides,
  };
}

describe('createChannels maps each config key to its provider', () => {
  it('pushover: every key, priorities by kind, timeout in seconds', async () => {
    const standin = later(await startPushoverStandin());
    const pushover = only([
      'notify:',
      '  pushover:',
      `    token: ${STANDIN_PUSHOVER_TOKEN}`,
      `    user: ${STANDIN_PUSHOVER_USER}`,
      '    priority: -1',
      '    down_priority: 2',
      '    sound: siren',
      '    device: phone1',
      '    retry: 45',
      '    expire: 600',
      `    api_url: "${standin.url}"`,
      '    timeout: 0.25',
    ]);
    expect(pushover.channel).toBe('pushover');

    await pushover.send(notification());
    await pushover.send(notification({ kind: 'status', dedupKey: 'status:web1' }));
    expect(standin.rejected).toEqual([]);
    const [down, status] = standin.requests.map((request) => request.fields);
    expect(down).toMatchObject({
      token: STANDIN_PUSHOVER_TOKEN,
      user: STANDIN_PUSHOVER_USER,
      priority: '2',
      sound: 'siren',
      device: 'phone1',
      retry: '45',
      expire: '600',
      // Push services get the short body, not the details.
      message: 'web1 went quiet at 12:00:00.',
    });
    expect(status).toMatchObject({ priority: '-1' });

    standin.hangNext();
    const error = await failure(pushover.send(notification()));
    expect(error.message).toContain('within 250 ms');
  });

  it('mattermost: webhook (or url), channel, username, icon_url, timeout', async () => {
    const standin = later(await startMattermostStandin());
    const hook = `${standin.url}/hooks/${STANDIN_MATTERMOST_HOOK}`;
    const mattermost = only([
      'notify:',
      '  mattermost:',
      `    webhook: "${hook}"`,
      '    channel: ops',
      '    username: hbd',
      '    icon_url: "https://example.org/hbd.png"',
      '    timeout: 0.25',
    ]);
    await mattermost.send(notification());
    const bySynonym = only(['notify:', `  mattermost: {url: "${hook}"}`]);
    await bySynonym.send(notification());
    expect(standin.rejected).toEqual([]);
    expect(standin.requests.map((request) => request.body)).toEqual([
      {
        text: expect.stringContaining('web1 is down'),
        channel: 'ops',
        username: 'hbd',
        icon_url: 'https://example.org/hbd.png',
      },
      { text: expect.stringContaining('web1 is down') },
    ]);

    standin.hangNext();
    const error = await failure(mattermost.send(notification()));
    expect(error.message).toContain('within 250 ms');
  });

  it('signal: url, account, recipients or group, api, timeout', async () => {
    const standin = later(await startSignalStandin());
    const signal = (settings: string) =>
      only(['notify:', `  signal: {url: "${standin.url}", account: "${ACCOUNT}", ${settings}}`]);
    await signal(`recipients: ["${ALICE}"]`).send(notification());
    await signal('group: "aGJkLWdyb3Vw"').send(notification());
    await signal(`recipients: ["${ALICE}"], api: rest`).send(notification());
    expect(standin.rejected).toEqual([]);
    expect(standin.requests.map(({ path, body }) => ({ path, body }))).toEqual([
      {
        path: '/api/v1/rpc',
        body: expect.objectContaining({
          params: expect.objectContaining({ account: ACCOUNT, recipient: [ALICE] }),
        }),
      },
      {
        path: '/api/v1/rpc',
        body: expect.objectContaining({
          params: expect.objectContaining({ account: ACCOUNT, groupId: 'aGJkLWdyb3Vw' }),
        }),
      },
      { path: '/v2/send', body: expect.objectContaining({ number: ACCOUNT, recipients: [ALICE] }) },
    ]);

    standin.behave({ kind: 'hang' });
    const error = await failure(signal(`recipients: ["${ALICE}"], timeout: 0.25`).send(notification()));
    expect(error.message).toContain('within 250 ms');
  });

  it('webhook: url, secret, headers, timeout; the payload carries the details', async () => {
    const standin = later(await startWebhookStandin({ secret: SECRET }));
    const webhook = only([
      'notify:',
      '  webhook:',
      `    url: "${standin.url}/hooks/hbd"`,
      `    secret: ${SECRET}`,
      '    headers: {Authorization: Bearer abc}',
      '    timeout: 0.25',
    ]);
    await webhook.send(notification());
    // The stand-in refuses a body whose signature does not verify with SECRET.
    expect(standin.rejected).toEqual([]);
    const [got] = standin.requests;
    expect(got!.headers.authorization).toBe('Bearer abc');
    expect(got!.body.details).toBe(notification().details);

    standin.hangNext();
    const error = await failure(webhook.send(notification()));
    expect(error.message).toContain('within 250 ms');
  });

  it('ntfy: the URL is server and topic, token, timeout', async () => {
    const standin = later(await startNtfyStandin({ token: 'tk_standin' }));
    const ntfy = only([
      'notify:',
      `  ntfy: {url: "${standin.url}/${STANDIN_NTFY_TOPIC}", token: tk_standin, timeout: 0.25}`,
    ]);
    await ntfy.send(notification());
    expect(standin.rejected).toEqual([]);
    expect(standin.requests[0]).toMatchObject({
      topic: STANDIN_NTFY_TOPIC,
      authorization: 'Bearer tk_standin',
      message: 'web1 went quiet at 12:00:00.',
    });

    standin.hangNext();
    const error = await failure(ntfy.send(notification()));
    expect(error.message).toContain('within 250 ms');
  });

  it('ntfy: a server under a path keeps its path', async () => {
    const paths: string[] = [];
    const server: Server = createServer((req, res) => {
      paths.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"abc123","event":"message"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;

    const ntfy = only(['notify:', `  ntfy: {url: "http://127.0.0.1:${port}/ntfy/alerts/"}`]);
    const receipt = await ntfy.send(notification());
    expect(paths).toEqual(['/ntfy/alerts']);
    expect(receipt.id).toBe('abc123');
  });

  it('email: smtp, from, to, tls_reject_unauthorized, timeout; the mail body is the details', async () => {
    const { port, delivered } = later(await startSmtpStandin());
    const email = (extra: string) =>
      only([
        'notify:',
        '  email:',
        `    smtp: "smtp://${STANDIN_SMTP_USER}:${encodeURIComponent(STANDIN_SMTP_PASS)}@127.0.0.1:${port}"`,
        '    from: hbd <hbd@example.org>',
        '    to: [ops@example.org, oncall@example.net]',
        ...extra.split('\n').map((line) => `    ${line}`),
      ]);

    await email('tls_reject_unauthorized: false').send(notification());
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({
      from: 'hbd@example.org',
      to: ['ops@example.org', 'oncall@example.net'],
      user: STANDIN_SMTP_USER,
    });
    expect(delivered[0]!.raw).toContain('last heard 11:59:30, status ok');

    // The default (true) refuses the stand-in's self-signed certificate.
    await failure(email('timeout: 5').send(notification()));
    expect(delivered).toHaveLength(1);

    // A server that accepts and never greets: only the timeout ends the wait.
    const sockets = new Set<Socket>();
    const silent = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const silentPort = (silent.address() as AddressInfo).port;
    const quiet = only([
      'notify:',
      `  email: {smtp: "smtp://127.0.0.1:${silentPort}", from: hbd@example.org, to: [ops@example.org], timeout: 0.3}`,
    ]);
    const started = performance.now();
    await failure(quiet.send(notification()));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(3_000);
  });
});

describe('pushsrv', () => {
  const everyChannel = [
    'notify:',
    '  email: {smtp: "smtp://mail.example.org", from: hbd@example.org, to: [ops@example.org]}',
    `  pushover: {token: ${STANDIN_PUSHOVER_TOKEN}, user: ${STANDIN_PUSHOVER_USER}}`,
    `  mattermost: {webhook: "https://chat.example.org/hooks/${STANDIN_MATTERMOST_HOOK}"}`,
    `  signal: {url: "http://127.0.0.1:8080", account: "${ACCOUNT}", recipients: ["${ALICE}"]}`,
    '  webhook: {url: "https://hooks.example.org/hbd"}',
    '  ntfy: {url: "https://ntfy.sh/hbd-alerts"}',
  ];
  const names = (pushsrv: string) =>
    channelsOf([`pushsrv: ${pushsrv}`, ...everyChannel]).map((n) => n.channel);

  it.each([
    ['all', ['email', 'pushover', 'mattermost', 'signal', 'webhook', 'ntfy']],
    ['pushover', ['email', 'pushover', 'webhook', 'ntfy']],
    ['mattermost', ['email', 'mattermost', 'webhook', 'ntfy']],
    ['signal', ['email', 'signal', 'webhook', 'ntfy']],
    ['none', ['email', 'webhook', 'ntfy']],
  ])('%s chooses among the configured push services only', (pushsrv, expected) => {
    expect(names(pushsrv)).toEqual(expected);
  });

  it('all means the push services that are configured, and no channel is built unconfigured', () => {
    expect(
      channelsOf(['notify:', '  ntfy: {url: "https://ntfy.sh/hbd-alerts"}']).map((n) => n.channel),
    ).toEqual(['ntfy']);
    expect(channelsOf([])).toEqual([]);
  });

  it('a push service left out is not built, though its section is checked like any other', () => {
    expect(
      channelsOf([
        'pushsrv: none',
        'notify:',
        `  pushover: {token: ${STANDIN_PUSHOVER_TOKEN}, user: ${STANDIN_PUSHOVER_USER}}`,
      ]),
    ).toEqual([]);
    // One check, the schema's, whatever pushsrv says: a section in the file is a section to get right.
    expect(problems(['pushsrv: none', 'notify:', '  pushover: {token: short, user: short}'])).toHaveLength(2);
  });
});

describe('the channel list', () => {
  it('names each channel once, as its notifier is named', () => {
    const names = CHANNELS.map((channel) => channel.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(['email', 'pushover', 'mattermost', 'signal', 'webhook', 'ntfy']);
  });
});
