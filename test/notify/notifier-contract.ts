/**
 * The contract every notification channel keeps, run against the channel's local stand-in of its
 * provider: each channel's test file calls `testNotifier` once and adds only what is its own.
 *
 * What the outbox relies on: a delivery gives a receipt; a refusal is final; a rate limit and a
 * server error are retried, after the time the provider names when it names one; no answer
 * within the timeout, or a caller that gives up (shutdown), is retried; wrong credentials are
 * final, say so, and do not show the credentials.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import type { ChannelContext, ChannelDefinition } from '../../src/notify/channels/index.js';
import type { Notifier } from '../../src/notify/types.js';
import { failure } from '../helpers/notify-failure.js';
import { sampleNotification } from '../helpers/sample-notification.js';

export const TEST_CONTEXT: ChannelContext = { now: () => Date.now() };

/** A notifier built as hbd builds one: the section through the channel's schema (defaults and all), then `create`. */
export function notifierFrom<Schema extends z.ZodType>(
  channel: ChannelDefinition<string, Schema>,
  section: z.input<Schema>,
  context: ChannelContext = TEST_CONTEXT,
): Notifier {
  return channel.create(channel.schema.parse(section), context);
}

/** How a provider fails, in its own terms (an HTTP status, an SMTP reply, a signal-cli result). */
export type ProviderFailure = 'refusal' | 'rate-limit' | 'server-error';

/**
 * How most HTTP providers fail: 400 for a refused request, 429 with `Retry-After: 7`, 503. For
 * stand-ins with `failNext(status, times, headers)`; a provider with its own ways spells them out.
 */
export function failsLikeHttp(standin: {
  failNext(status: number, times?: number, headers?: Record<string, string>): void;
}): (failure: ProviderFailure) => void {
  return (failure) => {
    if (failure === 'refusal') standin.failNext(400);
    else if (failure === 'rate-limit') standin.failNext(429, 1, { 'retry-after': '7' });
    else standin.failNext(503);
  };
}

export interface StandIn {
  /** The channel's section pointing at this stand-in, as a user writes it; `wrongCredentials` swaps in ones it refuses. */
  section(options?: { timeout?: number; wrongCredentials?: boolean }): Record<string, unknown>;
  /** Messages the stand-in accepted. */
  accepted(): number;
  /** Requests that broke the provider's API: a channel that passes the contract leaves this empty. */
  rejected(): readonly unknown[];
  /** The next delivery fails the way the provider fails. */
  failNext(failure: ProviderFailure): void;
  /** The next delivery gets no answer at all. */
  hangNext(): void;
  close(): Promise<void>;
}

export interface StandInSpec {
  start(): Promise<StandIn>;
  /** The receipt's id as the provider gives it; undefined for providers that give none. */
  receiptId: RegExp | undefined;
  /** The status a refusal carries (HTTP 400, SMTP 550); undefined where it has none. */
  refusalStatus: number | undefined;
  /** The status a server error carries (HTTP 503, SMTP 451). */
  serverErrorStatus: number | undefined;
  /** The wait the stand-in's rate limit names, in ms; undefined where the protocol names none (SMTP). */
  rateLimitRetryAfterMs: number | undefined;
  /** The provider's own words for wrong credentials. */
  badCredentials: RegExp;
  /** The status that refusal carries (HTTP 401, SMTP 535); undefined where it has none. */
  badCredentialsStatus: number | undefined;
}

/** A timeout short enough to keep the suite quick, long enough for a loaded machine's first answer. */
const TIMEOUT_SECONDS = 0.3;

export function testNotifier<Schema extends z.ZodType>(
  channel: ChannelDefinition<string, Schema>,
  spec: StandInSpec,
): void {
  describe(`${channel.name}: the notifier contract`, () => {
    let standIn: StandIn;
    const notifiers: Notifier[] = [];
    const build = (options?: Parameters<StandIn['section']>[0]) => {
      const notifier = notifierFrom(channel, standIn.section(options) as z.input<Schema>);
      notifiers.push(notifier);
      return notifier;
    };

    beforeEach(async () => {
      standIn = await spec.start();
    });
    afterEach(async () => {
      await Promise.all(notifiers.splice(0).map((notifier) => notifier.close?.()));
      await standIn.close();
    });

    it('delivers a message and returns a receipt', async () => {
      const notifier = build();
      expect(notifier.channel).toBe(channel.name);
      const receipt = await notifier.send(sampleNotification());
      expect(standIn.rejected()).toEqual([]);
      expect(standIn.accepted()).toBe(1);
      expect(receipt.detail).toMatch(/\S/);
      if (spec.receiptId === undefined) expect(receipt.id).toBeUndefined();
      else expect(receipt.id).toMatch(spec.receiptId);
    });

    it('a refusal is final: not retried', async () => {
      standIn.failNext('refusal');
      const error = await failure(build().send(sampleNotification()));
      expect(error).toMatchObject({ channel: channel.name, retryable: false, status: spec.refusalStatus });
      expect(error.message.startsWith(`${channel.name}: `)).toBe(true);
      expect(standIn.accepted()).toBe(0);
    });

    it('a rate limit is retried, after the wait the provider names', async () => {
      standIn.failNext('rate-limit');
      const error = await failure(build().send(sampleNotification()));
      expect(error).toMatchObject({ channel: channel.name, retryable: true });
      expect(error.retryAfterMs).toBe(spec.rateLimitRetryAfterMs);
    });

    it('a server error is retried', async () => {
      standIn.failNext('server-error');
      const error = await failure(build().send(sampleNotification()));
      expect(error).toMatchObject({ channel: channel.name, retryable: true, status: spec.serverErrorStatus });
    });

    it('no answer within the timeout is retried', async () => {
      standIn.hangNext();
      const started = performance.now();
      const error = await failure(build({ timeout: TIMEOUT_SECONDS }).send(sampleNotification()));
      expect(error).toMatchObject({ channel: channel.name, retryable: true });
      // Bounded by the timeout, not by the stand-in or a default: generous for a loaded machine.
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('a delivery the caller aborts (shutdown) is retried', async () => {
      standIn.hangNext();
      const controller = new AbortController();
      const sending = build().send(sampleNotification(), controller.signal);
      controller.abort();
      const error = await failure(sending);
      expect(error).toMatchObject({ channel: channel.name, retryable: true });
    });

    it('wrong credentials are final, say so, and are not shown', async () => {
      const section = standIn.section({ wrongCredentials: true });
      const error = await failure(build({ wrongCredentials: true }).send(sampleNotification()));
      expect(error).toMatchObject({
        channel: channel.name,
        retryable: false,
        status: spec.badCredentialsStatus,
      });
      expect(error.message).toMatch(spec.badCredentials);
      for (const key of channel.secretKeys) {
        const value = section[key];
        if (typeof value === 'string') expect(error.message).not.toContain(value);
      }
      expect(standIn.accepted()).toBe(0);
    });
  });
}
