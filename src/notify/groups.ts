import type { Trigger } from '../model/outbox.js';
import type { Extra } from './items.js';

export interface Group {
  /** The value of the `group_by` field ('' when none). */
  key: string;
  triggers: Trigger[];
  /** Items decided outside the triggers: reminders, flapping started or settled. */
  extras: Extra[];
  /** Wall time the group is decided. */
  flushAt: number;
}

/**
 * What waits to be decided, by group: a group opens with its first trigger or item and is
 * decided `group_wait` later, with whatever joined it meanwhile.
 */
export class PendingGroups {
  readonly #groups = new Map<string, Group>();
  readonly #waitMs: number;
  /** A new group opened: its flush may be sooner than the one armed. */
  readonly #opened: () => void;

  constructor(waitMs: number, opened: () => void) {
    this.#waitMs = waitMs;
    this.#opened = opened;
  }

  addTrigger(key: string, trigger: Trigger, now: number): void {
    this.#group(key, now).triggers.push(trigger);
  }

  addExtra(key: string, extra: Extra, now: number): void {
    this.#group(key, now).extras.push(extra);
  }

  /** When the next group is due; undefined when none waits. */
  nextFlushAt(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const group of this.#groups.values()) next = Math.min(next, group.flushAt);
    return next === Number.POSITIVE_INFINITY ? undefined : next;
  }

  /** Takes out the groups due at `now`: whatever arrives from here on opens a new group. */
  takeDue(now: number): Group[] {
    const due: Group[] = [];
    for (const group of [...this.#groups.values()]) {
      if (group.flushAt > now) continue;
      this.#groups.delete(group.key);
      due.push(group);
    }
    return due;
  }

  /** A group that could not be stored is tried again at `at`, merged with whatever joined it meanwhile. */
  retry(group: Group, at: number, now: number): void {
    const again = this.#group(group.key, now);
    again.triggers.unshift(...group.triggers);
    again.extras.unshift(...group.extras);
    again.flushAt = at;
  }

  #group(key: string, now: number): Group {
    let group = this.#groups.get(key);
    if (!group) {
      group = { key, triggers: [], extras: [], flushAt: now + this.#waitMs };
      this.#groups.set(key, group);
      this.#opened();
    }
    return group;
  }
}
