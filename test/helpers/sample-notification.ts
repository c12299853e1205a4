import type { Notification } from '../../src/model/notification.js';

/** web1 going down: one message for the in-process and the aiosmtpd email tests, so both check the same mail. */
export function sampleNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    dedupKey: 'down:web1:1700000000000',
    kind: 'down',
    title: 'web1 is down',
    body: 'web1 went quiet at 12:00:00.\nLast heard: 11:59:30, status ok.\nAddress: 192.0.2.10',
    hosts: [
      { name: 'web1', state: 'down', status: 'ok', msg: null, addr: '192.0.2.10', previousFor: 60_000 },
    ],
    at: 1_700_000_000_000,
    resolves: false,
    ...overrides,
  };
}

/** web_1 going down: the underscore is Markdown, which the push channels must not let it become. */
export function pushNotification(overrides: Partial<Notification> = {}): Notification {
  return {
    dedupKey: 'down:web_1:1746534600000',
    kind: 'down',
    title: 'web_1 is down',
    body: 'web_1 went quiet at 12:30:00 UTC.\nLast: "ok" from 198.51.100.7',
    hosts: [
      { name: 'web_1', state: 'down', status: 'ok', msg: 'ok', addr: '198.51.100.7', previousFor: 1000 },
    ],
    at: Date.UTC(2025, 4, 6, 12, 30),
    resolves: false,
    ...overrides,
  };
}
