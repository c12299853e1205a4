/**
 * Email over SMTP (nodemailer): one plain-text mail per notification, with the full details as
 * its body. `smtp://` upgrades with STARTTLS when the server offers it; `smtps://` is TLS from the
 * first byte.
 *
 * How SMTP answers map onto the outbox: a 4xx reply (greylisting, "try later", a rate limit) may
 * be retried; a 5xx reply (no such mailbox, 535 bad credentials) is a refusal and is not; no
 * reply at all (no connection, a timeout) may be retried. SMTP has no Retry-After, so a retry
 * follows the outbox's own backoff.
 */

import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { z } from 'zod';
import { errorMessage } from '../../lib/error-message.js';
import { flag } from '../../lib/schema-leaves.js';
import type { DeliveryReceipt, Notification } from '../../model/notification.js';
import type { Notifier } from '../types.js';
import { NotifyError } from '../types.js';
import { defineChannel, text, timeout, timeoutMs } from './define-channel.js';
import { clip, ERROR_TEXT_LIMIT } from './http.js';

export const EMAIL_CHANNEL = 'email';

// Deliberately simple: it catches typos and config mix-ups, not every RFC 5322 corner.
const LOCAL_PART = '[^\\s@<>()[\\]",;:]+';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?';
const ADDRESS = `${LOCAL_PART}@${LABEL}(?:\\.${LABEL})*`;
/** `a@b` or `Name <a@b>`, with the bare address in group 1 or 2. */
const MAILBOX = new RegExp(`^\\s*(?:(${ADDRESS})|[^<>]*<\\s*(${ADDRESS})\\s*>)\\s*$`);

const SMTP_URL = 'expected an smtp:// or smtps:// URL';
/** A host after the scheme and any user:password@ (the last @ ends those, as in the URL parser). */
const WITH_HOST = /^smtps?:\/\/(?:[^/?#]*@)?[^/?#:@]/i;

const schema = z.object(
  {
    // Credentials may hold reserved characters, percent-encoded in the URL.
    smtp: z.url({ protocol: /^smtps?$/, error: SMTP_URL, abort: true }).regex(WITH_HOST, SMTP_URL),
    from: text(
      'the sender address',
      MAILBOX,
      'the sender address, hbd@example.org or "hbd <hbd@example.org>"',
    ),
    to: z
      .array(text('an email address', MAILBOX), 'expected a list of email addresses')
      .min(1, 'expected a list of at least one email address'),
    // False only for test servers with self-signed certificates.
    tls_reject_unauthorized: flag.default(true),
    // For connecting, the greeting, and each step.
    timeout: timeout(15),
  },
  'expected a map with smtp, from and to',
);

export type EmailSection = z.output<typeof schema>;

export default defineChannel({
  name: EMAIL_CHANNEL,
  schema,
  // The URL carries the SMTP password.
  secretKeys: ['smtp'],
  example: '{smtp: "smtps://hbd:secret@mail.example.org", from: hbd@example.org, to: [ops@example.org]}',
  create: (section) => createEmail(section),
});

/** The bare address of `a@b` or `Name <a@b>`; the schema made sure it is one. */
function addressOf(mailbox: string): string {
  const match = MAILBOX.exec(mailbox);
  return match?.[1] ?? match?.[2] ?? mailbox.trim();
}

function transportOptions(section: EmailSection): SMTPTransport.Options {
  const url = new URL(section.smtp);
  const secure = url.protocol === 'smtps:';
  const timeout = timeoutMs(section.timeout);
  return {
    // WHATWG URL keeps IPv6 literals bracketed; sockets want them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    auth:
      url.username === ''
        ? undefined
        : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    tls: { rejectUnauthorized: section.tls_reject_unauthorized },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
  };
}

/**
 * The same dedup key always gives the same Message-ID, so a message re-sent after a
 * crash is recognisably a duplicate for mail clients and for whoever reads it. Hashed
 * because dedup keys may hold characters a Message-ID may not.
 */
export function messageIdFor(dedupKey: string, domain: string): string {
  const digest = createHash('sha256').update(dedupKey).digest('hex').slice(0, 32);
  return `<hbd.${digest}@${domain}>`;
}

interface SmtpErrorFields {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
}

// Errors without an SMTP reply that no retry will cure: the configuration has to change.
const PERMANENT_CODES = new Set(['EAUTH', 'EENVELOPE', 'EREQUIRETLS']);

function classify(error: unknown): NotifyError {
  const fields: SmtpErrorFields = typeof error === 'object' && error !== null ? error : {};
  const responseCode = typeof fields.responseCode === 'number' ? fields.responseCode : undefined;
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const message = errorMessage(error);
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    // The server's own words explain a refusal best (535 auth failed, 550 no such mailbox).
    const text = typeof fields.response === 'string' ? fields.response : message;
    return new NotifyError(EMAIL_CHANNEL, clip(text, ERROR_TEXT_LIMIT), {
      retryable: responseCode < 500,
      status: responseCode,
      cause: error,
    });
  }
  const retryable = code === undefined || !PERMANENT_CODES.has(code);
  return new NotifyError(EMAIL_CHANNEL, code ? `${code}: ${message}` : message, { retryable, cause: error });
}

function abortError(signal: AbortSignal): NotifyError {
  return new NotifyError(EMAIL_CHANNEL, 'aborted', { retryable: true, cause: signal.reason });
}

function createEmail(section: EmailSection): Notifier {
  const from = section.from.trim();
  const to = section.to.map((address) => address.trim());
  const fromAddress = addressOf(from);
  const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1);
  // Not pooled: a notification is rare, and an idle pooled connection would only be dropped by the server.
  const transport = nodemailer.createTransport(transportOptions(section));

  async function send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
    if (signal?.aborted) throw abortError(signal);
    const sending = transport.sendMail({
      from,
      to,
      subject: notification.title,
      // A mail has room for the full account that push services get only the gist of.
      text: notification.details ?? notification.body,
      messageId: messageIdFor(notification.dedupKey, domain),
      headers: { 'X-Hbd-Dedup-Key': notification.dedupKey },
    });
    let onAbort: (() => void) | undefined;
    // nodemailer takes no AbortSignal; the abandoned delivery ends on its own timeouts.
    const aborted = new Promise<never>((_, reject) => {
      if (!signal) return;
      onAbort = () => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await Promise.race([sending, aborted]);
    } catch (error) {
      if (error instanceof NotifyError) throw error;
      throw classify(error);
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
      // A late failure of the abandoned delivery must not surface as an unhandled rejection.
      sending.catch(() => {});
    }
    const rejected = info.rejected.map((entry) => (typeof entry === 'string' ? entry : entry.address));
    const detail =
      rejected.length > 0 ? `${info.response} (rejected: ${rejected.join(', ')})` : info.response;
    return { id: info.messageId, detail };
  }

  return {
    channel: EMAIL_CHANNEL,
    send,
    async close() {
      transport.close();
    },
  };
}
