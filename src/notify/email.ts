import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { errorMessage } from '../lib/error-message.js';
import type { DeliveryReceipt, Notification } from '../model/notification.js';
import { clip, ERROR_TEXT_LIMIT } from './http.js';
import type { Notifier } from './types.js';
import { NotifyError } from './types.js';

export const EMAIL_CHANNEL = 'email';

export interface EmailOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465` (TLS from the start). */
  smtp: string;
  /** `hbd@example.com` or `hbd <hbd@example.com>`. */
  from: string;
  to: readonly string[];
  /** False only for test servers with self-signed certificates. Default true. */
  tls_reject_unauthorized?: boolean;
  /** Connect, greeting and idle limit for one delivery, ms. Default 15 000. */
  timeout_ms?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;

// Deliberately simple: it catches typos and config mix-ups, not every RFC 5322 corner.
const ADDRESS =
  /^[^\s@<>()[\]",;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const NAMED_ADDRESS = /^[^<>]*<([^<>]+)>$/;

/** The bare address of `a@b` or `Name <a@b>`, or undefined when it is not one. */
function addressOf(value: string): string | undefined {
  const trimmed = value.trim();
  const named = NAMED_ADDRESS.exec(trimmed);
  const address = named ? named[1]!.trim() : trimmed;
  return ADDRESS.test(address) ? address : undefined;
}

function optionError(option: string, problem: string): Error {
  return new Error(`${EMAIL_CHANNEL}: option '${option}' ${problem}`);
}

function transportOptions(options: EmailOptions): SMTPTransport.Options {
  if (typeof options.smtp !== 'string' || options.smtp === '') {
    throw optionError('smtp', 'is required (smtp://user:pass@host:port or smtps://…)');
  }
  let url: URL;
  try {
    url = new URL(options.smtp);
  } catch {
    throw optionError('smtp', 'is not a URL (smtp://user:pass@host:port or smtps://…)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw optionError('smtp', `must use smtp:// or smtps://, not ${url.protocol}//`);
  }
  if (url.hostname === '') throw optionError('smtp', 'has no host');
  const secure = url.protocol === 'smtps:';
  const timeout = options.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeout) || timeout <= 0) throw optionError('timeout_ms', 'must be a positive number');
  const reject = options.tls_reject_unauthorized ?? true;
  if (typeof reject !== 'boolean') throw optionError('tls_reject_unauthorized', 'must be true or false');
  return {
    // WHATWG URL keeps IPv6 literals bracketed; sockets want them bare.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 465 : 587) : Number(url.port),
    secure,
    // Credentials may hold reserved characters, percent-encoded in the URL.
    auth:
      url.username === ''
        ? undefined
        : { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) },
    tls: { rejectUnauthorized: reject },
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    dnsTimeout: timeout,
  };
}

function checkAddresses(options: EmailOptions): { from: string; to: string[]; domain: string } {
  if (typeof options.from !== 'string') throw optionError('from', 'is required');
  const fromAddress = addressOf(options.from);
  if (fromAddress === undefined) throw optionError('from', `is not an email address: '${options.from}'`);
  if (!Array.isArray(options.to) || options.to.length === 0) {
    throw optionError('to', 'must list at least one address');
  }
  const to = options.to.map((value: unknown) => {
    if (typeof value !== 'string' || addressOf(value) === undefined) {
      throw optionError('to', `has an entry that is not an email address: '${String(value)}'`);
    }
    return value.trim();
  });
  return { from: options.from.trim(), to, domain: fromAddress.slice(fromAddress.lastIndexOf('@') + 1) };
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

export default function createEmail(options: EmailOptions): Notifier {
  if (typeof options !== 'object' || options === null)
    throw new Error(`${EMAIL_CHANNEL}: options are required`);
  const smtp = transportOptions(options);
  const { from, to, domain } = checkAddresses(options);
  // Not pooled: a notification is rare, and an idle pooled connection would only be dropped by the server.
  const transport = nodemailer.createTransport(smtp);

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
