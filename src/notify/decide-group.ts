import { STATUS_FLAPPING } from '../model/events.js';
import type { HostRecord } from '../model/host.js';
import type { AnnouncedHost, Trigger } from '../model/outbox.js';
import type { Item } from './compose.js';
import { type Extra, fromHost, itemBase, nothingAnnounced } from './items.js';

/** Everything a group's decision depends on: no clock, no store, no timer. */
export interface GroupInput {
  /** The group's triggers, in the order they were stored. */
  triggers: readonly Trigger[];
  /** Reminders, flapping started or settled, in the order they joined the group. */
  extras: readonly Extra[];
  /** What was announced per host before this group; a host not in it has nothing outstanding. */
  announced: ReadonlyMap<string, AnnouncedHost>;
  /** The hosts as they are now; a host not in it was forgotten. */
  hosts: ReadonlyMap<string, HostRecord>;
  /** A silence covers the host now. */
  muted(host: string): boolean;
  /** The host changes state too often for each change to be announced. */
  flapping(host: string): boolean;
  /** The restart grace is not over: problems are held, to be announced only if they still hold. */
  restartGrace: boolean;
  /** hbd may be isolated for a host signed or not: its downs are held until hosts are heard again. */
  isolationHolds(signed: boolean): boolean;
  now: number;
}

export interface GroupDecision {
  /** What the message says, one item per thing to say; none: no message. */
  items: Item[];
  /** The triggers decided (not held): deleted with the decision. */
  consumed: number[];
  /** Problems held for the restart grace or the isolation, to be decided again after it. */
  held: Trigger[];
  /** The hosts whose announced state changed, as it is now. */
  announced: AnnouncedHost[];
}

/**
 * Decides a group: which of its hosts get a line, and what is now known as announced.
 *
 * Per host, only its last state change and its last status change count (a host that went
 * down and came back within the group is not news). A down is announced once, and its
 * recovery only if the down was; a status problem once per status, and its end only if it
 * was announced. A silence mutes the line but not the memory of a recovery; flapping hosts
 * are summed up by their `flapping` and `settled` items instead.
 */
export function decideGroup(input: GroupInput): GroupDecision {
  const { hosts, now } = input;
  const items: Item[] = [];
  const consumed: number[] = [];
  const held: Trigger[] = [];
  const changed = new Map<string, AnnouncedHost>();
  const announced = (host: string) =>
    changed.get(host) ?? input.announced.get(host) ?? nothingAnnounced(host);

  for (const { item, effect } of input.extras) {
    if (effect?.kind !== 'settled') continue;
    changed.set(item.host, {
      ...announced(item.host),
      downAt: effect.down ? item.at : null,
      remindedAt: null,
    });
  }

  for (const [host, triggers] of byHost(input.triggers)) {
    const before = announced(host);
    const after = { ...before };
    const current = hosts.get(host);
    const muted = input.muted(host);
    const lastState = triggers.findLast((trigger) => trigger.kind !== 'status');
    const lastStatus = triggers.findLast((trigger) => trigger.kind === 'status');
    const hostHeld: Trigger[] = [];

    if (lastState?.kind === 'down') {
      if (current?.state !== 'down' || after.downAt !== null) {
        // It is back already (its "up" is in this group), or its down was announced before.
      } else if (input.restartGrace || input.isolationHolds(current.signed)) {
        hostHeld.push(lastState);
      } else if (!muted && !input.flapping(host)) {
        items.push({ ...itemBase(lastState), ...fromHost(current), kind: 'down' });
        after.downAt = now;
        after.remindedAt = null;
      }
    } else if (lastState?.kind === 'up' && after.downAt !== null) {
      after.downAt = null;
      after.remindedAt = null;
      if (!muted && !input.flapping(host) && current) {
        items.push({ ...itemBase(lastState), ...fromHost(current), kind: 'up' });
      }
    }

    if (lastStatus?.detail.to === STATUS_FLAPPING && current) {
      // A status flapping episode: one message for it, not one per change (nor held: it is
      // made of heartbeats heard, not of a silence a restart could explain).
      if (after.status !== STATUS_FLAPPING && !muted) {
        items.push({ ...itemBase(lastStatus), ...fromHost(current), kind: 'flapping' });
        after.status = STATUS_FLAPPING;
      }
    } else if (lastStatus && current) {
      const problem = current.status === 'warn' || current.status === 'fail';
      if (problem && after.status !== current.status) {
        if (input.restartGrace) hostHeld.push(lastStatus);
        else if (!muted) {
          items.push({ ...itemBase(lastStatus), ...fromHost(current), kind: 'status' });
          after.status = current.status;
        }
      } else if (!problem && after.status !== null) {
        after.status = null;
        if (!muted) items.push({ ...itemBase(lastStatus), ...fromHost(current), kind: 'status-ok' });
      }
    }

    for (const trigger of triggers) if (!hostHeld.includes(trigger)) consumed.push(trigger.id);
    held.push(...hostHeld);
    if (after.downAt !== before.downAt || after.status !== before.status) changed.set(host, after);
  }

  for (const { item, effect } of input.extras) {
    if (effect?.kind === 'reminder') {
      const state = announced(item.host);
      // Its recovery (or a forget) came in this group: a "still down" line would be wrong.
      if (state.downAt === null || hosts.get(item.host)?.state !== 'down') continue;
      changed.set(item.host, { ...state, remindedAt: item.at });
    }
    items.push(item);
  }

  return { items, consumed, held, announced: [...changed.values()] };
}

function byHost(triggers: readonly Trigger[]): Map<string, Trigger[]> {
  const hosts = new Map<string, Trigger[]>();
  for (const trigger of triggers) {
    const list = hosts.get(trigger.host) ?? [];
    list.push(trigger);
    hosts.set(trigger.host, list);
  }
  return hosts;
}
