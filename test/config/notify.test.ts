import { describe, expect, it } from 'vitest';
import { NOTIFY_DEFAULTS, parse, problems } from './helpers.js';

const PUSHOVER_TOKEN = 'azGDORePK8gMaC0QOYAMyEEuzJnyUi';
const PUSHOVER_USER = 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG';

describe('notify settings', () => {
  it('default to every rule on and no channel', () => {
    expect(parse([]).config.notify).toEqual(NOTIFY_DEFAULTS);
    expect(parse([]).config.pushsrv).toBe('all');
  });

  it('take what the file sets, and fill in the rest of a partial rule', () => {
    const { notify } = parse([
      'notify:',
      '  group_wait: 0',
      '  group_by: site',
      '  repeat: 3600',
      '  restart_grace: 0',
      '  deadline: 600.5',
      '  retry_min: 1',
      '  retry_max: 1',
      '  rate_limit: 0',
      '  concurrency: 32',
      '  isolation: {share: 1}',
      '  flapping: {settle: 0}',
      '  channel_alert_after: 30',
    ]).config;
    expect(notify).toMatchObject({
      group_wait: 0,
      group_by: 'site',
      repeat: 3600,
      restart_grace: 0,
      deadline: 600.5,
      retry_min: 1,
      retry_max: 1,
      rate_limit: 0,
      concurrency: 32,
      isolation: { share: 1, min_hosts: 10 },
      flapping: { window: 600, threshold: 6, settle: 0 },
      channel_alert_after: 30,
    });
  });

  it.each(['false', 'null'])('isolation and flapping are off with %s', (off) => {
    const { notify } = parse(['notify:', `  isolation: ${off}`, `  flapping: ${off}`]).config;
    expect(notify.isolation).toBeNull();
    expect(notify.flapping).toBeNull();
  });

  it('can be set from the environment, down into a channel', () => {
    const { notify } = parse(['notify:', '  ntfy: {url: "https://ntfy.sh/hbd-alerts"}'], {
      HBD_NOTIFY__ISOLATION: 'false',
      HBD_NOTIFY__NTFY__TIMEOUT: '3',
    }).config;
    expect(notify.isolation).toBeNull();
    expect(notify.ntfy).toEqual({ url: 'https://ntfy.sh/hbd-alerts', token: null, timeout: 3 });
  });
});

describe('notify channels', () => {
  it('email', () => {
    const { notify } = parse([
      'notify:',
      '  email:',
      '    smtp: "smtps://hbd:secret@mail.example.org"',
      '    from: hbd <hbd@example.org>',
      '    to: [ops@example.org]',
    ]).config;
    expect(notify.email).toEqual({
      smtp: 'smtps://hbd:secret@mail.example.org',
      from: 'hbd <hbd@example.org>',
      to: ['ops@example.org'],
      tls_reject_unauthorized: true,
      timeout: 15,
    });
  });

  it('pushover', () => {
    const { notify } = parse([
      'notify:',
      `  pushover: {token: ${PUSHOVER_TOKEN}, user: ${PUSHOVER_USER}}`,
    ]).config;
    expect(notify.pushover).toEqual({
      token: PUSHOVER_TOKEN,
      user: PUSHOVER_USER,
      priority: 0,
      down_priority: null,
      sound: null,
      device: null,
      retry: 60,
      expire: 3600,
      api_url: 'https://api.pushover.net',
      timeout: 10,
    });
  });

  it('mattermost, whose webhook may also be called url', () => {
    const hook = 'https://chat.example.org/hooks/xe3nq6bzy3gqbqrdsjbm9s1pxw';
    const expected = { webhook: hook, channel: 'ops', username: null, icon_url: null, timeout: 10 };
    expect(
      parse(['notify:', `  mattermost: {webhook: "${hook}", channel: ops}`]).config.notify.mattermost,
    ).toEqual(expected);
    expect(
      parse(['notify:', `  mattermost: {url: "${hook}", channel: ops}`]).config.notify.mattermost,
    ).toEqual(expected);
  });

  it('signal, to numbers or to a group', () => {
    const numbers = parse([
      'notify:',
      '  signal: {url: "http://127.0.0.1:8080", account: "+4915112345678", recipients: ["+4915187654321"]}',
    ]).config.notify.signal;
    expect(numbers).toEqual({
      url: 'http://127.0.0.1:8080',
      account: '+4915112345678',
      recipients: ['+4915187654321'],
      group: null,
      api: 'jsonrpc',
      timeout: 10,
    });
    const group = parse([
      'notify:',
      '  signal: {url: "http://127.0.0.1:8080", account: "+4915112345678", group: "aGJkLWdyb3Vw", api: rest}',
    ]).config.notify.signal;
    expect(group).toMatchObject({ recipients: null, group: 'aGJkLWdyb3Vw', api: 'rest' });
  });

  it('webhook', () => {
    const { notify } = parse([
      'notify:',
      '  webhook:',
      '    url: "https://hooks.example.org/hbd"',
      '    secret: correct horse battery staple',
      '    headers: {Authorization: Bearer abc}',
      '    timeout: 2.5',
    ]).config;
    expect(notify.webhook).toEqual({
      url: 'https://hooks.example.org/hbd',
      secret: 'correct horse battery staple',
      headers: { Authorization: 'Bearer abc' },
      timeout: 2.5,
    });
  });

  it('ntfy', () => {
    const { notify } = parse([
      'notify:',
      '  ntfy: {url: "https://ntfy.example.org/alerts", token: tk_abc}',
    ]).config;
    expect(notify.ntfy).toEqual({ url: 'https://ntfy.example.org/alerts', token: 'tk_abc', timeout: 10 });
  });

  it('pushsrv chooses among the push services', () => {
    expect(parse(['pushsrv: signal']).config.pushsrv).toBe('signal');
    expect(problems(['pushsrv: email'])).toEqual([
      'hb.yaml:1: pushsrv: expected one of pushover, mattermost, signal, all, none, got "email"',
    ]);
  });
});

