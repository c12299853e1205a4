import type { Bus } from '../lib/bus.js';
import type { Clock } from '../lib/clock.js';
import { formatDuration } from '../lib/duration.js';
import type { Logger } from '../lib/log.js';
import type { HeartbeatNotice, HostEvent } from '../model/events.js';
import { type Cancel, systemTimers, type Timers } from '../notify/timers.js';
import { type ChangeKind, SUMMARY_VERB, storyLineOf } from './story-lines.js';

/**
 * Most story lines in one window; the rest are counted and told in one summary line. Every new
 * unsigned host is a line, so this is also what an outsider can make hbd write: at most
 * STORY_BURST + 1 lines a window (docs/security.md).
 */
export const STORY_BURST = 20;
export const STORY_WINDOW_MS = 1000;
/** Names a summary shows per kind of change, so an operator knows where to look. */
const SUMMARY_NAMES = 5;

export interface StoryLogOptions {
  bus: Bus;
  log: Logger;
  /** Its monotonic time measures the windows. */
  clock: Clock;
  /** Ends a window that nothing else ends, so its summary is never held back. */
  timers?: Timers;
  burst?: number;
  windowMs?: number;
}

interface Suppressed {
  count: number;
  names: string[];
}

/**
 * Tells the story of the fleet in the log, one info line per stored transition, status change
 * and forgotten host, from the committed events on the bus: what is in the log is in the
 * history too. When many hosts change at once (a switch dies, a fleet is moved), the first
 * `burst` of a window are told one by one and the rest in one line at the window's end.
 *
 * At debug level it also writes one line per accepted heartbeat. It listens for heartbeats only
 * then: at info, ingest pays nothing for it.
 */
export class StoryLog {
  readonly #log: Logger;
  readonly #bus: Bus;
  readonly #clock: Clock;
  readonly #timers: Timers;
  readonly #burst: number;
  readonly #windowMs: number;
  readonly #unsubscribeEvents: () => void;
  #unsubscribeHeartbeats: (() => void) | undefined;
  #windowStart = Number.NEGATIVE_INFINITY;
  #written = 0;
  #suppressed = new Map<ChangeKind, Suppressed>();
  #summaryTimer: Cancel | undefined;

  constructor(options: StoryLogOptions) {
    this.#log = options.log;
    this.#bus = options.bus;
    this.#clock = options.clock;
    this.#timers = options.timers ?? systemTimers;
    this.#burst = options.burst ?? STORY_BURST;
    this.#windowMs = options.windowMs ?? STORY_WINDOW_MS;
    this.#unsubscribeEvents = options.bus.on('event', (event) => this.#told(event));
    this.heartbeatLines(options.log.isLevelEnabled('debug'));
  }

  /** Whether to write a line per heartbeat: asked once at start and once per reload, not per datagram. */
  heartbeatLines(on: boolean): void {
    if (on && !this.#unsubscribeHeartbeats) {
      this.#unsubscribeHeartbeats = this.#bus.on('heartbeat', (notice) => this.#heard(notice));
    } else if (!on && this.#unsubscribeHeartbeats) {
      this.#unsubscribeHeartbeats();
      this.#unsubscribeHeartbeats = undefined;
    }
  }

  /** Stops listening; a summary still owed is written now. */
  close(): void {
    this.#unsubscribeEvents();
    this.heartbeatLines(false);
    this.#writeSummary();
  }

  #told(event: HostEvent): void {
    // Summaries are info lines too: below info there is nothing to write or count.
    if (!this.#log.isLevelEnabled('info')) return;
    const line = storyLineOf(event);
    if (!line) return;
    const now = this.#clock.mono();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#writeSummary();
      this.#windowStart = now;
      this.#written = 0;
    }
    if (this.#written < this.#burst) {
      this.#written++;
      this.#log.info(line.fields, line.text);
      return;
    }
    let suppressed = this.#suppressed.get(line.kind);
    if (!suppressed) {
      suppressed = { count: 0, names: [] };
      this.#suppressed.set(line.kind, suppressed);
    }
    suppressed.count++;
    if (suppressed.names.length < SUMMARY_NAMES) suppressed.names.push(event.host);
    this.#summaryTimer ??= this.#timers.after(this.#windowStart + this.#windowMs - now, () => {
      this.#summaryTimer = undefined;
      this.#writeSummary();
      // The next change opens a window of its own.
      this.#windowStart = Number.NEGATIVE_INFINITY;
    });
  }

  #writeSummary(): void {
    this.#summaryTimer?.();
    this.#summaryTimer = undefined;
    if (this.#suppressed.size === 0) return;
    const byKind = [...this.#suppressed];
    this.#suppressed = new Map();
    const total = byKind.reduce((sum, [, { count }]) => sum + count, 0);
    const window = formatDuration(this.#windowMs);
    const names = ({ count, names }: Suppressed) =>
      `(${names.join(', ')}${count > names.length ? ', …' : ''})`;
    const text =
      byKind.length === 1
        ? `… and ${amount(total)} more ${total === 1 ? 'host' : 'hosts'} ${SUMMARY_VERB[byKind[0]![0]](total)} ` +
          `in the last ${window} ${names(byKind[0]![1])}`
        : `… and ${amount(total)} more host changes in the last ${window}: ` +
          byKind
            .map(([kind, kept]) => `${amount(kept.count)} ${SUMMARY_VERB[kind](kept.count)} ${names(kept)}`)
            .join('; ');
    const fields = Object.fromEntries(byKind.map(([kind, { count }]) => [kind, count]));
    this.#log.info({ more: total, byChange: fields, windowMs: this.#windowMs }, text);
  }

  #heard(notice: HeartbeatNotice): void {
    const { host, addr, status, seq, signed, via } = notice;
    const details = [status, ...(seq === null ? [] : [`seq ${seq}`]), signed ? 'signed' : 'unsigned'];
    if (via === 'http') details.push('over HTTP');
    this.#log.debug(
      { host, addr, status, seq, signed, via },
      `${host}: heartbeat from ${addr}, ${details.join(', ')}`,
    );
  }
}

/** 4180 as "4,180": a count read at a glance in a long line. */
function amount(count: number): string {
  return count.toLocaleString('en-US');
}
