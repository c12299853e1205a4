/**
 * A stand-in for `signal-cli daemon --http` (POST /api/v1/rpc) and for signal-cli-rest-api
 * (POST /v2/send) on 127.0.0.1. It checks every field the way the real ones would reject them,
 * so a test passes only if the request would have been accepted; a malformed request gets
 * HTTP 400 and lands in `rejected`.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const E164 = /^\+[1-9]\d{6,14}$/;

export type SignalResultType =
  | 'SUCCESS'
  | 'NETWORK_FAILURE'
  | 'UNREGISTERED_FAILURE'
  | 'IDENTITY_FAILURE'
  | 'RATE_LIMIT_FAILURE'
  | 'INVALID_PRE_KEY_FAILURE';

export interface SignalRecipientOutcome {
  type: SignalResultType;
  retryAfterSeconds?: number;
}

export type SignalBehaviour =
  /** Every recipient SUCCESS. */
  | { kind: 'ok' }
  /** Per-recipient outcomes by number; unlisted numbers succeed. Like signal-cli, all-failed becomes an error object. */
  | { kind: 'results'; outcomes: Record<string, SignalRecipientOutcome> }
  /** A JSON-RPC error object with no results. */
  | { kind: 'rpc-error'; code: number; message: string }
  | { kind: 'http'; status: number; body?: string; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { kind: 'hang' };

export interface SignalRequest {
  path: string;
  body: unknown;
}

export interface SignalStandin {
  url: string;
  /** Requests that passed validation, whatever the stand-in answered them. */
  requests: SignalRequest[];
  /** Messages that went out to at least one recipient. */
  delivered(): number;
  /** Validation failures, one line each. */
  rejected: string[];
  behave(next: SignalBehaviour): void;
  close(): Promise<void>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkNumbers(value: unknown, field: string, problems: string[]): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(`${field} must be a non-empty array`);
    return [];
  }
  for (const n of value)
    if (typeof n !== 'string' || !E164.test(n)) problems.push(`${field}: bad number ${n}`);
  return value.filter((n): n is string => typeof n === 'string');
}

function checkMessage(value: unknown, problems: string[]): void {
  if (typeof value !== 'string' || value.trim() === '') problems.push('message must be a non-empty string');
}

function checkRpc(body: unknown, problems: string[]): { id: unknown; targets: string[] } {
  if (!isObject(body)) {
    problems.push('body is not a JSON object');
    return { id: null, targets: [] };
  }
  if (body.jsonrpc !== '2.0') problems.push('jsonrpc must be "2.0"');
  if (body.method !== 'send') problems.push(`method must be "send", not ${String(body.method)}`);
  if (!('id' in body) || body.id === null || (typeof body.id !== 'string' && typeof body.id !== 'number')) {
    problems.push('id must be a string or number');
  }
  const params = body.params;
  if (!isObject(params)) {
    problems.push('params must be an object');
    return { id: body.id, targets: [] };
  }
  if (typeof params.account !== 'string' || !E164.test(params.account))
    problems.push('params.account must be E.164');
  checkMessage(params.message, problems);
  const hasRecipient = 'recipient' in params;
  const hasGroup = 'groupId' in params;
  let targets: string[] = [];
  if (hasRecipient === hasGroup) problems.push('exactly one of params.recipient and params.groupId');
  else if (hasRecipient) targets = checkNumbers(params.recipient, 'params.recipient', problems);
  else if (typeof params.groupId !== 'string' || params.groupId === '')
    problems.push('params.groupId must be a string');
  else targets = ['+15550000001', '+15550000002'];
  const known = new Set(['account', 'recipient', 'groupId', 'message']);
  for (const key of Object.keys(params)) if (!known.has(key)) problems.push(`unexpected params.${key}`);
  return { id: body.id, targets };
}