/** Two lines before the key, so every message must say its own line. */
const inNotify = (...lines: string[]) => ['# hbd', 'notify:', ...lines.map((line) => `  ${line}`)];

describe('bad notify values are reported with file, line and key', () => {
  it.each([
    ['group_wait: -1', 'notify.group_wait: expected a number of seconds, 0 or more, got -1'],
    [
      'group_by: Site',
      'notify.group_by: expected null or a host field name (a-z, 0-9 and _, up to 32 characters), got "Site"',
    ],
    ['repeat: soon', 'notify.repeat: expected a number of seconds, 0 or more, got "soon"'],
    ['deadline: 0', 'notify.deadline: expected a number of seconds greater than 0, got 0'],
    ['rate_limit: 1.5', 'notify.rate_limit: expected an integer of at least 0, got 1.5'],
    ['concurrency: 33', 'notify.concurrency: expected an integer from 1 to 32, got 33'],
    [
      'isolation: true',
      'notify.isolation: expected false, null, or a map with share and min_hosts, got true',
    ],
    ['isolation: {share: 0}', 'notify.isolation.share: expected a share greater than 0 and at most 1, got 0'],
    ['isolation: {min_hosts: 0}', 'notify.isolation.min_hosts: expected an integer of at least 1, got 0'],
    ['flapping: {threshold: 1}', 'notify.flapping.threshold: expected an integer of at least 2, got 1'],
    ['flapping: {window: 0}', 'notify.flapping.window: expected a number of seconds greater than 0, got 0'],
    ['email: {smtp: 5}', 'notify.email.smtp: expected an smtp:// or smtps:// URL, got a number'],
    ['email: yes', 'notify.email: expected a map with smtp, from and to, got "yes"'],
    [
      'pushover: {token: x, user: y, priority: 3}',
      'notify.pushover.priority: expected an integer from -2 to 2, got 3',
    ],
    [
      'pushover: {token: x, user: y, api_url: "ftp://x"}',
      'notify.pushover.api_url: expected an http(s) URL, got "ftp://x"',
    ],
    [
      'signal: {url: "http://127.0.0.1:8080", account: "+4915112345678", recipients: [], api: xml}',
      'notify.signal.recipients: expected null or a list of at least one phone number, got a list',
    ],
    [
      'webhook: {url: "https://h.example/x", timeout: 0}',
      'notify.webhook.timeout: expected a number of seconds greater than 0, got 0',
    ],
  ])('%s', (line, message) => {
    expect(problems(inNotify(line))).toContain(`hb.yaml:3: ${message}`);
  });

  it('every problem of a channel at once, each on its own line', () => {
    expect(
      problems(
        inNotify(
          'signal:',
          '  url: "file:///run/signal"',
          '  account: 4915112345678',
          '  recipients: ["+49151"]',
          '  api: xml',
        ),
      ),
    ).toEqual([
      'hb.yaml:4: notify.signal.url: expected the http(s) URL of signal-cli, got "file:///run/signal"',
      'hb.yaml:5: notify.signal.account: expected the sending account, +<country code><number>, got 4915112345678',
      'hb.yaml:7: notify.signal.api: expected one of jsonrpc, rest, got "xml"',
    ]);
  });

  it('a channel without its required keys names each of them', () => {
    expect(problems(inNotify('email: {smtp: "smtp://mail.example.org"}'))).toEqual([
      'hb.yaml:3: notify.email.from: expected the sender address, got nothing',
      'hb.yaml:3: notify.email.to: expected a list of email addresses, got nothing',
    ]);
    expect(problems(inNotify('mattermost: {channel: ops}'))).toEqual([
      'hb.yaml:3: notify.mattermost.webhook: expected the incoming webhook URL',
    ]);
    expect(problems(inNotify('signal: {url: "http://127.0.0.1:8080", account: "+4915112345678"}'))).toEqual([
      'hb.yaml:3: notify.signal.recipients: set either recipients or group, not both and not neither',
    ]);
  });

  it('mattermost url and webhook are one setting: both is an error', () => {
    const hook = 'https://chat.example.org/hooks/xe3nq6bzy3gqbqrdsjbm9s1pxw';
    expect(problems(inNotify('mattermost:', `  webhook: "${hook}"`, `  url: "${hook}"`))).toEqual([
      'hb.yaml:5: notify.mattermost.url: url is the same setting as webhook; set one',
    ]);
  });

  it('an ntfy URL must end in the topic', () => {
    expect(problems(inNotify('ntfy: {url: "https://ntfy.sh/"}'))).toEqual([
      'hb.yaml:3: notify.ntfy.url: expected the http(s) URL of the topic, such as https://ntfy.sh/mytopic, got a 16-character string',
    ]);
  });

  it('retry_max below retry_min is refused, also alongside other problems', () => {
    expect(problems(inNotify('retry_min: 10', 'retry_max: 5'))).toEqual([
      'hb.yaml:4: notify.retry_max: expected at least retry_min (10 s), got 5',
    ]);
    expect(problems(inNotify('retry_min: 10', 'retry_max: 5', 'concurrency: 0'))).toEqual([
      'hb.yaml:5: notify.concurrency: expected an integer from 1 to 32, got 0',
      'hb.yaml:4: notify.retry_max: expected at least retry_min (10 s), got 5',
    ]);
    expect(parse(inNotify('retry_min: 10', 'retry_max: 10')).config.notify.retry_max).toBe(10);
  });

  it('flapping settle must stay below threshold', () => {
    expect(problems(inNotify('flapping: {threshold: 4, settle: 4}'))).toEqual([
      'hb.yaml:3: notify.flapping.settle: expected fewer changes than threshold (4), got 4',
    ]);
    expect(problems(inNotify('flapping:', '  settle: 6'))).toEqual([
      'hb.yaml:4: notify.flapping.settle: expected fewer changes than threshold (6), got 6',
    ]);
    expect(parse(inNotify('flapping: {threshold: 4, settle: 3}')).config.notify.flapping?.settle).toBe(3);
  });
});

describe('notify secrets', () => {
  it('are described in messages, never shown', () => {
    const found = problems(
      inNotify(
        'email: {smtp: "http://hbd:hunter2@mail.example.org", from: a@b.c, to: [a@b.c]}',
        'pushover: {token: [hunter3], user: 42424242}',
        'mattermost: {webhook: "ftp://chat.example.org/hooks/hunter4"}',
        'webhook: {url: "https://h.example/x", secret: 5, headers: {Authorization: [hunter5]}}',
        'ntfy: {url: "ftp://ntfy.sh/hunter6", token: 7}',
      ),
    ).join('\n');
    for (const secret of ['hunter2', 'hunter3', '42424242', 'hunter4', 'hunter5', 'hunter6']) {
      expect(found).not.toContain(secret);
    }
    expect(found).toContain(
      'notify.email.smtp: expected an smtp:// or smtps:// URL, got a 35-character string',
    );
    expect(found).toContain('notify.pushover.user: expected the user or group key, got a number');
    expect(found).toContain('notify.webhook.secret: expected null or a secret, got a number');
    expect(found).toContain('notify.ntfy.token: expected null or an access token, got a number');
  });
});
