// Default import on purpose: the namespace object of `node:fs` is frozen, the default one is
// not, which lets tests stand in for a disk that fills up halfway through a write.
import fs from 'node:fs';
import { openPrivate, tightenPrivate } from '../lib/private-file.js';
import type { HostTiming } from '../model/host.js';
import { type WriteFailure, WriteRetry } from './write-retry.js';

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
  readonly #retry: WriteRetry;
  #fd: number | undefined;
  #pending: string[] = [];
  /** The rest of what a short write (disk full) cut off: it goes out before anything newer. */
  #unwritten: Buffer | undefined;
  /** The file ends in part of a line, whose rest is the start of `#unwritten`. */
  #midLine = false;
  #fileHasLines = false;

  /**
   * `onError` hears of a failure at most once a minute (see WriteRetry); meanwhile the lines
   * wait in memory and are written when the disk takes them again.
   */
  constructor(path: string, onError: (error: unknown) => void, retry = new WriteRetry()) {
    this.path = path;
    this.#onError = onError;
    this.#retry = retry;
    // Only hbd reads it: a file an older hbd made readable by all is tightened.
    tightenPrivate(path);
    tightenPrivate(`${path}.old`);
    this.#openLive();
  }

  /** Whether the live file holds no line, nor is about to. */
  get empty(): boolean {
    return !this.#fileHasLines && this.#pending.length === 0 && this.#unwritten === undefined;
  }

  /** Since when, and why, lines cannot be written; undefined while they can. */
  get failure(): WriteFailure | undefined {
    return this.#retry.failure;
  }

  append(timing: HostTiming): void {
    this.#pending.push(
      `${timing.lastSeen} ${timing.lastTs ?? '-'} ${timing.lastSeq ?? '-'} ${timing.every ?? '-'} ` +
        `${timing.received} ${timing.lost} ${timing.signed ? 1 : 0} ${timing.name}\n`,
    );
  }

  /**
   * Writes what was appended; called once per event-loop turn. After a failure it does nothing
   * until the retry is due (1 s, doubling to a minute), so a full disk costs no CPU.
   */
  flush(): void {
    if (this.#retry.due()) this.#write();
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
    // The last chance: tried whatever the retry's delay says.
    this.#write();
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    if (!everythingStored) return;
    fs.rmSync(this.path, { force: true });
    this.dropRotated();
  }

  #write(): void {
    let data = this.#unwritten;
    if (this.#pending.length > 0) {
      const lines = Buffer.from(this.#pending.join(''));
      data = data ? Buffer.concat([data, lines]) : lines;
      this.#pending = [];
    }
    if (!data) return;
    let written = 0;
    try {
      // A rotation whose new file could not be made left none open.
      if (this.#fd === undefined) this.#openLive();
      // A short write has put part of a line in the file: rewriting it whole would tear it.
      while (written < data.length) written += fs.writeSync(this.#fd!, data, written);
      this.#retry.succeeded();
    } catch (error) {
      // Kept for a later turn; the store's cycle records these hosts regardless.
      if (this.#retry.failed(error)) this.#onError(error);
    }
    if (written > 0) {
      this.#fileHasLines = true;
      this.#midLine = data[written - 1] !== NEWLINE;
    }
    this.#unwritten = written < data.length ? this.#bounded(data.subarray(written)) : undefined;
  }

  /**
   * What waits for the disk, kept within MAX_UNWRITTEN_BYTES by keeping only each host's newest
   * line (all a restart reads), plus the rest of a line the file already holds the start of.
   */
  #bounded(unwritten: Buffer): Buffer {
    if (unwritten.length <= MAX_UNWRITTEN_BYTES) return unwritten;
    const restOfLine = this.#midLine ? unwritten.indexOf(NEWLINE) + 1 : 0;
    const newest = new Map<string, string>();
    for (const line of unwritten.subarray(restOfLine).toString().split('\n')) {
      if (line !== '') newest.set(line.slice(line.lastIndexOf(' ') + 1), line);
    }
    const lines = [...newest.values()].join('\n');
    return Buffer.concat([unwritten.subarray(0, restOfLine), Buffer.from(lines ? `${lines}\n` : '')]);
  }

  #open(): void {
    try {
      this.#openLive();
    } catch (error) {
      this.#onError(error);
    }
  }

  #openLive(): void {
    const fd = openPrivate(this.path, 'a+');
    try {
      const size = fs.fstatSync(fd).size;
      const end = endOfLastLine(fd, size);
      // A crash mid-write left part of a line: the next line would continue it and read back as
      // another number (a last_seen thousands of years ahead) or not at all.
      if (end < size) fs.ftruncateSync(fd, end);
      this.#fileHasLines = end > 0;
      this.#midLine = false;
      this.#fd = fd;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
  }
}

const NEWLINE = 0x0a;
/**
 * Most bytes of lines kept while the disk refuses them, beyond a minute's worth that wait
 * between two attempts: past it, only each host's newest line is kept.
 */
export const MAX_UNWRITTEN_BYTES = 4 * 1024 * 1024;

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
