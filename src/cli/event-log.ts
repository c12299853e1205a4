import type { eventJson } from '../http/event-json.js';
import { escapeControlCharacters } from '../lib/inert-text.js';
import { type ApiConnection, callApi } from './api-client.js';

export type EventJson = ReturnType<typeof eventJson>;

/** What GET /api/events serves at most in one answer. */
export const MAX_EVENTS = 1000;

/** The latest `limit` events (of `host`, if given), oldest first. */
export async function readLatest(
  api: ApiConnection,
  host: string | undefined,
  limit: number,
): Promise<EventJson[]> {
  const query = new URLSearchParams({ limit: String(limit) });
  if (host !== undefined) query.set('host', host);
  const newestFirst = await callApi<EventJson[]>(api.base, `/api/events?${query}`, { headers: api.headers });
  return newestFirst.reverse();
}

/** `2026-11-25 12:03:02 UTC  web1  state  late -> down  no heartbeat for 1m 1s (…)` */
export function formatEvent(event: EventJson): string {
  const at = `${event.at.slice(0, 19).replace('T', ' ')} UTC`;
  const change = event.from === null && event.to === null ? '' : `${event.from ?? '-'} -> ${event.to ?? '-'}`;
  // Host names are checked by hbd, but a reason can quote what a host sent.
  return [at, event.host, event.kind, change, event.reason]
    .filter((part) => part !== '')
    .map(escapeControlCharacters)
    .join('  ');
}
