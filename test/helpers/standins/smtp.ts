/**
 * An SMTP server in the test process (smtp-server): STARTTLS with the test certificate, AUTH checked
 * against STANDIN_SMTP_USER and STANDIN_SMTP_PASS, every accepted message recorded.
 */

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export const STANDIN_SMTP_USER = 'hbd';
// Characters that must be percent-encoded in an smtp:// URL, so the tests show they are decoded.
export const STANDIN_SMTP_PASS = 'p@ss:word/1';

export interface DeliveredMail {
  from: string | undefined;
  to: string[];
  raw: string;
  secure: boolean;
  user: string | undefined;
}

export interface SmtpStandin {
  port: number;
  /** Accepted messages, in order. */
  delivered: DeliveredMail[];
  close(): Promise<void>;
}

const fixtures = new URL('../../fixtures/', import.meta.url);

/** An error smtp-server answers with `responseCode`. */
export function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

/** `overrides` replace the stand-in's own options, to refuse or fail on purpose. */
export async function startSmtpStandin(overrides: Partial<SMTPServerOptions> = {}): Promise<SmtpStandin> {
  const delivered: DeliveredMail[] = [];
  const server = new SMTPServer({
    key: readFileSync(new URL('tls-key.pem', fixtures)),
    cert: readFileSync(new URL('tls-cert.pem', fixtures)),
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === STANDIN_SMTP_USER && auth.password === STANDIN_SMTP_PASS)
        callback(null, { user: auth.username });
      else callback(smtpError('Authentication credentials invalid', 535));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mailFrom = session.envelope.mailFrom;
        delivered.push({
          from: mailFrom === false ? undefined : mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback();
      });
    },
    ...overrides,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return { port, delivered, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
