import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import type { SignalOptions } from '../../src/notify/signal.js';
import createSignal, { SIGNAL_CHANNEL } from '../../src/notify/signal.js';
import { failure } from '../helpers/notify-failure.js';
import { type SignalStandin, startSignalStandin } from '../helpers/standins/signal.js';

const ACCOUNT = '+4915112345678';
const ALICE = '+4915199990001';
const BOB = '+4915199990002';

let standin: SignalStandin;

beforeEach(async () => {
  standin = await startSignalStandin();
});

afterEach(async () => {
  expect(standin.rejected).toEqual([]);
  await standin.close();
});

function notification(overrides: Partial<Notification> = {}): Notification {
  return {
    dedupKey: 'down:web1:1700000000000',
    kind: 'down',
    title: 'web1 is down',
    body: 'web1 went quiet at 12:00:00.\nAddress: 192.0.2.10',
    hosts: [
      { name: 'web1', state: 'down', status: 'ok', msg: null, addr: '192.0.2.10', previousFor: 60_000 },
    ],
    at: 1_700_000_000_000,
    resolves: false,
    ...overrides,
  };
}

function signal(overrides: Partial<SignalOptions> = {}) {
  return createSignal({
    url: standin.url,
    account: ACCOUNT,
    recipients: [ALICE, BOB],
    timeout_ms: 2_000,
    ...overrides,
  });
}

describe('signal notifier (signal-cli JSON-RPC)', () => {
  it('sends one JSON-RPC send with account, recipients and the title and body', async () => {
    const notifier = signal();
    expect(notifier.channel).toBe(SIGNAL_CHANNEL);
    const receipt = await notifier.send(notification());

    expect(standin.requests).toHaveLength(1);
    const request = standin.requests[0]!;
    expect(request.path).toBe('/api/v1/rpc');
    expect(request.body).toMatchObject({
      jsonrpc: '2.0',
      method: 'send',
      params: {
        account: ACCOUNT,
        recipient: [ALICE, BOB],
        message: 'web1 is down\n\nweb1 went quiet at 12:00:00.\nAddress: 192.0.2.10',
      },
    });
    expect(receipt.id).toMatch(/^\d+$/);
    expect(receipt.detail).toContain('2 of 2 delivered');
  });

  it('sends to a group by groupId', async () => {
    await signal({ recipients: undefined, group_id: 'Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI=' }).send(
      notification(),
    );
    expect(standin.requests[0]?.body).toMatchObject({
      params: { account: ACCOUNT, groupId: 'Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI=' },
    });
  });

  it('a rate limit is retryable after retryAfterSeconds', async () => {
    standin.behave({
      kind: 'results',
      outcomes: {
        [ALICE]: { type: 'RATE_LIMIT_FAILURE', retryAfterSeconds: 90 },
        [BOB]: { type: 'RATE_LIMIT_FAILURE', retryAfterSeconds: 30 },
      },
    });
    const error = await failure(signal().send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(90_000);
    expect(error.message).toContain('RATE_LIMIT_FAILURE');
  });

  it('an unregistered recipient is permanent', async () => {
    standin.behave({ kind: 'results', outcomes: { [ALICE]: { type: 'UNREGISTERED_FAILURE' } } });
    const error = await failure(signal({ recipients: [ALICE] }).send(notification()));
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`${ALICE}: UNREGISTERED_FAILURE`);
  });

  it('a network failure is retryable', async () => {
    standin.behave({ kind: 'results', outcomes: { [ALICE]: { type: 'NETWORK_FAILURE' } } });
    const error = await failure(signal({ recipients: [ALICE] }).send(notification()));
    expect(error.retryable).toBe(true);
  });

  it('partial delivery is a receipt naming who missed it, not a retry that repeats it to the others', async () => {
    standin.behave({ kind: 'results', outcomes: { [BOB]: { type: 'UNREGISTERED_FAILURE' } } });
    const receipt = await signal().send(notification());
    expect(receipt.detail).toContain('1 of 2 delivered');
    expect(receipt.detail).toContain(`${BOB}: UNREGISTERED_FAILURE`);
  });

  it('a JSON-RPC error is permanent unless it is a server error', async () => {
    standin.behave({ kind: 'rpc-error', code: -32602, message: 'Specified account does not exist' });
    const bad = await failure(signal().send(notification()));
    expect(bad.retryable).toBe(false);
    expect(bad.message).toContain('Specified account does not exist');

    standin.behave({ kind: 'rpc-error', code: -32603, message: 'Command execution failed' });
    expect((await failure(signal().send(notification()))).retryable).toBe(true);
  });

  it('HTTP 503 is retryable', async () => {
    standin.behave({ kind: 'http', status: 503, body: 'starting up' });
    const error = await failure(signal().send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.status).toBe(503);
  });

  it('a daemon that never answers times out, retryable', async () => {
    standin.behave({ kind: 'hang' });
    const error = await failure(signal({ timeout_ms: 200 }).send(notification()));
    expect(error.retryable).toBe(true);
  });
});

describe('signal notifier (signal-cli-rest-api)', () => {
  it('posts to /v2/send with number, recipients and message', async () => {
    const receipt = await signal({ api: 'rest' }).send(notification());
    expect(standin.requests).toHaveLength(1);
    expect(standin.requests[0]).toEqual({
      path: '/v2/send',
      body: {
        message: 'web1 is down\n\nweb1 went quiet at 12:00:00.\nAddress: 192.0.2.10',
        number: ACCOUNT,
        recipients: [ALICE, BOB],
      },
    });
    expect(receipt.id).toMatch(/^\d+$/);
  });

  it('a 400 is permanent with the error text', async () => {
    standin.behave({ kind: 'results', outcomes: { [ALICE]: { type: 'UNREGISTERED_FAILURE' } } });
    const error = await failure(signal({ api: 'rest' }).send(notification()));
    expect(error.retryable).toBe(false);
    expect(error.status).toBe(400);
    expect(error.message).toContain('Failed to send message');
  });

  it('a 503 is retryable', async () => {
    standin.behave({ kind: 'http', status: 503 });
    expect((await failure(signal({ api: 'rest' }).send(notification()))).retryable).toBe(true);
  });
});

describe('signal options', () => {
  const good: SignalOptions = { url: 'http://127.0.0.1:8080', account: ACCOUNT, recipients: [ALICE] };

  it.each([
    ['no url', { url: '' }, /signal: option 'url'/],
    ['a non-http url', { url: 'ftp://x' }, /signal: option 'url'/],
    ['a bad account', { account: '015112345678' }, /signal: option 'account'/],
    ['no recipients', { recipients: [] }, /signal: option 'recipients'/],
    ['a bad recipient', { recipients: ['12345'] }, /signal: option 'recipients'.*12345/],
    ['neither recipients nor group', { recipients: undefined }, /signal: option 'recipients'/],
    ['both recipients and group', { group_id: 'abc=' }, /signal: option 'recipients'/],
    ['an unknown api', { api: 'grpc' }, /signal: option 'api'/],
    [
      'a group with the REST api',
      { recipients: undefined, group_id: 'abc=', api: 'rest' },
      /option 'group_id'/,
    ],
  ] as const)('rejects %s', (_name, override, message) => {
    expect(() => createSignal({ ...good, ...(override as Partial<SignalOptions>) })).toThrow(message);
  });
});
