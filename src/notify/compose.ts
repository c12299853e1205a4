import { createHash } from 'node:crypto';
import { formatDuration } from '../lib/duration.js';
import { escapeControlCharacters } from '../lib/inert-text.js';
import type { MessageHost, Notification, NotificationKind } from '../model/notification.js';

/**
 * One thing a message says about one host:
 * - down / up: it went silent, or came back after its down was announced
 * - status / status-ok: its status turned warn or fail, or back to ok
 * - reminder: it is still down (`repeat`)
 * - flapping / settled: it changes state too often to report each change, or no longer does
 */
export type ItemKind = 'down' | 'up' | 'status' | 'status-ok' | 'reminder' | 'flapping' | 'settled';

export interface Item {
  kind: ItemKind;
  host: string;
  /** Wall time of what happened, ms. */
  at: number;
  state: string;
  status: string;
  msg: string | null;
  addr: string;
  reason: string;
  /** How long it had been in its previous state (or down, for a reminder), ms. */
  previousFor: number | null;
}

/** Most host names a short message lists per kind before "… (and N more)". */
const NAMES_SHOWN = 10;
/** Most hosts the full account describes in full; the rest are named only. */
const DETAILED_HOSTS = 200;

const RESOLVING: ReadonlySet<ItemKind> = new Set(['up', 'status-ok']);
/** For a group of mixed items, the message takes the kind of the most urgent. */
const URGENCY: readonly ItemKind[] = ['down', 'status', 'flapping', 'reminder', 'settled', 'status-ok', 'up'];
const NOTIFICATION_KIND: Record<ItemKind, NotificationKind> = {
  down: 'down',
  up: 'up',
  status: 'status',
  'status-ok': 'status',
  reminder: 'reminder',
  flapping: 'flapping',
  settled: 'flapping',
};

/** Turns the items of one group into one message: short for push services, with full `details`. */
export function compose(items: readonly Item[], options: { dedupKey: string; group: string }): Notification {
  if (items.length === 0) throw new RangeError('a message needs at least one item');
  // The group is a host field's value, text from a heartbeat like msg: its control characters
  // are escaped, so that no title can break a log line, a header or a chat post.
  const prefix = options.group ? `[${escapeControlCharacters(options.group)}] ` : '';
  const single = items.length === 1 ? items[0] : undefined;
  const title = prefix + (single ? singleTitle(single) : groupTitle(items));
  const body = single ? describe(single) : groupBody(items);
  const details = fullAccount(items);
  const mostUrgent = URGENCY.find((kind) => items.some((item) => item.kind === kind))!;
  return {
    dedupKey: options.dedupKey,
    kind: NOTIFICATION_KIND[mostUrgent],
    title,
    body,
    details,
    hosts: items.map(notifiedHost),
    at: latest(items.map((item) => item.at)),
    resolves: items.every(
      (item) => RESOLVING.has(item.kind) || (item.kind === 'settled' && item.state !== 'down'),
    ),
  };
}

/**
 * A group's message, under a key that is stable across a crash and a retry: the same triggers
 * and items give the same key, so a message stored twice is queued once.
 */
export function composeGroup(
  items: readonly Item[],
  consumed: readonly number[],
  group: string,
): Notification {
  const hash = createHash('sha256');
  hash.update(consumed.join(','));
  for (const item of items) hash.update(`|${item.kind}:${item.host}:${item.at}`);
  return compose(items, { dedupKey: `hbd-${hash.digest('hex').slice(0, 24)}`, group });
}

/** Why a host counts as flapping, for its `flapping` item. */
export function flappingReason(changesWithinWindow: number, windowMs: number): string {
  return `${changesWithinWindow} state changes within ${Math.round(windowMs / 60_000)} min`;
}

/** The isolation guard tripped: what went silent, of how many, within which window. */
export function isolationStarted(
  tripped: { silent: number; known: number; signedOnly: boolean },
  windowMs: number,
  now: number,
): Notification {
  const hosts = tripped.signedOnly ? 'signed hosts' : 'hosts';
  return {
    dedupKey: `isolated:${now}`,
    kind: 'isolated',
    title: 'hbd may be isolated',
    body:
      `${tripped.silent} of ${tripped.known} established ${hosts} went silent within ` +
      `${Math.round(windowMs / 1000)} s (by ${formatWallTime(now)}). hbd's own network may be down, ` +
      'so no host is reported down yet: per-host messages are held until hosts are heard again.',
    hosts: [],
    at: now,
    resolves: false,
  };
}

/** The isolation is over; `stillDown` hosts whose held downs follow in their own message. */
export function isolationOver(stillDown: number, now: number): Notification {
  return {
    dedupKey: `isolation-over:${now}`,
    kind: 'isolated',
    title: 'hbd hears its hosts again',
    body:
      stillDown > 0
        ? `${stillDown} hosts are still down; a message about them follows.`
        : 'Every host that went silent is back.',
    hosts: [],
    at: now,
    resolves: true,
  };
}

