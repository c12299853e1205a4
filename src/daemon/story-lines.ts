import type { HostEvent } from '../model/events.js';
import { STATUS_FLAPPING } from '../model/events.js';

/** What happened to a host, as the summary of a burst counts it. */
export type ChangeKind = 'new' | 'up' | 'late' | 'down' | 'left' | 'status' | 'forgotten';

/** One line of the story: the words for people, and the fields a log shipper queries. */
export interface StoryLine {
  kind: ChangeKind;
  text: string;
  fields: Record<string, unknown>;
}

/**
 * The log line for a stored event: "web1 is down: no heartbeat for 35s (interval 5 s + grace
 * 30 s)". The reason is the event's own, as the history and the dashboard show it; only the
 * words before it are added here. Undefined for DNS events: the publisher logs those itself,
 * with the name and the wait before a retry.
 */
export function storyLineOf(event: HostEvent): StoryLine | undefined {
  const { host, from, reason } = event;
  switch (event.kind) {
    case 'state': {
      const kind = stateKind(event);
      const fields = { host, change: kind, from, state: event.to, reason };
      return { kind, text: `${host} ${STATE_PHRASE[kind](event)}: ${reason}`, fields };
    }
    case 'status': {
      const fields = { host, change: 'status', from, status: event.to, reason };
      return { kind: 'status', text: `${host} ${statusPhrase(event)}: ${reason}`, fields };
    }
    case 'forget':
      return {
        kind: 'forgotten',
        text: `${host} was forgotten: ${reason}`,
        fields: { host, change: 'forgotten', from, reason },
      };
    case 'dns':
      return undefined;
  }
}

function stateKind(event: HostEvent): Exclude<ChangeKind, 'status' | 'forgotten'> {
  if (event.from === null) return 'new';
  switch (event.to) {
    case 'late':
      return 'late';
    case 'down':
      return 'down';
    case 'left':
      return 'left';
    default:
      return 'up';
  }
}

const STATE_PHRASE: Record<Exclude<ChangeKind, 'status' | 'forgotten'>, (event: HostEvent) => string> = {
  // A host whose very first heartbeat is a bye is new and gone at once.
  new: (event) => (event.to === 'left' ? 'is new, and left' : 'is new'),
  up: () => 'is up again',
  late: () => 'is late',
  down: () => 'is down',
  left: () => 'left',
};

/** As the notification titles put it ("web1 reports warn", "web1 is ok again"), with what came before. */
function statusPhrase(event: HostEvent): string {
  const was = event.from === null ? '' : ` (was ${event.from})`;
  if (event.to === STATUS_FLAPPING) return `is flapping${was}`;
  if (event.from === STATUS_FLAPPING) return `has settled on ${event.to}`;
  if (event.to === 'ok') return `is ok again${was}`;
  return `reports ${event.to}${was}`;
}

/** How the summary of a burst says each kind: "… and 180 more hosts went down". */
export const SUMMARY_VERB: Record<ChangeKind, (count: number) => string> = {
  new: () => 'appeared',
  up: () => 'came back up',
  late: () => 'went late',
  down: () => 'went down',
  left: () => 'left',
  status: () => 'changed status',
  forgotten: (count) => (count === 1 ? 'was forgotten' : 'were forgotten'),
};
