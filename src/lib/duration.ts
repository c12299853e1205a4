// No imports: the dashboard (web/) bundles this file too, so it must not pull in Node-only code.

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

/** The longest duration accepted: a year, leap day included, and not a forgotten "forever". */
export const MAX_DURATION_MS = 366 * DAY_MS;

const UNITS: readonly { suffix: string; ms: number }[] = [
  { suffix: 'w', ms: WEEK_MS },
  { suffix: 'd', ms: DAY_MS },
  { suffix: 'h', ms: HOUR_MS },
  { suffix: 'm', ms: MINUTE_MS },
  { suffix: 's', ms: SECOND_MS },
];

const BARE_SECONDS = /^\d+(?:\.\d+)?$/;
const PART = /(\d+(?:\.\d+)?)([wdhms])\s*/y;

/**
 * Reads `90s`, `15m`, `2h`, `1d`, `1w`, combinations from the largest unit down (`1h30m`,
 * `1d 12h`), or a bare number of seconds; returns milliseconds. Throws for anything else,
 * for zero and for more than 366 days.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  const ms = BARE_SECONDS.test(trimmed) ? Number(trimmed) * SECOND_MS : sumOfParts(trimmed);
  if (ms === undefined) throw durationError(text);
  const rounded = Math.round(ms);
  if (rounded <= 0) throw durationError(text, 'it must be longer than zero');
  if (rounded > MAX_DURATION_MS) throw durationError(text, 'it can be at most 366d');
  return rounded;
}

/** Undefined unless the whole text is parts with units in falling order, each unit at most once. */
function sumOfParts(text: string): number | undefined {
  if (text === '') return undefined;
  let total = 0;
  let nextUnit = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return undefined;
    const unit = UNITS.findIndex((candidate) => candidate.suffix === match[2]);
    if (unit < nextUnit) return undefined;
    nextUnit = unit + 1;
    total += Number(match[1]) * UNITS[unit]!.ms;
  }
  return total;
}

function durationError(text: string, why?: string): Error {
  return new Error(
    `expected a duration such as 30m, 2h or 1d, got ${JSON.stringify(text)}${why ? `: ${why}` : ''}`,
  );
}

/**
 * For people, to read at a glance: the largest unit of days, hours, minutes and seconds and,
 * when not zero, the next one down ("1h 30m", "45s", "2d"); the rest is dropped. Negative is "0s".
 * The one wording of a span everywhere: CLI, events, notifications and the dashboard. It is also
 * the syntax parseDuration reads, so a span hbd prints can be typed back.
 */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.round(ms / SECOND_MS)) * SECOND_MS;
  const parts: string[] = [];
  for (const { suffix, ms: unitMs } of UNITS.slice(1)) {
    const count = Math.floor(rest / unitMs);
    rest -= count * unitMs;
    if (count > 0) parts.push(`${count}${suffix}`);
    else if (parts.length > 0) break;
    if (parts.length === 2) break;
  }
  return parts.length > 0 ? parts.join(' ') : '0s';
}
