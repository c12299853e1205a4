import { describe, expect, it } from 'vitest';
import { CHANNELS } from '../../src/notify/channels/index.js';
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
      '  signal: {url: "http://127.0.0.1:8080", account: "+4915112345678", group: "aGJkLWdyb3Vw"}',
    ]).config.notify.signal;
    expect(group).toMatchObject({ recipients: null, group: 'aGJkLWdyb3Vw', api: 'jsonrpc' });
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
      'hb.yaml:6: notify.signal.recipients[0]: expected a phone number, +<country code><number>, got "+49151"',
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
    // In the file's order, though the cross-key rule is checked after the keys themselves.
    expect(problems(inNotify('retry_min: 10', 'retry_max: 5', 'concurrency: 0'))).toEqual([
      'hb.yaml:4: notify.retry_max: expected at least retry_min (10 s), got 5',
      'hb.yaml:5: notify.concurrency: expected an integer from 1 to 32, got 0',
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

const TOKEN = 'azGDORePK8gMaC0QOYAMyEEuzJnyUi';
const USER = 'uQiRzpo4DXghDmr9QzzfQu27cmVRsG';
const HOOK = 'https://chat.example.org/hooks/xe3nq6bzy3gqbqrdsjbm9s1pxw';
const SIGNAL = 'url: "http://127.0.0.1:8080", account: "+4915112345678"';
const MAIL = 'smtp: "smtp://mail.example.org"';

// Each channel's schema is the one check of its options: what the provider would refuse, or what
// hbd could not send, is a config problem, named by file, line and key like any other.
describe('what a channel cannot use is refused with the config', () => {
  it.each([
    [
      `pushover: {token: tooshort, user: ${USER}}`,
      'notify.pushover.token: expected the 30-character application API token (letters and digits), got a 8-character string',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ""}`,
      'notify.pushover.user: expected the user or group key, got a 0-character string',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, down_priority: 1.5}`,
      'notify.pushover.down_priority: expected null or an integer from -2 to 2, got 1.5',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, retry: 10}`,
      'notify.pushover.retry: expected an integer of at least 30, got 10',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, expire: 20000}`,
      'notify.pushover.expire: expected an integer from 1 to 10800, got 20000',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, retry: 120, expire: 60}`,
      'notify.pushover.retry: expected at most expire (60 s), got 120: an emergency would never repeat',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, device: "my phone"}`,
      'notify.pushover.device: expected null or device names (up to 25 letters, digits, _ or - each), separated by commas, got "my phone"',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, sound: "a b"}`,
      'notify.pushover.sound: expected null or a sound name such as pushover or siren, got "a b"',
    ],
    [
      `pushover: {token: ${TOKEN}, user: ${USER}, api_url: "not a url"}`,
      'notify.pushover.api_url: expected an http(s) URL, got "not a url"',
    ],
    [
      'mattermost: {url: "https://chat.example.org/webhooks/abc"}',
      'notify.mattermost.url: expected the incoming webhook URL, ending in /hooks/<26-character webhook id>, got a 37-character string',
    ],
    [
      'mattermost: {webhook: "chat.example.org"}',
      'notify.mattermost.webhook: expected the incoming webhook URL, got a 16-character string',
    ],
    [
      `mattermost: {webhook: "${HOOK}", channel: "Town Square"}`,
      'notify.mattermost.channel: expected null or a channel name (lower case, as in its URL) or @user, got "Town Square"',
    ],
    [
      `mattermost: {webhook: "${HOOK}", username: "  "}`,
      'notify.mattermost.username: expected null or a user name to post as (up to 64 characters), got "  "',
    ],
    [
      `mattermost: {webhook: "${HOOK}", icon_url: "hbd.png"}`,
      'notify.mattermost.icon_url: expected null or an http(s) URL, got "hbd.png"',
    ],
    [
      `signal: {${SIGNAL}, group: "aGJk", api: rest}`,
      'notify.signal.group: a group needs api: jsonrpc; signal-cli-rest-api addresses groups differently',
    ],
    [
      'signal: {url: "http://127.0.0.1:8080", account: "0151", recipients: ["+4915199990001"]}',
      'notify.signal.account: expected the sending account, +<country code><number>, got "0151"',
    ],
    [
      `signal: {${SIGNAL}, recipients: ["12345"]}`,
      'notify.signal.recipients[0]: expected a phone number, +<country code><number>, got "12345"',
    ],
    [
      `signal: {${SIGNAL}, recipients: ["+4915199990001"], group: "abc="}`,
      'notify.signal.group: set either recipients or group, not both and not neither',
    ],
    [
      `signal: {${SIGNAL}, group: "a b"}`,
      'notify.signal.group: expected null or a base64 group id, got "a b"',
    ],
    [
      'webhook: {url: "https://hooks.example.org/hbd", secret: short}',
      'notify.webhook.secret: expected null or a secret of at least 16 characters (a short one is easy to guess), got a 5-character string',
    ],
    [
      'webhook: {url: "mailto:x@example.org"}',
      'notify.webhook.url: expected an http(s) URL, got a 20-character string',
    ],
    [
      'webhook: {url: "https://h.example/x", headers: {X-Hbd-Signature: x}}',
      'notify.webhook.headers.X-Hbd-Signature: X-Hbd-Signature is set by hbd itself',
    ],
    [
      'webhook: {url: "https://h.example/x", headers: {"bad name": x}}',
      'notify.webhook.headers.bad name: "bad name" is not a valid header name',
    ],
    [
      'webhook: {url: "https://h.example/x", headers: {X: "a\\r\\nb"}}',
      'notify.webhook.headers.X: expected a header value without line breaks or control characters, got a 4-character string',
    ],
    [
      'ntfy: {url: "https://ntfy.sh/has space"}',
      'notify.ntfy.url: expected the http(s) URL of the topic, such as https://ntfy.sh/mytopic, got a 25-character string',
    ],
    [
      `ntfy: {url: "https://ntfy.sh/${'x'.repeat(65)}"}`,
      'notify.ntfy.url: expected the http(s) URL of the topic, such as https://ntfy.sh/mytopic, got a 81-character string',
    ],
    [
      'ntfy: {url: "https://ntfy.sh/hbd?x=1"}',
      'notify.ntfy.url: expected the http(s) URL of the topic, such as https://ntfy.sh/mytopic, got a 23-character string',
    ],
    [
      'ntfy: {url: "https://ntfy.sh/hbd", token: "tk a"}',
      'notify.ntfy.token: expected null or an access token without spaces, got a 4-character string',
    ],
    [
      `email: {${MAIL}, from: hbd, to: [ops@example.org]}`,
      'notify.email.from: expected the sender address, hbd@example.org or "hbd <hbd@example.org>", got "hbd"',
    ],
    [
      `email: {${MAIL}, from: a@b.c, to: [a@b.c, not an address]}`,
      'notify.email.to[1]: expected an email address, got "not an address"',
    ],
    [
      `email: {${MAIL}, from: a@b.c, to: []}`,
      'notify.email.to: expected a list of at least one email address, got a list',
    ],
    [
      'email: {smtp: "mail.example.org:587", from: a@b.c, to: [a@b.c]}',
      'notify.email.smtp: expected an smtp:// or smtps:// URL, got a 20-character string',
    ],
    [
      'email: {smtp: "smtp://", from: a@b.c, to: [a@b.c]}',
      'notify.email.smtp: expected an smtp:// or smtps:// URL, got a 7-character string',
    ],
  ])('%s', (line, message) => {
    expect(problems(inNotify(line))).toEqual([`hb.yaml:3: ${message}`]);
  });

  it.each([
    `mattermost: {webhook: "${HOOK}", channel: "@alice"}`,
    'email: {smtp: "smtps://mail.example.org", from: "hbd <root@localhost>", to: ["X <x@y.z>"]}',
    'ntfy: {url: "https://ntfy.example.org/hbd/"}',
    `signal: {${SIGNAL}, group: "Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI="}`,
  ])('accepts %s', (line) => {
    expect(() => parse(inNotify(line))).not.toThrow();
  });
});

describe('notify secrets', () => {
  it.each(CHANNELS.flatMap((channel) => channel.secretKeys.map((key) => [channel.name, key] as const)))(
    '%s.%s is described in messages, never shown',
    (name, key) => {
      // Wrong for every secret key: not a URL, too short for a secret, a space in a token, not a map.
      const found = problems(inNotify(`${name}: {${key}: "hunter 2"}`));
      expect(found.some((problem) => problem.includes(`notify.${name}.${key}: `))).toBe(true);
      expect(found.join('\n')).not.toContain('hunter');
    },
  );

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
