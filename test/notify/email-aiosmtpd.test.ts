import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import emailChannel, { EMAIL_CHANNEL, messageIdFor } from '../../src/notify/channels/email.js';
import type { Notifier } from '../../src/notify/types.js';
import { type RunningSmtp, startAiosmtpd } from '../helpers/aiosmtpd.js';
import { failure } from '../helpers/notify-failure.js';
import { sampleNotification } from '../helpers/sample-notification.js';
import { notifierFrom } from './notifier-contract.js';

// The unit tests talk to an SMTP server embedded in the test process, written by the same people as
// the client; these deliver to a separate implementation, so both ends cannot share a misreading.

const starttls = {
  cert: fileURLToPath(new URL('../fixtures/tls-cert.pem', import.meta.url)),
  key: fileURLToPath(new URL('../fixtures/tls-key.pem', import.meta.url)),
};

const servers: RunningSmtp[] = [];
const notifiers: Notifier[] = [];

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.close?.()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function aiosmtpd(options: Parameters<typeof startAiosmtpd>[0] = {}): Promise<RunningSmtp> {
  const server = await startAiosmtpd(options);
  servers.push(server);
  return server;
}

function email(server: RunningSmtp, overrides: Record<string, unknown> = {}): Notifier {
  const notifier = notifierFrom(emailChannel, {
    smtp: server.url,
    from: 'hbd <hbd@example.org>',
    to: ['ops@example.org', 'Oncall <oncall@example.net>'],
    timeout: 5,
    ...overrides,
  });
  notifiers.push(notifier);
  return notifier;
}

describe('email notifier against aiosmtpd', () => {
  it('delivers over plain SMTP: envelope, headers, subject and body', async () => {
    const server = await aiosmtpd();
    const sent = sampleNotification();
    const before = Date.now();

    const receipt = await email(server).send(sent);

    const [mail, ...others] = await server.waitForMessages(1);
    expect(others).toHaveLength(0);
    expect(mail!.envelope).toEqual({
      mailFrom: 'hbd@example.org',
      rcptTo: ['ops@example.org', 'oncall@example.net'],
    });
    expect(mail!.from).toBe('hbd <hbd@example.org>');
    expect(mail!.to).toBe('ops@example.org, Oncall <oncall@example.net>');
    expect(mail!.subject).toBe(sent.title);
    for (const line of sent.body.split('\n')) expect(mail!.text).toContain(line);

    const dates = mail!.headers.date ?? [];
    expect(dates).toHaveLength(1);
    // RFC 5322 dates have whole seconds.
    expect(Date.parse(dates[0]!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(Date.parse(dates[0]!)).toBeLessThanOrEqual(Date.now());

    const messageId = messageIdFor(sent.dedupKey, 'example.org');
    expect(mail!.headers['message-id']).toEqual([messageId]);
    expect(mail!.headers['x-hbd-dedup-key']).toEqual([sent.dedupKey]);
    expect(receipt.id).toBe(messageId);
    expect(receipt.detail).toMatch(/^250 /);
  });

  it('carries the full details when the notification has them', async () => {
    const server = await aiosmtpd();
    const sent = sampleNotification({
      dedupKey: 'down:group:1700000000000',
      title: '2 hosts down',
      body: 'web1 and web2 went quiet.',
      details: [
        'web1: down since 12:00:00, last heard 11:59:30, status ok, msg none, 192.0.2.10',
        'web2: down since 12:00:05, last heard 11:59:35, status warn, msg "disk 91%", 192.0.2.11',
      ].join('\n'),
    });

    await email(server).send(sent);

    const [mail] = await server.waitForMessages(1);
    expect(mail!.subject).toBe('2 hosts down');
    for (const line of sent.details!.split('\n')) expect(mail!.text).toContain(line);
  });

  it('keeps text beyond ASCII intact in the subject and the body', async () => {
    const server = await aiosmtpd();
    // Non-ASCII and a line longer than SMTP's 78 make the client encode both (encoded-words,
    // quoted-printable or base64); what arrives must decode back to exactly this.
    const sent = sampleNotification({
      title: 'web1 está caído — Zürich ☃',
      body: `Größe: 5 µs, “quoted”.\n${'ø'.repeat(60)} ${'long line '.repeat(12).trim()}\nend=of=body`,
    });

    await email(server).send(sent);

    const [mail] = await server.waitForMessages(1);
    expect(mail!.subject).toBe(sent.title);
    expect(mail!.text.trimEnd()).toBe(sent.body);
  });

  it('upgrades with STARTTLS when the server offers it', async () => {
    const server = await aiosmtpd({ starttls });

    await email(server, { tls_reject_unauthorized: false }).send(sampleNotification());

    // The server refuses MAIL before STARTTLS, so the delivery alone shows the upgrade; its log says so too.
    const [mail] = await server.waitForMessages(1);
    expect(mail!.subject).toBe('web1 is down');
    expect(server.log()).toMatch(/b'STARTTLS'/);
  });

  it('refuses an untrusted server certificate and delivers nothing', async () => {
    const server = await aiosmtpd({ starttls });

    const error = await failure(email(server, { tls_reject_unauthorized: true }).send(sampleNotification()));

    expect(error.channel).toBe(EMAIL_CHANNEL);
    expect(error.message).toMatch(/certificate/i);
    expect(await server.messages()).toEqual([]);
  });

  it('a login the server refuses is permanent, with its reply', async () => {
    // aiosmtpd's command line has no way to set credentials: it offers AUTH after STARTTLS and
    // refuses every login, which is what a wrong password looks like from here.
    const server = await aiosmtpd({ starttls });
    const smtp = server.url.replace('smtp://', 'smtp://hbd:secret@');

    const error = await failure(
      email(server, { smtp, tls_reject_unauthorized: false }).send(sampleNotification()),
    );

    expect(error.retryable).toBe(false);
    expect(error.status).toBe(535);
    expect(error.message).toContain('Authentication credentials invalid');
    expect(await server.messages()).toEqual([]);
  });

  it('a server that has stopped is retryable', async () => {
    const server = await aiosmtpd();
    await server.stop();

    const error = await failure(email(server).send(sampleNotification()));

    expect(error.retryable).toBe(true);
    expect(error.status).toBeUndefined();
  });
});
