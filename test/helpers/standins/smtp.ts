/**
 * An SMTP server in the test process (smtp-server): STARTTLS with the test certificate, AUTH checked
 * against STANDIN_SMTP_USER and STANDIN_SMTP_PASS, every accepted message recorded. It can be told
 * to answer the next message with a reply code, or not at all.
 */

import { readFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
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
  /** Answer the next message's RCPT TO with this reply (550 no such mailbox, 451 try later, …). */
  failNext(code: number, text: string): void;
  /** Never answer the next message's MAIL FROM: the client waits until its own timeout. */
  hangNext(): void;
  close(): Promise<void>;
}

const fixtures = new URL('../../fixtures/', import.meta.url);

/** An error smtp-server answers with `responseCode`. */
export function smtpError(message: string, responseCode: number): Error {
  return Object.assign(new Error(message), { responseCode });
}

type Forced = { kind: 'fail'; code: number; text: string } | { kind: 'hang' };

/** `overrides` replace the stand-in's own options, to refuse or fail on purpose. */
export async function startSmtpStandin(overrides: Partial<SMTPServerOptions> = {}): Promise<SmtpStandin> {
  const delivered: DeliveredMail[] = [];
  const forced: Forced[] = [];
  // A failure set for "the next message" applies to its RCPT TO; the hang is decided at MAIL FROM.
  let failing: Extract<Forced, { kind: 'fail' }> | undefined;
  const server = new SMTPServer({
    key: readFileSync(new URL('tls-key.pem', fixtures)),
    cert: readFileSync(new URL('tls-cert.pem', fixtures)),
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === STANDIN_SMTP_USER && auth.password === STANDIN_SMTP_PASS)
        callback(null, { user: auth.username });
      else callback(smtpError('Authentication credentials invalid', 535));
    },
    onMailFrom(_address, _session, callback) {
      const next = forced.shift();
      if (next?.kind === 'hang') return;
      failing = next;
      callback();
    },
    onRcptTo(_address, _session, callback) {
      if (failing) callback(smtpError(failing.text, failing.code));
      else callback();
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
  // smtp-server waits for its clients before it closes; a hung one would keep it open.
  const sockets = new Set<Socket>();
  server.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    delivered,
    failNext(code, text) {
      forced.push({ kind: 'fail', code, text });
    },
    hangNext() {
      forced.push({ kind: 'hang' });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
