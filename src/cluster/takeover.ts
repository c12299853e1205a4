import type { HostEvent } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import type { ShadowEvents } from './role-sink.js';

type NewEvent = Omit<HostEvent, 'id'>;

export interface Reconciliation {
  /** Events the stored history lacks, oldest first. */
  events: NewEvent[];
  /**
   * Stored hosts this node does not know: heard only by a leader that died before sharing
   * them (they are brought back), or forgotten while no node was storing (they are deleted).
   */
  unknown: HostRecord[];
}

/**
 * What a node taking over as leader must store so that the history says what its state machine
 * knows. The stored rows are what the previous leader stored with its events, in the same
 * transactions: where a host's stored state or status differs from this node's, the previous
 * leader did not live to store the change (or no node led when it happened). The change is
 * stored with the event this node's own state machine made for it, when it made one that ends
 * where the host is now; else with a plain one saying so.
 */
export function reconcile(
  current: readonly HostRecord[],
  stored: readonly HostRecord[],
  shadowOf: (host: string) => ShadowEvents | undefined,
  node: string,
  now: number,
): Reconciliation {
  const storedByName = new Map(stored.map((host) => [host.name, host]));
  const events: NewEvent[] = [];
  for (const host of current) {
    const before = storedByName.get(host.name);
    storedByName.delete(host.name);
    const shadow = shadowOf(host.name);
    const stateBefore = before?.state ?? null;
    if (stateBefore !== host.state) {
      const made = shadow?.state;
      events.push(
        made && made.to === host.state
          ? { ...made, from: stateBefore }
          : {
              at: before ? now : host.firstSeen,
              host: host.name,
              kind: 'state',
              from: stateBefore,
              to: host.state,
              reason: before
                ? `${host.state} when hbd node ${node} took over as leader`
                : `first heartbeat, from ${host.addr}`,
            },
      );
    }
    if (before && before.status !== host.status && host.status !== 'bye' && before.status !== 'bye') {
      const made = shadow?.status;
      events.push(
        made && made.to === host.status
          ? { ...made, from: before.status }
          : {
              at: now,
              host: host.name,
              kind: 'status',
              from: before.status,
              to: host.status,
              reason: `reported ${host.status} when hbd node ${node} took over as leader`,
            },
      );
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { events, unknown: [...storedByName.values()] };
}
