import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import signalChannel from '../../src/notify/channels/signal.js';
import { failure } from '../helpers/notify-failure.js';
import { type SignalStandin, startSignalStandin } from '../helpers/standins/signal.js';
import { notifierFrom, testNotifier } from './notifier-contract.js';

const ACCOUNT = '+4915112345678';
const ALICE = '+4915199990001';
const BOB = '+4915199990002';

testNotifier(signalChannel, {
  async start() {
    const standin = await startSignalStandin({ account: ACCOUNT });
    return {
      section: ({ timeout, wrongCredentials } = {}) => ({
        url: standin.url,
        // signal-cli holds the credentials; an account it has not registered is the wrong one.
        account: wrongCredentials ? '+4915100000000' : ACCOUNT,
        recipients: [ALICE],
        ...(timeout === undefined ? {} : { timeout }),
      }),
      accepted: () => standin.delivered(),
      rejected: () => standin.rejected,
      failNext(failure) {
        if (failure === 'refusal') {
          standin.behave({ kind: 'results', outcomes: { [ALICE]: { type: 'UNREGISTERED_FAILURE' } } });
        } else if (failure === 'rate-limit') {
          const limited = { type: 'RATE_LIMIT_FAILURE', retryAfterSeconds: 7 } as const;
          standin.behave({ kind: 'results', outcomes: { [ALICE]: limited } });
        } else {
          standin.behave({ kind: 'http', status: 503, body: 'starting up' });
        }
      },
      hangNext: () => standin.behave({ kind: 'hang' }),
      close: () => standin.close(),
    };
  },
  receiptId: /^\d+$/,
  refusalStatus: undefined,
  serverErrorStatus: 503,
  rateLimitRetryAfterMs: 7_000,
  badCredentials: /account does not exist/,
  badCredentialsStatus: undefined,
});

let standin: SignalStandin;

/** A stand-in per test, which must not have seen a request the real signal-cli would reject. */
function withStandin(): void {
  beforeEach(async () => {
    standin = await startSignalStandin();
  });
  afterEach(async () => {
    expect(standin.rejected).toEqual([]);
    await standin.close();
  });
}

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

function signal(overrides: Record<string, unknown> = {}) {
  return notifierFrom(signalChannel, {
    url: standin.url,
    account: ACCOUNT,
    recipients: [ALICE, BOB],
    timeout: 2,
    ...overrides,
  });
}

describe('signal notifier (signal-cli JSON-RPC)', () => {
  withStandin();

  it('sends one JSON-RPC send with account, recipients and the title and body', async () => {
    const receipt = await signal().send(notification());

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
    await signal({ recipients: null, group: 'Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI=' }).send(
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
});

describe('signal notifier (signal-cli-rest-api)', () => {
  withStandin();

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
