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
  /** The rest of what a short write (disk full) cut off: it goes out before anything newer. */
  #unwritten: Buffer | undefined;
  #fileHasLines = false;

  constructor(path: string, onError: (error: unknown) => void) {
    this.path = path;
    this.#onError = onError;
    this.#openLive();
  }

  /** Whether the live file holds no line, nor is about to. */
  get empty(): boolean {
    return !this.#fileHasLines && this.#pending.length === 0 && this.#unwritten === undefined;
  }

  append(timing: HostTiming): void {
    this.#pending.push(
      `${timing.lastSeen} ${timing.lastTs ?? '-'} ${timing.lastSeq ?? '-'} ${timing.every ?? '-'} ` +
        `${timing.received} ${timing.lost} ${timing.signed ? 1 : 0} ${timing.name}\n`,
    );
  }

  /** Writes what was appended; called once per event-loop turn. */
  flush(): void {
    if (this.#fd === undefined) return;
    let data = this.#unwritten;
    if (this.#pending.length > 0) {
      const lines = Buffer.from(this.#pending.join(''));
      data = data ? Buffer.concat([data, lines]) : lines;
      this.#pending = [];
    }
    if (!data) return;
    let written = 0;
    try {
      // A short write has put part of a line in the file: rewriting it whole would tear it.
      while (written < data.length) written += fs.writeSync(this.#fd, data, written);
    } catch (error) {
      // Kept for the next turn; the store's cycle records these hosts regardless.
      this.#onError(error);
    }
    if (written > 0) this.#fileHasLines = true;
    this.#unwritten = written < data.length ? data.subarray(written) : undefined;
  }

  /** Starts a new file; the current one becomes `PATH.old` until `dropRotated`. */
  rotate(): void {
    this.flush();
    // The file ends in part of a line whose rest is still to write: it stays live until then.
    if (this.#unwritten) return;
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
      this.#openLive();
    } catch (error) {
      this.#onError(error);
    }
  }

  #openLive(): void {
    const fd = fs.openSync(this.path, 'a+');
    try {
      const size = fs.fstatSync(fd).size;
      const end = endOfLastLine(fd, size);
      // A crash mid-write left part of a line: the next line would continue it and read back as
      // another number (a last_seen thousands of years ahead) or not at all.
      if (end < size) fs.ftruncateSync(fd, end);
      this.#fileHasLines = end > 0;
      this.#fd = fd;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }
}

/** Where the last complete line of an open file ends; 0 when it has none. */
function endOfLastLine(fd: number, size: number): number {
  const chunk = Buffer.alloc(Math.min(size, 4096));
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - chunk.length);
    const read = fs.readSync(fd, chunk, 0, end - start, start);
    const newline = chunk.subarray(0, read).lastIndexOf(0x0a);
    if (newline >= 0) return start + newline + 1;
    end = start;
  }
  return 0;
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
