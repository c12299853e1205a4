/**
 * A receiver for hbd's own webhook, and the shared machinery of every HTTP stand-in: a local
 * server that checks each request, records what it accepted, and can be told to fail or hang.
 *
 * The shared part lives here because the webhook stand-in is the plain receiver the others build
 * on; it would move to its own module (standins/server.ts) when one is allowed.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookPayload } from '../../../src/notify/channels/webhook.js';

export interface IncomingRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  raw: string;
}

export interface StandinAnswer<R> {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Set when the request was accepted: it goes into `requests`. */
  record?: R;
}

export interface Standin<R> {
  url: string;
  /** Accepted requests, in order. */
  requests: R[];
  /** Requests the stand-in refused because they break the API, with why: a test failing should say this. */
  rejected: { request: IncomingRequest; status: number; body: string }[];
  /** Answer the next `times` requests with `status` (and the service's usual error body for it). */
  failNext(status: number, times?: number, headers?: Record<string, string>, body?: string): void;
  /** Never answer the next `times` requests (for timeouts); they are cut when the stand-in closes. */
  hangNext(times?: number): void;
  close(): Promise<void>;
}

export interface StandinSpec<R> {
  handle(request: IncomingRequest): StandinAnswer<R>;
  /** The service's own error body and headers for a forced failure. */
  errorAnswer(status: number): { body: string; headers?: Record<string, string> };
}

interface Forced {
  kind: 'fail' | 'hang';
  status: number;
  headers: Record<string, string>;
  body: string | undefined;
}

