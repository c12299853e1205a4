import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mattermost, { escapeMarkdown } from '../../src/notify/channels/mattermost.js';
import { failure } from '../helpers/notify-failure.js';
import { pushNotification } from '../helpers/sample-notification.js';
import {
  type MattermostRequest,
  STANDIN_MATTERMOST_HOOK,
  startMattermostStandin,
} from '../helpers/standins/mattermost.js';
import type { Standin } from '../helpers/standins/webhook.js';
import { notifierFrom, testNotifier } from './notifier-contract.js';

const notification = pushNotification;

testNotifier(mattermost, {
  async start() {
    const standin = await startMattermostStandin();
    return {
      section: ({ timeout, wrongCredentials } = {}) => ({
        webhook: `${standin.url}/hooks/${wrongCredentials ? 'a'.repeat(26) : STANDIN_MATTERMOST_HOOK}`,
        ...(timeout === undefined ? {} : { timeout }),
      }),
      accepted: () => standin.requests.length,
      // A wrong hook id is refused as the real server refuses it: that is the case, not a broken request.
      rejected: () => standin.rejected.filter((entry) => !entry.body.includes('Invalid webhook')),
      failNext(failure) {
        if (failure === 'refusal') standin.failNext(400);
        else if (failure === 'rate-limit')
          standin.failNext(429, 1, { 'retry-after': '7', 'x-ratelimit-remaining': '0' });
        else standin.failNext(503);
      },
      hangNext: () => standin.hangNext(),
      close: () => standin.close(),
    };
  },
  receiptId: undefined,
  refusalStatus: 400,
  serverErrorStatus: 503,
  rateLimitRetryAfterMs: 7_000,
  badCredentials: /Invalid webhook/,
  badCredentialsStatus: 400,
});

describe('mattermost', () => {
  let standin: Standin<MattermostRequest>;
  const create = (extra: Record<string, unknown> = {}) =>
    notifierFrom(mattermost, { webhook: `${standin.url}/hooks/${STANDIN_MATTERMOST_HOOK}`, ...extra });

  beforeEach(async () => {
    standin = await startMattermostStandin();
  });
  afterEach(async () => {
    await standin.close();
  });

  it('posts the bold title and the body as JSON, with channel, username and icon when configured', async () => {
    const notifier = create({ channel: 'ops', username: 'hbd', icon_url: 'https://example.org/hbd.png' });
    const receipt = await notifier.send(notification());
    expect(standin.rejected).toEqual([]);
    expect(standin.requests).toEqual([
      {
        hook: STANDIN_MATTERMOST_HOOK,
        contentType: 'application/json',
        body: {
          text: '**web\\_1 is down**\nweb\\_1 went quiet at 12:30:00 UTC.\nLast: "ok" from 198.51.100.7',
          channel: 'ops',
          username: 'hbd',
          icon_url: 'https://example.org/hbd.png',
        },
      },
    ]);
    expect(receipt).toEqual({ detail: 'posted to ops (200 ok)' });
  });

  it('sends only text when nothing else is configured', async () => {
    await create().send(notification());
    expect(Object.keys(standin.requests[0]!.body)).toEqual(['text']);
  });

  it('escapes markdown so host names and list-like lines stay literal', () => {
    expect(escapeMarkdown('a*b_c `d` [e](f) <g> |h| ~i~')).toBe(
      'a\\*b\\_c \\`d\\` \\[e\\](f) \\<g\\> \\|h\\| \\~i\\~',
    );
    expect(escapeMarkdown('# not a heading\n- not a list\n1. nor this')).toBe(
      '\\# not a heading\n\\- not a list\n1\\. nor this',
    );
  });

  it('truncates very long text to Mattermost’s post limit', async () => {
    await create().send(notification({ body: 'x'.repeat(20_000) }));
    expect(standin.rejected).toEqual([]);
    const text = standin.requests[0]!.body.text as string;
    expect(text).toHaveLength(16_383);
    expect(text.endsWith('x…')).toBe(true);
  });

  it('an unknown hook is a permanent failure with Mattermost’s message, and the hook id stays out of it', async () => {
    const notifier = notifierFrom(mattermost, { webhook: `${standin.url}/hooks/${'a'.repeat(26)}` });
    const error = await failure(notifier.send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toBe('mattermost: HTTP 400 Bad Request: Invalid webhook.');
  });

  it('an unknown channel is a permanent failure', async () => {
    const error = await failure(create({ channel: 'nowhere' }).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 403 });
    expect(error.message).toContain("Couldn't find the channel.");
  });

  it('401 is not retryable, with the provider’s words', async () => {
    standin.failNext(401);
    const error = await failure(create().send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('Forced error 401.');
  });

  it('the timeout is the section’s seconds, named in the reason', async () => {
    standin.hangNext();
    const error = await failure(create({ timeout: 0.15 }).send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('within 150 ms');
  });
});
