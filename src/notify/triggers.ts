import { type HostEvent, STATUS_FLAPPING } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import type { Trigger, TriggerKind } from '../model/outbox.js';
import type { StoreParts } from '../store/store.js';

const PROBLEM_STATUSES = new Set(['warn', 'fail']);

export interface TriggerRules {
  /**
   * A host whose first heartbeat already reports warn or fail (`notify.announce_new_problems`):
   * a host deployed broken is a problem like any other.
   */
  announceNewProblems: boolean;
}

/**
 * Which transitions may be worth a message. A host's first appearance (from null), a planned
 * shutdown (`left`) and late/up wobbles are not; whether a recovery is announced depends on
 * whether its problem was, which is decided later, when the group is sent. A status flapping
 * episode, and the status it settles on, are.
 */
export function triggerKindOf(
  event: Pick<HostEvent, 'kind' | 'from' | 'to'>,
  rules: TriggerRules = { announceNewProblems: false },
): TriggerKind | undefined {
  if (event.kind === 'state') {
    if (event.to === 'down' && (event.from === 'up' || event.from === 'late')) return 'down';
    if (event.to === 'up' && event.from === 'down') return 'up';
    return undefined;
  }
  if (event.kind !== 'status') return undefined;
  if (event.from === null) {
    return rules.announceNewProblems && PROBLEM_STATUSES.has(event.to ?? '') ? 'status' : undefined;
  }
  if (event.to === STATUS_FLAPPING || event.from === STATUS_FLAPPING) return 'status';
  if (PROBLEM_STATUSES.has(event.to ?? '') || PROBLEM_STATUSES.has(event.from)) return 'status';
  return undefined;
}

export interface TriggerSources {
  /** The host as it is now (same event-loop turn as the transition). */
  host(name: string): HostRecord | undefined;
  previousStateChange(host: string, beforeEventId: number): number | undefined;
  groupBy: string | null;
  /** Default: a first heartbeat's problem is not announced. */
  rules?: TriggerRules;
}

export function triggersFor(events: readonly HostEvent[], sources: TriggerSources): Omit<Trigger, 'id'>[] {
  const triggers: Omit<Trigger, 'id'>[] = [];
  for (const event of events) {
    const kind = triggerKindOf(event, sources.rules);
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

export interface NotifyTriggerOptions {
  /** The host as the table holds it now; undefined once forgotten. */
  host(name: string): HostRecord | undefined;
  groupBy: string | null;
  announceNewProblems: boolean;
}

/** Derives the triggers of freshly stored events, inside the transaction that stores them. */
export type TriggerDeriver = (
  events: readonly HostEvent[],
  tx: Pick<StoreParts, 'events'>,
) => Promise<Omit<Trigger, 'id'>[]>;

/**
 * What the store writer calls in the transaction of each commit (`WriterOptions.triggersFor`),
 * so that a transition and its trigger are stored together: a crash leaves both or neither.
 * The writer stores what this returns and publishes it on the bus (`triggers`).
 */
export function notifyTriggers(options: NotifyTriggerOptions): TriggerDeriver {
  const rules: TriggerRules = { announceNewProblems: options.announceNewProblems };
  return async (events, tx) => {
    // The hosts are read before the first await: as close to the transitions as this gets.
    const hosts = new Map<string, HostRecord | undefined>();
    const needPrevious: HostEvent[] = [];
    for (const event of events) {
      const kind = triggerKindOf(event, rules);
      if (!kind) continue;
      if (!hosts.has(event.host)) hosts.set(event.host, options.host(event.host));
      if (kind !== 'status' && hosts.get(event.host)) needPrevious.push(event);
    }
    if (hosts.size === 0) return [];
    // One at a time: a transaction is one connection, which runs one query at a time anyway.
    const previous = new Map<number, number | undefined>();
    for (const event of needPrevious) {
      previous.set(event.id, await tx.events.previousStateChange(event.host, event.id));
    }
    return triggersFor(events, {
      host: (name) => hosts.get(name),
      previousStateChange: (_host, beforeEventId) => previous.get(beforeEventId),
      groupBy: options.groupBy,
      rules,
    });
  };
}
