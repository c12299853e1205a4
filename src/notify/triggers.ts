import type { HostEvent } from '../state/events.js';
import type { HostRecord } from '../state/host-table.js';
import type { Trigger, TriggerKind } from '../store/outbox-store.js';

const PROBLEM_STATUSES = new Set(['warn', 'fail']);

/**
 * Which transitions may be worth a message. A host's first appearance (from null), a planned
 * shutdown (`left`) and late/up wobbles are not; whether a recovery is announced depends on
 * whether its problem was, which is decided later, when the group is sent.
 */
export function triggerKindOf(event: Pick<HostEvent, 'kind' | 'from' | 'to'>): TriggerKind | undefined {
  if (event.kind === 'state') {
    if (event.to === 'down' && (event.from === 'up' || event.from === 'late')) return 'down';
    if (event.to === 'up' && event.from === 'down') return 'up';
    return undefined;
  }
  if (event.kind === 'status' && event.from !== null) {
    if (PROBLEM_STATUSES.has(event.to ?? '') || PROBLEM_STATUSES.has(event.from)) return 'status';
  }
  return undefined;
}

export interface TriggerSources {
  /** The host as it is now (same event-loop turn as the transition). */
  host(name: string): HostRecord | undefined;
  previousStateChange(host: string, beforeEventId: number): number | undefined;
  groupBy: string | null;
}

export function triggersFor(events: readonly HostEvent[], sources: TriggerSources): Omit<Trigger, 'id'>[] {
  const triggers: Omit<Trigger, 'id'>[] = [];
  for (const event of events) {
    const kind = triggerKindOf(event);
    if (!kind) continue;
    const host = sources.host(event.host);
    if (!host) continue;
    const since = kind === 'status' ? undefined : sources.previousStateChange(event.host, event.id);
    triggers.push({
      eventId: event.id,
      at: event.at,
      host: event.host,
      kind,
      detail: {
        from: event.from,
        to: event.to,
        reason: event.reason,
        status: host.status,
        msg: host.msg,
        addr: host.addr,
        group: sources.groupBy ? (host.fields[sources.groupBy] ?? '') : '',
        previousFor: kind === 'status' ? null : Math.max(0, event.at - (since ?? host.firstSeen)),
      },
    });
  }
  return triggers;
}
