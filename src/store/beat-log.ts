import fs from 'node:fs';
import type { HostTiming } from '../state/host-table.js';

/**
 * A write-ahead log of every accepted heartbeat's timing (last seen, signed `ts`,
 * `seq`, counters), so that a crash loses none of it — not even the `ts` that
 * replay protection depends on — without a database transaction per heartbeat.
 *
 * Each event-loop turn's lines go out with one append before the next turn. The
 * state store absorbs them in a periodic cycle: the log is rotated (`PATH` →
 * `PATH.old`) when a cycle starts and the old file dropped once the cycle is
 * stored. After a crash, `readBeatLog` gives back the newest timing per host from
 * both files.
 *
 * A line is `lastSeen lastTs lastSeq every received lost signed host`, `-` for a
 * missing value; a host name has no spaces, so no quoting is needed.
 */
export class BeatLog {
  readonly path: string;
  readonly #onError: (error: unknown) => void;
  #fd: number | undefined;
  #pending: string[] = [];

  constructor(path: string, onError: (error: unknown) => void) {
    this.path = path;
    this.#onError = onError;
    this.#fd = fs.openSync(path, 'a');
  }

  append(timing: HostTiming): void {
    this.#pending.push(
      `${timing.lastSeen} ${timing.lastTs ?? '-'} ${timing.lastSeq ?? '-'} ${timing.every ?? '-'} ` +
        `${timing.received} ${timing.lost} ${timing.signed ? 1 : 0} ${timing.name}\n`,
    );
  }

  /** Writes what was appended; called once per event-loop turn. */
  flush(): void {
    if (this.#pending.length === 0 || this.#fd === undefined) return;
    try {
      fs.writeSync(this.#fd, this.#pending.join(''));
      this.#pending = [];
    } catch (error) {
      // Kept for the next turn; the store's cycle records these hosts regardless.
      this.#onError(error);
    }
  }

  /** Starts a new file; the current one becomes `PATH.old` until `dropRotated`. */
  rotate(): void {
    this.flush();
    try {
      if (this.#fd !== undefined) fs.closeSync(this.#fd);
      this.#fd = undefined;
      fs.renameSync(this.path, `${this.path}.old`);
    } catch (error) {
      this.#onError(error);
    } finally {
      this.#open();
    }
  }

  /** Everything in `PATH.old` is in the store now. */
  dropRotated(): void {
    fs.rmSync(`${this.path}.old`, { force: true });
  }

  /** Closes the file; when `everythingStored`, both files go, since the store has it all. */
  close(everythingStored: boolean): void {
    this.flush();
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    if (!everythingStored) return;
    fs.rmSync(this.path, { force: true });
    this.dropRotated();
  }

  #open(): void {
    try {
      this.#fd = fs.openSync(this.path, 'a');
    } catch (error) {
      this.#onError(error);
    }
  }
}

/** The newest timing per host found in a beat log (and its rotated file), if any. */
export function readBeatLog(path: string): Map<string, HostTiming> {
  const timings = new Map<string, HostTiming>();
  for (const file of [`${path}.old`, path]) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    lines.pop(); // empty, or the torn last line of a crash
    for (const line of lines) {
      const timing = parseLine(line);
      if (timing) timings.set(timing.name, timing);
    }
  }
  return timings;
}

function parseLine(line: string): HostTiming | undefined {
  const parts = line.split(' ');
  if (parts.length !== 8) return undefined;
  const [lastSeen, lastTs, lastSeq, every, received, lost, signed, name] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const timing: HostTiming = {
    name,
    lastSeen: Number(lastSeen),
    lastTs: optionalNumber(lastTs),
    lastSeq: optionalNumber(lastSeq),
    every: optionalNumber(every),
    received: Number(received),
    lost: Number(lost),
    signed: signed === '1',
  };
  const numbers = [
    timing.lastSeen,
    timing.lastTs,
    timing.lastSeq,
    timing.every,
    timing.received,
    timing.lost,
  ];
  return name && numbers.every((n) => n === null || Number.isFinite(n)) ? timing : undefined;
}

function optionalNumber(text: string): number | null {
  return text === '-' ? null : Number(text);
}