/** For the other channels: this one has kept failing since `failingSince`. */
export function channelFailing(
  channel: string,
  health: { failingSince: number | null; lastError: string | null; pending: number },
  now: number,
): Notification {
  const since = health.failingSince ?? now;
  return {
    dedupKey: `channel-failing:${channel}:${since}`,
    kind: 'channel',
    title: `hbd cannot deliver to ${channel}`,
    body:
      `Messages to ${channel} have been failing since ${formatWallTime(since)}: ${health.lastError ?? 'unknown error'}. ` +
      `${health.pending} waiting.`,
    hosts: [],
    at: now,
    resolves: false,
  };
}

/** For the other channels: this one works again after `channelFailing`. */
export function channelRecovered(channel: string, now: number): Notification {
  return {
    dedupKey: `channel-recovered:${channel}:${now}`,
    kind: 'channel',
    title: `hbd delivers to ${channel} again`,
    body: `Messages to ${channel} are going through again.`,
    hosts: [],
    at: now,
    resolves: true,
  };
}

/**
 * The latest of some wall times (or any numbers), -Infinity for none. Not Math.max(...times):
 * spreading a group of some hundred thousand hosts overflows the stack, in a timer, where the
 * RangeError would take the daemon down.
 */
export function latest(times: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const time of times) if (time > max) max = time;
  return max;
}

/** Every host's lines, up to a size a mail client still opens; `hosts` carries the complete list. */
function fullAccount(items: readonly Item[]): string {
  const blocks = items.slice(0, DETAILED_HOSTS).map(describe);
  if (items.length > DETAILED_HOSTS) {
    const rest = items.slice(DETAILED_HOSTS).map((item) => `${item.host} (${item.kind})`);
    blocks.push(`And ${rest.length} more: ${rest.join(', ')}`);
  }
  return blocks.join('\n\n');
}

function singleTitle(item: Item): string {
  switch (item.kind) {
    case 'down':
      return `${item.host} is down`;
    case 'up':
      return `${item.host} is back up`;
    case 'status':
      return `${item.host} reports ${item.status}`;
    case 'status-ok':
      return `${item.host} is ok again`;
    case 'reminder':
      return `${item.host} is still down`;
    case 'flapping':
      return `${item.host} is flapping`;
    case 'settled':
      return `${item.host} has settled: ${item.state}`;
  }
}

const GROUP_PHRASE: Record<ItemKind, (count: number) => string> = {
  down: (n) => `${hosts(n)} down`,
  up: (n) => `${hosts(n)} back up`,
  status: (n) => `${hosts(n)} warn or fail`,
  'status-ok': (n) => `${hosts(n)} ok again`,
  reminder: (n) => `${hosts(n)} still down`,
  flapping: (n) => `${hosts(n)} flapping`,
  settled: (n) => `${hosts(n)} settled`,
};

function hosts(count: number): string {
  return count === 1 ? '1 host' : `${count} hosts`;
}

function byKind(items: readonly Item[]): [ItemKind, Item[]][] {
  return URGENCY.map((kind): [ItemKind, Item[]] => [kind, items.filter((item) => item.kind === kind)]).filter(
    ([, matching]) => matching.length > 0,
  );
}

function groupTitle(items: readonly Item[]): string {
  return byKind(items)
    .map(([kind, matching]) => GROUP_PHRASE[kind](matching.length))
    .join(', ');
}

/** "14 hosts down: web1, web2, … (and 4 more)", one line per kind. */
function groupBody(items: readonly Item[]): string {
  return byKind(items)
    .map(([kind, matching]) => {
      const names = matching.slice(0, NAMES_SHOWN).map((item) => item.host);
      const more = matching.length > NAMES_SHOWN ? ` (and ${matching.length - NAMES_SHOWN} more)` : '';
      return `${GROUP_PHRASE[kind](matching.length)}: ${names.join(', ')}${more}`;
    })
    .join('\n');
}

/** A few lines on one host: what happened and when, for how long before, what it last said, where. */
export function describe(item: Item): string {
  const when = formatWallTime(item.at);
  const lines = [`${singleTitle(item)} (${when})`];
  const before = item.previousFor === null ? '' : formatDuration(item.previousFor);
  switch (item.kind) {
    case 'down':
      lines.push(before ? `It had been up for ${before}; ${item.reason}.` : `${capitalise(item.reason)}.`);
      break;
    case 'up':
      if (before) lines.push(`It had been down for ${before}.`);
      break;
    case 'reminder':
      if (before) lines.push(`Down for ${before}.`);
      break;
    case 'flapping':
      lines.push(`${capitalise(item.reason)}; further changes are not reported until it settles.`);
      break;
    default:
      break;
  }
  const said = item.msg ? `, "${escapeControlCharacters(item.msg)}"` : '';
  lines.push(`Last status ${item.status}${said}; address ${item.addr}.`);
  return lines.join('\n');
}

function notifiedHost(item: Item): MessageHost {
  return {
    name: item.host,
    state: item.state,
    status: item.status,
    msg: item.msg,
    addr: item.addr,
    previousFor: item.previousFor,
  };
}

export function formatWallTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
