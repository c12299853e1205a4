import { formatDuration as duration } from '../../src/lib/duration.js';
import { globMatch } from '../../src/lib/glob-match.js';

/** "12s ago", "3m 20s ago", "5h ago", "2d 4h ago". */
export function ago(ms: number, now: number): string {
  return `${duration(now - ms)} ago`;
}

// The same words as hbd's own events and notifications use, so the two never disagree.
export { duration };

/** Local date and time, to the second: what an operator compares with their own clock. */
export function dateTime(iso: string | number): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** Local time of day, to the second: "02:00:04". */
export function timeOfDay(iso: string | number): string {
  return dateTime(iso).slice(11);
}

/** Seconds as people say them: "1h", "10m", "1h 30m", not "3600 s". */
export function span(seconds: number): string {
  return duration(seconds * 1000);
}

/** "running since 02:00:04, 12m": a run's start (with its date once a day old) and how long it has been going. */
export function runningSince(started: string, now: number): string {
  const at = Date.parse(started);
  const since = now - at < 24 * 60 * 60 * 1000 ? timeOfDay(at) : dateTime(at);
  return `running since ${since}, ${duration(now - at)}`;
}

export function percent(share: number | null, digits = 1): string {
  return share === null ? '–' : `${(share * 100).toFixed(digits)} %`;
}

/** A gap between heartbeats: to the hundredth of a second while that matters ("30.02 s"), then as people say it ("1h 30m"). */
export function seconds(ms: number): string {
  if (ms >= 60_000) return duration(ms);
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Whether a silence's pattern (a name, or a glob with * and ?) covers a host, as hbd decides it. */
export function globMatches(pattern: string, name: string): boolean {
  // hbd's own matcher, so the page and the daemon never disagree (and no regex backtracking).
  return globMatch(pattern.toLowerCase(), name.toLowerCase());
}
