import { type HostEvent, STATUS_FLAPPING } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import type { Trigger, TriggerKind } from '../model/outbox.js';

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
