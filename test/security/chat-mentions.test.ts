/**
 * Finding 11 (in part): `@channel` or `@all` in a heartbeat's message passed through to
 * Mattermost, so anyone who can send a heartbeat could alert a whole channel, or a chosen user.
 * Text from heartbeats reaches a post as the message, and as the group prefix of the title
 * (notify.group_by groups by a host field).
 */
import dgram from 'node:dgram';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { inertChatText, MENTION_BREAK } from '../../src/notify/channels/chat-text.js';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import {
  type MattermostRequest,
  STANDIN_MATTERMOST_HOOK,
  startMattermostStandin,
} from '../helpers/standins/mattermost.js';
import type { Standin } from '../helpers/standins/webhook.js';

/** A mention as Mattermost reads one: `@` right before a name (user, group, channel, all, here). */
const LIVE_MENTION = /@[\p{L}\p{N}._-]/u;

const client = dgram.createSocket('udp4');
afterAll(() => client.close());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function beat(hbd: TestDaemon, input: Partial<HeartbeatInput>): Promise<void> {
  const datagram = encodeHeartbeat({ host: 'web1', fields: { site: '@all' }, ...input });
  return new Promise((resolve, reject) =>
    client.send(datagram, hbd.daemon.udp.port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
  );
}

describe('mentions in text from heartbeats', () => {
  it('reach Mattermost readable but inert: @channel, @all, @here and @user notify nobody', async () => {
    const mattermost: Standin<MattermostRequest> = await startMattermostStandin();
    cleanups.push(() => mattermost.close());
    const hbd = await startTestDaemon({
      notify: {
        restart_grace: 0,
        group_wait: 0,
        group_by: 'site',
        mattermost: { url: `${mattermost.url}/hooks/${STANDIN_MATTERMOST_HOOK}` },
      },
    });
    cleanups.push(() => hbd.stop());

    await beat(hbd, { seq: 1 });
    await eventually(async () => (await fetch(hbd.url('/api/hosts/web1'))).status === 200);
    await beat(hbd, {
      seq: 2,
      status: 'fail',
      msg: '@channel disk full, cc @here @alice (@bob) ops@example.org',
    });

    const text = await eventually(() => {
      expect(mattermost.rejected).toEqual([]);
      const post = mattermost.requests.at(-1);
      expect(post).toBeDefined();
      return String(post!.body.text);
    }, 5000);
    expect(text).not.toMatch(LIVE_MENTION);
    // Still there for people to read: only the invisible break sets it apart.
    const shown = text.replaceAll(MENTION_BREAK, '');
    expect(shown).toContain('\\[@all\\]');
    expect(shown).toContain('@channel disk full, cc @here @alice (@bob)');
  });

  it('the helper every chat channel uses breaks mentions and escapes control characters', () => {
    const text = inertChatText('**[@all] web1 reports fail**\n@channel \u001b[31mred\u202e');
    expect(text).not.toMatch(LIVE_MENTION);
    expect(text.split('\n')).toHaveLength(2);
    expect(text).toContain('\\x1b[31mred\\u202e');
  });
});
