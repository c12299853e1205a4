/**
 * The whole path to a mailbox: a real hbd hears a host, loses it, and mails the people in
 * `notify.email.to` through an independent SMTP server (aiosmtpd) that stores what it receives.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { type RunningSmtp, startAiosmtpd } from '../helpers/aiosmtpd.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let hbd: TestDaemon | undefined;
let smtp: RunningSmtp | undefined;
const client = dgram.createSocket('udp4');

afterEach(async () => {
  await hbd?.stop();
  await smtp?.stop();
  hbd = undefined;
  smtp = undefined;
});

function beat(host: string, msg: string): Promise<void> {
  const datagram = encodeHeartbeat({ host, ts: Date.now() / 1000, msg });
  return new Promise((resolve, reject) =>
    client.send(datagram, hbd!.daemon.udp.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
}

describe('notifications by email, end to end', () => {
  it('mails a host going down and coming back, with its details, through aiosmtpd', async () => {
    smtp = await startAiosmtpd();
    hbd = await startTestDaemon({
      interval: 0.4,
      grace: 0.4,
      notify: {
        group_wait: 0.3,
        restart_grace: 0,
        email: {
          smtp: smtp.url,
          from: 'hbd <hbd@example.org>',
          to: ['ops@example.org', 'oncall@example.net'],
        },
      },
    });
    await beat('mail1', 'nightly backup running');
    const [down] = await smtp.waitForMessages(1, 5000);
    expect(down!.subject).toBe('mail1 is down');
    expect(down!.envelope.rcptTo.sort()).toEqual(['oncall@example.net', 'ops@example.org']);
    expect(down!.from).toContain('hbd@example.org');
    expect(down!.text).toContain('Last status ok, "nightly backup running"; address 127.0.0.1');
    expect(down!.text).toMatch(/It had been up for \d+s\b/);

    await beat('mail1', 'back');
    const messages = await smtp.waitForMessages(2, 5000);
    expect(messages.map((message) => message.subject)).toEqual(['mail1 is down', 'mail1 is back up']);
    expect(messages[1]!.text).toMatch(/It had been down for \d+s\b/);
    // The same dedup key never makes two different mails.
    expect(new Set(messages.map((message) => message.headers['message-id']?.[0])).size).toBe(2);
  });
});
