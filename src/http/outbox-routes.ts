import { Hono } from 'hono';
import type { OutboxMessage, OutboxState } from '../model/outbox.js';
import type { NotifyEngine } from '../notify/engine.js';
import type { OutboxStore } from '../store/outbox-store.js';
import { HttpError } from './errors.js';
import { rfc3339 } from './host-json.js';

const OUTBOX_STATES: readonly OutboxState[] = ['pending', 'sent', 'failed', 'merged'];
const MAX_MESSAGES_PER_PAGE = 1000;

/** The notification outbox and each channel's health: what was sent, what waits, what failed and why. */
export function outboxRoutes(deps: {
  outbox: OutboxStore;
  notify: Pick<NotifyEngine, 'channelStats'>;
}): Hono {
  const app = new Hono();

  app.get('/api/outbox', async (c) => {
    const state = c.req.query('state');
    if (state !== undefined && !(OUTBOX_STATES as readonly string[]).includes(state)) {
      throw new HttpError(400, `state: expected one of ${OUTBOX_STATES.join(', ')}, got "${state}"`);
    }
    const channel = c.req.query('channel');
    const limitText = c.req.query('limit') ?? '100';
    const limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_MESSAGES_PER_PAGE) {
      throw new HttpError(
        400,
        `limit: expected an integer from 1 to ${MAX_MESSAGES_PER_PAGE}, got "${limitText}"`,
      );
    }
    const messages = await deps.outbox.list({ state: state as OutboxState | undefined, channel, limit });
    return c.json({ messages: messages.map(messageJson) });
  });

  app.get('/api/notify', async (c) => {
    const counts = await deps.outbox.countByState();
    return c.json({
      channels: deps.notify.channelStats().map(({ channel, stats }) => ({
        channel,
        outbox: Object.fromEntries(
          OUTBOX_STATES.map((state) => [
            state,
            counts.find((row) => row.channel === channel && row.state === state)?.count ?? 0,
          ]),
        ),
        sent: stats.sent,
        retries: stats.retries,
        failed: stats.failed,
        failing_since: stats.failingSince === null ? null : rfc3339(stats.failingSince),
        last_error: stats.lastError,
      })),
    });
  });

  return app;
}

export function messageJson(message: OutboxMessage) {
  const { notification } = message;
  return {
    id: message.id,
    channel: message.channel,
    state: message.state,
    kind: notification.kind,
    title: notification.title,
    body: notification.body,
    hosts: notification.hosts.map((host) => host.name),
    dedup_key: notification.dedupKey,
    created: rfc3339(message.createdAt),
    attempts: message.attempts,
    next_attempt: message.state === 'pending' ? rfc3339(message.nextAttemptAt) : null,
    deadline: rfc3339(message.deadlineAt),
    last_error: message.lastError,
    done: message.doneAt === null ? null : rfc3339(message.doneAt),
    receipt: message.receipt,
    merged_into: message.mergedInto,
  };
}
