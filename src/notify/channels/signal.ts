/**
 * Signal through a local signal-cli, which owns the registered account:
 *
 * - `api: jsonrpc` (default): `signal-cli daemon --http`, one JSON-RPC `send` to {url}/api/v1/rpc
 *   (man signal-cli-jsonrpc(5)). The answer lists one result per recipient device; when every
 *   delivery failed, signal-cli answers with an error object instead and puts the same list in
 *   `error.data.response`.
 * - `api: rest`: bbernhard/signal-cli-rest-api, `POST {url}/v2/send` → 201 {timestamp}.
 */

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { oneOf } from '../../lib/schema-leaves.js';
import type { DeliveryReceipt, Notification } from '../../model/notification.js';
import { type Notifier, NotifyError } from '../types.js';
import { inertChatText } from './chat-text.js';
import { defineChannel, httpUrl, optionalText, text, timeout, timeoutMs } from './define-channel.js';
import { clip, ERROR_TEXT_LIMIT, type HttpResponse, postJson } from './http.js';

export const SIGNAL_CHANNEL = 'signal';

const E164 = /^\+[1-9]\d{6,14}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

const schema = z
  .object(
    {
      // Base URL of `signal-cli daemon --http` or of signal-cli-rest-api, e.g. http://127.0.0.1:8080.
      url: httpUrl('the http(s) URL of signal-cli'),
      // E.164: +4915112345678.
      account: text('the sending account, +<country code><number>', E164),
      recipients: z
        .array(
          text('a phone number', E164, 'a phone number, +<country code><number>'),
          'expected null or a list of phone numbers',
        )
        .min(1, 'expected null or a list of at least one phone number')
        .nullable()
        .default(null),
      // jsonrpc only: the REST form addresses groups differently.
      group: optionalText('a base64 group id', BASE64),
      api: oneOf(['jsonrpc', 'rest']).default('jsonrpc'),
      timeout: timeout(10),
    },
    'expected a map with url, account, and recipients or group',
  )
  .superRefine(({ recipients, group, api }, ctx) => {
    if ((recipients === null) === (group === null)) {
      ctx.addIssue({
        code: 'custom',
        path: [recipients === null ? 'recipients' : 'group'],
        message: 'set either recipients or group, not both and not neither',
      });
    } else if (group !== null && api === 'rest') {
      ctx.addIssue({
        code: 'custom',
        path: ['group'],
        message: 'a group needs api: jsonrpc; signal-cli-rest-api addresses groups differently',
      });
    }
  });

export type SignalSection = z.output<typeof schema>;

export default defineChannel({
  name: SIGNAL_CHANNEL,
  schema,
  secretKeys: [],
  pushService: true,
  example: '{url: "http://127.0.0.1:8080", account: "+4915112345678", recipients: ["+4915187654321"]}',
  create: (section, context) => createSignal(section, context.now),
});

/** signal-cli's own codes (SignalJsonRpcCommandHandler) and the JSON-RPC reserved ones. */
const RPC_IO_ERROR = -3;
const RPC_INTERNAL_ERROR = -32603;

type ResultType =
  | 'SUCCESS'
  | 'NETWORK_FAILURE'
  | 'UNREGISTERED_FAILURE'
  | 'IDENTITY_FAILURE'
  | 'RATE_LIMIT_FAILURE'
  | 'INVALID_PRE_KEY_FAILURE';

interface SendResult {
  who: string;
  type: ResultType | string;
  retryAfterSeconds: number | undefined;
}

