import type { HostEvent, HostState } from '../model/events.js';

export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;

/**
 * The share of a window a host spent up (or late: it was still beating recently enough
 * not to be called down) rather than down, from its stored events.
 *
 * `left` counts as neither: a host that said bye is not failing, but it is not serving
 * either, so its time is left out of both sides. The window starts when the host was
 * first seen if that is later. Null when nothing in the window counts (new, or left the
 * whole time).
 */
export function uptimeShare(options: {
  /** The host's events that may fall in the window, in any order; non-state events are ignored. */
  events: readonly HostEvent[];
  /** Its state now, which holds from its last event until `now`. */
  currentState: HostState;
  firstSeen: number;
  now: number;
  windowMs: number;
}): number | null {
  const start = Math.max(options.now - options.windowMs, options.firstSeen);
  const changes = options.events
    .filter((event) => event.kind === 'state' || event.kind === 'forget')
    .sort((a, b) => a.at - b.at || a.id - b.id);
  let upMs = 0;
  let downMs = 0;
  const count = (state: string | null, from: number, to: number) => {
    const ms = Math.min(to, options.now) - Math.max(from, start);
    if (ms <= 0) return;
    if (state === 'up' || state === 'late') upMs += ms;
    else if (state === 'down') downMs += ms;
  };
  // Before its first change in the window the host was in that change's `from` state
  // (null: it was not known yet, which counts as nothing).
  let state: string | null = changes[0]?.from ?? options.currentState;
  let since = start;
  for (const change of changes) {
    count(state, since, change.at);
    state = change.kind === 'forget' ? null : change.to;
    since = change.at;
  }
  count(changes.length > 0 ? options.currentState : state, since, options.now);
  const counted = upMs + downMs;
  return counted === 0 ? null : Math.round((upMs / counted) * 10_000) / 10_000;
}

/** `GET /api/hosts/{name}/uptime`. */
export function uptimeJson(options: {
  events: readonly HostEvent[];
  currentState: HostState;
  firstSeen: number;
  now: number;
}) {
  return {
    day: uptimeShare({ ...options, windowMs: DAY_MS }),
    week: uptimeShare({ ...options, windowMs: WEEK_MS }),
  };
}