function checkRest(body: unknown, problems: string[]): string[] {
  if (!isObject(body)) {
    problems.push('body is not a JSON object');
    return [];
  }
  if (typeof body.number !== 'string' || !E164.test(body.number)) problems.push('number must be E.164');
  checkMessage(body.message, problems);
  return checkNumbers(body.recipients, 'recipients', problems);
}

function json(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

export interface SignalStandinOptions {
  /** The account signal-cli has registered; a JSON-RPC send from another is refused as signal-cli refuses it. */
  account?: string;
}

export async function startSignalStandin(options: SignalStandinOptions = {}): Promise<SignalStandin> {
  let behaviour: SignalBehaviour = { kind: 'ok' };
  const requests: SignalRequest[] = [];
  const rejected: string[] = [];
  const hanging = new Set<ServerResponse>();
  let timestamp = 1_700_000_000_000;
  let delivered = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const path = req.url ?? '';
    const problems: string[] = [];
    let body: unknown;
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
      problems.push('content-type is not JSON');
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      problems.push('body is not JSON');
    }
    let rpcId: unknown = null;
    let targets: string[] = [];
    if (path === '/api/v1/rpc') ({ id: rpcId, targets } = checkRpc(body, problems));
    else if (path === '/v2/send') targets = checkRest(body, problems);
    else {
      json(res, 404, { error: `no route ${path}` });
      rejected.push(`${path}: no such route`);
      return;
    }
    if (problems.length > 0) {
      rejected.push(`${path}: ${problems.join('; ')}`);
      json(res, 400, { error: problems.join('; ') });
      return;
    }
    if (path === '/api/v1/rpc' && options.account !== undefined) {
      const params = (body as { params: { account: string } }).params;
      if (params.account !== options.account) {
        // signal-cli's answer in multi-account mode: invalid params, no such account.
        json(res, 200, {
          jsonrpc: '2.0',
          error: { code: -32602, message: 'Specified account does not exist', data: null },
          id: rpcId,
        });
        return;
      }
    }
    requests.push({ path, body });

    const b = behaviour;
    if (b.kind === 'hang') {
      hanging.add(res);
      return;
    }
    if (b.kind === 'http') {
      res.writeHead(b.status, { 'content-type': 'application/json', ...b.headers });
      res.end(b.body ?? '');
      return;
    }
    timestamp += 1;
    if (path === '/v2/send') {
      // The REST wrapper folds per-recipient failures into a 400 with a text error.
      const failed = b.kind === 'results' ? targets.filter((t) => b.outcomes[t]) : [];
      if (b.kind === 'rpc-error' || failed.length > 0) {
        json(res, 400, { error: `Failed to send message: ${failed.join(', ') || 'error'}` });
        return;
      }
      delivered++;
      json(res, 201, { timestamp: String(timestamp) });
      return;
    }
    if (b.kind === 'rpc-error') {
      json(res, 200, { jsonrpc: '2.0', error: { code: b.code, message: b.message, data: null }, id: rpcId });
      return;
    }
    const results = targets.map((number) => {
      const outcome = b.kind === 'results' ? b.outcomes[number] : undefined;
      return {
        recipientAddress: { uuid: null, number, username: null },
        type: outcome?.type ?? 'SUCCESS',
        ...(outcome?.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: outcome.retryAfterSeconds }),
      };
    });
    const response = { timestamp, results };
    if (results.every((r) => r.type !== 'SUCCESS')) {
      // What signal-cli does when nothing went out: an error, with the results in data.response.
      const rateLimited = results.some((r) => r.type === 'RATE_LIMIT_FAILURE');
      json(res, 200, {
        jsonrpc: '2.0',
        error: { code: rateLimited ? -5 : -1, message: 'Failed to send message', data: { response } },
        id: rpcId,
      });
      return;
    }
    delivered++;
    json(res, 200, { jsonrpc: '2.0', result: response, id: rpcId });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      rejected.push(`handler failed: ${String(error)}`);
      if (!res.headersSent) json(res, 500, { error: 'stand-in failed' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    rejected,
    delivered: () => delivered,
    behave(next) {
      behaviour = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      hanging.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
