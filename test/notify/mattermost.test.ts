import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import createMattermost, {
  escapeMarkdown,
  MATTERMOST_CHANNEL,
  type MattermostOptions,
} from '../../src/notify/mattermost.js';
import { failure } from '../helpers/notify-failure.js';
import { pushNotification } from '../helpers/sample-notification.js';
import {
  type MattermostRequest,
  STANDIN_MATTERMOST_HOOK,
  startMattermostStandin,
} from '../helpers/standins/mattermost.js';
import type { Standin } from '../helpers/standins/webhook.js';

const notification = pushNotification;

describe('mattermost', () => {
  let standin: Standin<MattermostRequest>;
  const options = (extra: Partial<MattermostOptions> = {}): MattermostOptions => ({
    url: `${standin.url}/hooks/${STANDIN_MATTERMOST_HOOK}`,
    ...extra,
  });

  beforeEach(async () => {
    standin = await startMattermostStandin();
  });
  afterEach(async () => {
    await standin.close();
  });

  it('posts the bold title and the body as JSON, with channel, username and icon when configured', async () => {
    const notifier = createMattermost(
      options({ channel: 'ops', username: 'hbd', icon_url: 'https://example.org/hbd.png' }),
    );
    expect(notifier.channel).toBe(MATTERMOST_CHANNEL);
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
    await createMattermost(options()).send(notification());
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
    await createMattermost(options()).send(notification({ body: 'x'.repeat(20_000) }));
    expect(standin.rejected).toEqual([]);
    const text = standin.requests[0]!.body.text as string;
    expect(text).toHaveLength(16_383);
    expect(text.endsWith('x…')).toBe(true);
  });

  it('503 is retryable', async () => {
    standin.failNext(503);
    const error = await failure(createMattermost(options()).send(notification()));
    expect(error).toMatchObject({ channel: 'mattermost', retryable: true, status: 503 });
  });

  it('429 is retryable after Retry-After', async () => {
    standin.failNext(429, 1, { 'retry-after': '7', 'x-ratelimit-remaining': '0' });
    const error = await failure(createMattermost(options()).send(notification()));
    expect(error).toMatchObject({ retryable: true, status: 429, retryAfterMs: 7_000 });
  });

  it('an unknown hook is a permanent failure with Mattermost’s message, and the hook id stays out of it', async () => {
    const notifier = createMattermost({ url: `${standin.url}/hooks/${'a'.repeat(26)}` });
    const error = await failure(notifier.send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toBe('mattermost: HTTP 400 Bad Request: Invalid webhook.');
  });

  it('an unknown channel is a permanent failure', async () => {
    const error = await failure(createMattermost(options({ channel: 'nowhere' })).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 403 });
    expect(error.message).toContain("Couldn't find the channel.");
  });

  it('401 is not retryable', async () => {
    standin.failNext(401);
    const error = await failure(createMattermost(options()).send(notification()));
    expect(error).toMatchObject({ retryable: false, status: 401 });
    expect(error.message).toContain('Forced error 401.');
  });

  it('a server that does not answer is a retryable timeout', async () => {
    standin.hangNext();
    const error = await failure(createMattermost(options({ timeout_ms: 150 })).send(notification()));
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('within 150 ms');
  });

  it('rejects bad options when built, naming the option', () => {
    const url = `https://chat.example.org/hooks/${STANDIN_MATTERMOST_HOOK}`;
    expect(() => createMattermost({} as MattermostOptions)).toThrow(/^mattermost: url /);
    expect(() => createMattermost({ url: 'chat.example.org' })).toThrow(/^mattermost: url /);
    expect(() => createMattermost({ url: 'https://chat.example.org/api/v4/posts' })).toThrow(
      /^mattermost: url /,
    );
    expect(() => createMattermost({ url, channel: 'Town Square' })).toThrow(/^mattermost: channel /);
    expect(() => createMattermost({ url, username: '' })).toThrow(/^mattermost: username /);
    expect(() => createMattermost({ url, icon_url: 'hbd.png' })).toThrow(/^mattermost: icon_url /);
    expect(() => createMattermost({ url, timeout_ms: -1 })).toThrow(/^mattermost: timeout_ms /);
    expect(() => createMattermost({ url, channel: '@alice' })).not.toThrow();
  });
});