/** `port` 0 takes any free port; a fixed one brings a stand-in back where an earlier one was. */
export async function startHttpStandin<R>(spec: StandinSpec<R>, port = 0): Promise<Standin<R>> {
  const requests: R[] = [];
  const rejected: Standin<R>['rejected'] = [];
  const forced: Forced[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const next = forced.shift();
      if (next?.kind === 'hang') return;
      if (next?.kind === 'fail') {
        const answer = spec.errorAnswer(next.status);
        reply(res, {
          status: next.status,
          headers: { ...answer.headers, ...next.headers },
          body: next.body ?? answer.body,
        });
        return;
      }
      const url = new URL(req.url ?? '/', 'http://standin');
      const incoming: IncomingRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        headers: req.headers,
        raw: Buffer.concat(chunks).toString('utf8'),
      };
      let answer: StandinAnswer<R>;
      try {
        answer = spec.handle(incoming);
      } catch (error) {
        answer = { status: 500, body: `stand-in crashed: ${String(error)}` };
      }
      if (answer.record !== undefined) requests.push(answer.record);
      else if (answer.status >= 400)
        rejected.push({ request: incoming, status: answer.status, body: answer.body ?? '' });
      reply(res, answer);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: listening } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${listening}`,
    requests,
    rejected,
    failNext(status, times = 1, headers = {}, body) {
      for (let i = 0; i < times; i++) forced.push({ kind: 'fail', status, headers, body });
    },
    hangNext(times = 1) {
      for (let i = 0; i < times; i++) forced.push({ kind: 'hang', status: 0, headers: {}, body: undefined });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(
  res: ServerResponse,
  answer: { status: number; headers?: Record<string, string>; body?: string },
) {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body ?? '');
}

/** Collects what is wrong with a request, so one answer names every problem at once. */
export class Problems {
  readonly list: string[] = [];
  add(problem: string): void {
    this.list.push(problem);
  }
  get ok(): boolean {
    return this.list.length === 0;
  }
}

export function mediaType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/* ------------------------------------------------------------------ webhook receiver */

export interface WebhookStandinOptions {
  /** When set, every request must carry a valid X-Hbd-Signature for it. */
  secret?: string;
  /** Path the receiver listens on. */
  path?: string;
  /** Default: any free port. */
  port?: number;
}

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  raw: string;
  body: WebhookPayloadShape;
}

/** The documented body: the type is hbd's own; what arrives is still checked field by field below. */
export type WebhookPayloadShape = WebhookPayload;

const KINDS = ['down', 'up', 'status', 'reminder', 'flapping', 'isolated', 'digest', 'channel', 'test'];
/** Kinds about hbd itself rather than about hosts: their `hosts` is empty. */
const HOSTLESS_KINDS = ['channel', 'isolated', 'test'];
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function startWebhookStandin(options: WebhookStandinOptions = {}): Promise<Standin<ReceivedWebhook>> {
  const path = options.path ?? '/hooks/hbd';
  return startHttpStandin<ReceivedWebhook>(
    {
      errorAnswer: (status) => ({
        body: JSON.stringify({ error: `forced ${status}` }),
        headers: { 'content-type': 'application/json' },
      }),
      handle(req) {
        const problems = new Problems();
        if (req.method !== 'POST') problems.add(`method ${req.method}, expected POST`);
        if (req.path !== path) return { status: 404, body: JSON.stringify({ error: 'no such hook' }) };
        if (mediaType(req.headers) !== 'application/json') {
          problems.add(`content-type ${req.headers['content-type']}, expected application/json`);
        }
        if (options.secret !== undefined) {
          const header = req.headers['x-hbd-signature'];
          if (typeof header !== 'string' || !verifySignature(options.secret, req.raw, header)) {
            return { status: 401, body: JSON.stringify({ error: 'bad signature' }) };
          }
        } else if (req.headers['x-hbd-signature'] !== undefined) {
          problems.add('signature sent although no secret is configured');
        }
        let body: unknown;
        try {
          body = JSON.parse(req.raw);
        } catch {
          problems.add('body is not JSON');
        }
        if (body !== undefined) checkPayload(body, problems);
        const dedup = req.headers['x-hbd-dedup-key'];
        if (typeof dedup !== 'string' || dedup === '') problems.add('X-Hbd-Dedup-Key missing');
        else if (isRecord(body) && typeof body.dedup_key === 'string') {
          // Documented: the key as is when printable ASCII, percent-encoded otherwise.
          const plain = /^[\x20-\x7e]*$/.test(body.dedup_key);
          if (dedup !== (plain ? body.dedup_key : encodeURIComponent(body.dedup_key))) {
            problems.add('X-Hbd-Dedup-Key differs from dedup_key');
          }
        }
        if (!problems.ok) return { status: 400, body: JSON.stringify({ error: problems.list.join('; ') }) };
        return {
          status: 204,
          record: { headers: req.headers, raw: req.raw, body: body as WebhookPayloadShape },
        };
      },
    },
    options.port,
  );
}

export function verifySignature(secret: string, raw: string, header: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/.exec(header);
  if (!match) return false;
  const expected = createHmac('sha256', secret).update(raw, 'utf8').digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, 'hex'));
}

function checkPayload(body: unknown, problems: Problems): void {
  if (!isRecord(body)) {
    problems.add('body is not an object');
    return;
  }
  const allowed = new Set(['dedup_key', 'kind', 'title', 'body', 'details', 'at', 'resolves', 'hosts']);
  for (const key of Object.keys(body)) if (!allowed.has(key)) problems.add(`unknown field ${key}`);
  for (const key of ['dedup_key', 'title', 'body', 'details'] as const) {
    if (typeof body[key] !== 'string' || body[key] === '') problems.add(`${key} must be a non-empty string`);
  }
  if (typeof body.kind !== 'string' || !KINDS.includes(body.kind)) problems.add(`kind ${String(body.kind)}`);
  if (typeof body.at !== 'string' || !RFC3339.test(body.at) || Number.isNaN(Date.parse(body.at))) {
    problems.add(`at ${String(body.at)} is not RFC 3339`);
  }
  if (typeof body.resolves !== 'boolean') problems.add('resolves must be a boolean');
  const hostless = typeof body.kind === 'string' && HOSTLESS_KINDS.includes(body.kind);
  if (!Array.isArray(body.hosts) || (body.hosts.length === 0 && !hostless)) {
    problems.add('hosts must be a non-empty array');
    return;
  }
  const hostKeys = new Set(['name', 'state', 'status', 'msg', 'addr', 'previous_for_ms']);
  body.hosts.forEach((host: unknown, i) => {
    if (!isRecord(host)) {
      problems.add(`hosts[${i}] is not an object`);
      return;
    }
    for (const key of Object.keys(host)) if (!hostKeys.has(key)) problems.add(`hosts[${i}].${key} unknown`);
    for (const key of ['name', 'state', 'status', 'addr'] as const) {
      if (typeof host[key] !== 'string') problems.add(`hosts[${i}].${key} must be a string`);
    }
    if (host.msg !== null && typeof host.msg !== 'string')
      problems.add(`hosts[${i}].msg must be string or null`);
    const prev = host.previous_for_ms;
    if (prev !== null && !(typeof prev === 'number' && Number.isInteger(prev) && prev >= 0)) {
      problems.add(`hosts[${i}].previous_for_ms must be a non-negative integer or null`);
    }
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
