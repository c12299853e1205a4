import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import emailChannel, { EMAIL_CHANNEL, messageIdFor } from '../../src/notify/channels/email.js';
import type { Notifier } from '../../src/notify/types.js';
import { failure } from '../helpers/notify-failure.js';
import { sampleNotification } from '../helpers/sample-notification.js';
import {
  type SmtpStandin,
  STANDIN_SMTP_PASS,
  STANDIN_SMTP_USER,
  smtpError,
  startSmtpStandin,
} from '../helpers/standins/smtp.js';
import { notifierFrom, testNotifier } from './notifier-contract.js';

/**
 * SMTP in the contract's terms: a 5xx reply is a refusal (550 no such mailbox), a 4xx reply may
 * pass (450 rate limited, 451 try later), 535 is wrong credentials; SMTP names no wait.
 */
testNotifier(emailChannel, {
  async start() {
    const smtp = await startSmtpStandin();
    return {
      section: ({ timeout, wrongCredentials } = {}) => ({
        smtp: `smtp://${STANDIN_SMTP_USER}:${encodeURIComponent(wrongCredentials ? 'wrong' : STANDIN_SMTP_PASS)}@127.0.0.1:${smtp.port}`,
        from: 'hbd <hbd@example.org>',
        to: ['ops@example.org'],
        tls_reject_unauthorized: false,
        ...(timeout === undefined ? {} : { timeout }),
      }),
      accepted: () => smtp.delivered.length,
      rejected: () => [],
      failNext(failure) {
        if (failure === 'refusal') smtp.failNext(550, '5.1.1 No such mailbox here');
        else if (failure === 'rate-limit') smtp.failNext(450, '4.7.1 Too many messages, slow down');
        else smtp.failNext(451, '4.3.0 Try again later');
      },
      hangNext: () => smtp.hangNext(),
      close: () => smtp.close(),
    };
  },
  receiptId: /^<hbd\.[0-9a-f]{32}@example\.org>$/,
  refusalStatus: 550,
  serverErrorStatus: 451,
  rateLimitRetryAfterMs: undefined,
  badCredentials: /535 Authentication credentials invalid/,
  badCredentialsStatus: 535,
});

const servers: SmtpStandin[] = [];
const notifiers: Notifier[] = [];

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close?.()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startSmtp(overrides: Parameters<typeof startSmtpStandin>[0] = {}): Promise<SmtpStandin> {
  const server = await startSmtpStandin(overrides);
  servers.push(server);
  return server;
}

function email(port: number, overrides: Record<string, unknown> = {}): Notifier {
  const notifier = notifierFrom(emailChannel, {
    smtp: `smtp://${STANDIN_SMTP_USER}:${encodeURIComponent(STANDIN_SMTP_PASS)}@127.0.0.1:${port}`,
    from: 'hbd <hbd@example.org>',
    to: ['ops@example.org', 'Oncall <oncall@example.net>'],
    tls_reject_unauthorized: false,
    timeout: 5,
    ...overrides,
  });
  notifiers.push(notifier);
  return notifier;
}

/** Header value from a raw message, unfolded. */
function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

function bodyOf(raw: string): string {
  return raw.slice(raw.indexOf('\r\n\r\n') + 4);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('email notifier', () => {
  it('delivers over STARTTLS with auth: envelope, headers, subject and plain body', async () => {
    const smtp = await startSmtp();
    const notifier = email(smtp.port);
    const receipt = await notifier.send(sampleNotification());

    expect(smtp.delivered).toHaveLength(1);
    const mail = smtp.delivered[0]!;
    expect(mail.secure).toBe(true);
    expect(mail.user).toBe(STANDIN_SMTP_USER);
    expect(mail.from).toBe('hbd@example.org');
    expect(mail.to).toEqual(['ops@example.org', 'oncall@example.net']);
    expect(header(mail.raw, 'From')).toBe('hbd <hbd@example.org>');
    expect(header(mail.raw, 'To')).toBe('ops@example.org, Oncall <oncall@example.net>');
    expect(header(mail.raw, 'Subject')).toBe('web1 is down');
    expect(header(mail.raw, 'X-Hbd-Dedup-Key')).toBe('down:web1:1700000000000');
    expect(header(mail.raw, 'Content-Type')).toMatch(/^text\/plain/);
    const messageId = messageIdFor('down:web1:1700000000000', 'example.org');
    expect(header(mail.raw, 'Message-ID')).toBe(messageId);
    expect(bodyOf(mail.raw).trimEnd()).toBe(sampleNotification().body.replaceAll('\n', '\r\n'));

    expect(receipt.id).toBe(messageId);
    expect(receipt.detail).toMatch(/^250 /);
  });

  it('sends the full details as the body when there are any, not the short body', async () => {
    const smtp = await startSmtp();
    const details =
      'web1 went quiet at 12:00:00.\n  last heard 11:59:30, status ok, msg "disk 91% full"\n  address 192.0.2.10';
    await email(smtp.port).send(sampleNotification({ details }));
    const body = bodyOf(smtp.delivered[0]!.raw).trimEnd();
    expect(body).toBe(details.replaceAll('\n', '\r\n'));
    expect(body).not.toContain('Address: 192.0.2.10');
  });

  it('gives the same Message-ID to a re-sent message and a different one to another key', async () => {
    const smtp = await startSmtp();
    const notifier = email(smtp.port);
    await notifier.send(sampleNotification());
    await notifier.send(sampleNotification());
    await notifier.send(sampleNotification({ dedupKey: 'up:web1:1700000060000' }));
    const ids = smtp.delivered.map((m) => header(m.raw, 'Message-ID'));
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(ids[0]).toMatch(/^<[^<>@\s]+@example\.org>$/);
  });

  it('delivers over smtps:// (TLS from the first byte)', async () => {
    const smtp = await startSmtp({ secure: true });
    const notifier = email(smtp.port, {
      smtp: `smtps://${STANDIN_SMTP_USER}:${encodeURIComponent(STANDIN_SMTP_PASS)}@127.0.0.1:${smtp.port}`,
    });
    await notifier.send(sampleNotification());
    expect(smtp.delivered[0]?.secure).toBe(true);
  });

  it('refuses a self-signed certificate unless told not to', async () => {
    const smtp = await startSmtp();
    const error = await failure(
      email(smtp.port, { tls_reject_unauthorized: undefined }).send(sampleNotification()),
    );
    expect(error.channel).toBe(EMAIL_CHANNEL);
    expect(smtp.delivered).toHaveLength(0);
  });

  it('an unknown mailbox (550) is permanent', async () => {
    const smtp = await startSmtp({
      onRcptTo(_address, _session, callback) {
        callback(smtpError('No such mailbox here', 550));
      },
    });
    const error = await failure(email(smtp.port).send(sampleNotification()));
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(550);
    expect(error.message).toContain('No such mailbox here');
  });

  it('a 451 answer is retryable', async () => {
    const smtp = await startSmtp({
      onData(stream, _session, callback) {
        stream.resume();
        stream.on('end', () => callback(smtpError('Try again later, greylisted', 451)));
      },
    });
    const error = await failure(email(smtp.port).send(sampleNotification()));
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(451);
    expect(error.message).toContain('greylisted');
  });

  it('nothing listening is retryable', async () => {
    const port = await closedPort();
    const error = await failure(email(port).send(sampleNotification()));
    expect(error.retryable).toBe(true);
    expect(error.status).toBeUndefined();
  });
});
