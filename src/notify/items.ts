import type { HostRecord } from '../model/host.js';
import type { AnnouncedHost, Trigger } from '../model/outbox.js';
import type { Item } from './compose.js';

/**
 * An item decided outside the triggers, and what it does to the host's announced state.
 * The effect is applied when the group is decided, against what the group's triggers did
 * by then, rather than as a snapshot taken earlier that would undo them.
 */
export interface Extra {
  item: Item;
  /**
   * `settled`: a flapping host calmed down, and is announced as down or not; it is the
   * ground its triggers in the same group stand on. `reminder`: sent only if the host is
   * still announced as down once the group's triggers are applied.
   */
  effect?: { kind: 'settled'; down: boolean } | { kind: 'reminder' };
}

/** What a trigger says about its host, as it was at the transition. */
export function itemBase(trigger: Trigger): Omit<Item, 'kind'> {
  const { detail } = trigger;
  return {
    host: trigger.host,
    at: trigger.at,
    state: detail.to ?? '',
    status: detail.status,
    msg: detail.msg,
    addr: detail.addr,
    reason: detail.reason,
    previousFor: detail.previousFor,
  };
}

/** What the host says now, for a message decided after the transition. */
export function fromHost(host: HostRecord): Pick<Item, 'state' | 'status' | 'msg' | 'addr'> {
  return { state: host.state, status: host.status, msg: host.msg, addr: host.addr };
}

/** A host's state changes reached the flapping threshold with this trigger. */
export function flappingExtra(trigger: Trigger, reason: string): Extra {
  return { item: { ...itemBase(trigger), kind: 'flapping', state: trigger.detail.to ?? '', reason } };
}

/** A flapping host calmed down: say where it ended, and remember that as announced. */
export function settledExtra(host: HostRecord, now: number): Extra {
  return {
    item: {
      kind: 'settled',
      host: host.name,
      at: now,
      ...fromHost(host),
      reason: 'no longer flapping',
      previousFor: null,
    },
    effect: { kind: 'settled', down: host.state === 'down' },
  };
}

/** A host announced as down is still down, `repeat` after its down or its last reminder. */
export function reminderExtra(
  announced: AnnouncedHost & { downAt: number },
  host: HostRecord,
  now: number,
): Extra {
  return {
    item: {
      kind: 'reminder',
      host: announced.host,
      at: now,
      ...fromHost(host),
      reason: 'still down',
      previousFor: now - announced.downAt,
    },
    effect: { kind: 'reminder' },
  };
}

/** Nothing outstanding: what is assumed of a host never announced. */
export function nothingAnnounced(host: string): AnnouncedHost {
  return { host, downAt: null, status: null, remindedAt: null };
}