// Failures a later attempt may get past: signal's rate limit ends, the network comes back.
const RETRYABLE_TYPES = new Set(['RATE_LIMIT_FAILURE', 'NETWORK_FAILURE']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseResults(value: unknown): SendResult[] | undefined {
  if (!Array.isArray(value)) return undefined;
  return value.filter(isObject).map((r) => {
    const address = isObject(r.recipientAddress) ? r.recipientAddress : {};
    const who = [address.number, address.uuid, address.username].find((x) => typeof x === 'string');
    return {
      who: typeof who === 'string' ? who : 'recipient',
      type: typeof r.type === 'string' ? r.type : 'UNKNOWN',
      retryAfterSeconds: typeof r.retryAfterSeconds === 'number' ? r.retryAfterSeconds : undefined,
    };
  });
}

/** One failure for the whole message: a retry goes to everyone, so it is worth one if anyone may still get it. */
function failureFrom(failed: readonly SendResult[], status: number | undefined): NotifyError {
  const retryable = failed.some((r) => RETRYABLE_TYPES.has(r.type));
  const waits = failed.flatMap((r) =>
    r.retryAfterSeconds === undefined ? [] : [r.retryAfterSeconds * 1000],
  );
  const retryAfterMs = waits.length > 0 ? Math.max(...waits) : undefined;
  const text = failed.map((r) => `${r.who}: ${r.type}`).join(', ');
  return new NotifyError(SIGNAL_CHANNEL, `not delivered (${text})`, {
    retryable,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    ...(status === undefined ? {} : { status }),
  });
}

function receiptFrom(timestamp: unknown, results: readonly SendResult[] | undefined): DeliveryReceipt {
  const id = typeof timestamp === 'number' || typeof timestamp === 'string' ? String(timestamp) : undefined;
  const failed = results?.filter((r) => r.type !== 'SUCCESS') ?? [];
  const sent = results ? results.length - failed.length : undefined;
  let detail = id === undefined ? 'sent' : `sent, timestamp ${id}`;
  if (sent !== undefined) detail += `, ${sent} of ${results?.length} delivered`;
  // Some recipients got it: a retry would repeat it to them, so the rest are reported, not retried.
  if (failed.length > 0) detail += ` (failed: ${failed.map((r) => `${r.who}: ${r.type}`).join(', ')})`;
  return id === undefined ? { detail } : { id, detail };
}

function fromJsonRpc(response: HttpResponse): DeliveryReceipt {
  const json = response.json;
  if (!isObject(json)) {
    throw new NotifyError(
      SIGNAL_CHANNEL,
      `unexpected answer (HTTP ${response.status}): not a JSON-RPC response`,
      {
        retryable: true,
        status: response.status,
      },
    );
  }
  if (isObject(json.error)) {
    const code = typeof json.error.code === 'number' ? json.error.code : undefined;
    const message = typeof json.error.message === 'string' ? json.error.message : 'unknown error';
    const data = isObject(json.error.data) ? json.error.data : {};
    const inner = isObject(data.response) ? data.response : {};
    const results = parseResults(inner.results);
    const failed = results?.filter((r) => r.type !== 'SUCCESS') ?? [];
    if (failed.length > 0) throw failureFrom(failed, undefined);
    // Server errors (-32000…-32099, internal, signal-cli's I/O error) may pass; bad params or accounts will not.
    const retryable =
      code !== undefined &&
      (code === RPC_INTERNAL_ERROR || code === RPC_IO_ERROR || (code <= -32000 && code >= -32099));
    throw new NotifyError(
      SIGNAL_CHANNEL,
      `JSON-RPC error ${code ?? '?'}: ${clip(message, ERROR_TEXT_LIMIT)}`,
      {
        retryable,
      },
    );
  }
  const result = isObject(json.result) ? json.result : {};
  const results = parseResults(result.results);
  if (results !== undefined && results.length > 0 && results.every((r) => r.type !== 'SUCCESS')) {
    throw failureFrom(results, undefined);
  }
  return receiptFrom(result.timestamp, results);
}

function fromRest(response: HttpResponse): DeliveryReceipt {
  const json = isObject(response.json) ? response.json : {};
  return receiptFrom(json.timestamp, undefined);
}

function restErrorText(json: unknown): string | undefined {
  return isObject(json) && typeof json.error === 'string' ? json.error : undefined;
}

function rpcErrorText(json: unknown): string | undefined {
  return isObject(json) && isObject(json.error) && typeof json.error.message === 'string'
    ? json.error.message
    : undefined;
}

function createSignal(section: SignalSection, now: () => number): Notifier {
  const { account, recipients, group, api } = section;
  const path = api === 'rest' ? 'v2/send' : 'api/v1/rpc';
  const endpoint = `${section.url.replace(/\/+$/, '')}/${path}`;
  const common = { timeoutMs: timeoutMs(section.timeout), now };

  async function send(notification: Notification, signal?: AbortSignal): Promise<DeliveryReceipt> {
    // Signal has no subject line: the title leads, then the body. Made inert like every chat
    // channel's text (Signal's own mentions are not text, but the rule is one for all).
    const message = inertChatText(
      notification.body.trim() === '' ? notification.title : `${notification.title}\n\n${notification.body}`,
    );
    const options = { ...common, ...(signal ? { signal } : {}) };
    if (api === 'rest') {
      const response = await postJson(
        SIGNAL_CHANNEL,
        endpoint,
        { message, number: account, recipients },
        { ...options, errorText: restErrorText },
      );
      return fromRest(response);
    }
    const params =
      group === null ? { account, recipient: recipients, message } : { account, groupId: group, message };
    const response = await postJson(
      SIGNAL_CHANNEL,
      endpoint,
      { jsonrpc: '2.0', method: 'send', params, id: randomUUID() },
      { ...options, errorText: rpcErrorText },
    );
    return fromJsonRpc(response);
  }

  return { channel: SIGNAL_CHANNEL, send };
}
