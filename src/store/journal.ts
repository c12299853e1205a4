// Default import on purpose: the namespace object of `node:fs` is frozen, the default one is
// not, which lets tests stand in for a disk that fills up halfway through a write.
import fs from 'node:fs';
import { dirname } from 'node:path';
import { openPrivate } from '../lib/private-file.js';
import type { HeartbeatNotice } from '../model/events.js';
import { type WriteFailure, WriteRetry } from './write-retry.js';

export interface JournalOptions {
  /** The live file; rotated ones are `path.1` (newest) … `path.<keep>`. */
  path: string;
  /** Most bytes a file may hold; only a single line longer than this makes a file larger. */
  maxBytes: number;
  /** Rotated files kept; 0 starts the live file over instead. */
  keep: number;
  /**
   * Told about I/O failures, at most once a minute; the journal keeps retrying regardless,
   * 1 s after a failure, then twice as long after each further one, up to a minute.
   */
  onError: (error: unknown) => void;
  /**
   * Most bytes (roughly) held in memory while writes fail; heartbeats beyond it are dropped
   * and counted in the next report. Default 64 MiB.
   */
  maxPendingBytes?: number;
}

export interface Journal {
  /**
   * Queues one line; it is written before the next event-loop turn, or while writes fail, at
   * the next retry. Never throws.
   */
  append(notice: HeartbeatNotice): void;
  /** Writes everything queued now (also retries after a failure, whatever the delay). Never throws. */
  flush(): void;
  /** Final flush, then the file is closed; later appends are ignored. */
  close(): void;
  readonly path: string;
  /** Since when, and why, lines cannot be written; undefined while they can. */
  readonly failure: WriteFailure | undefined;
}

const REPORT_INTERVAL_MS = 60_000;
const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/**
 * Opens (or creates) a JSON-lines journal of accepted heartbeats. I/O errors, including
 * one opening the file now, go to `onError`; only invalid options throw.
 */
export function openJournal(options: JournalOptions): Journal {
  return new FileJournal(options);
}

/** One JSON object per line; keys in a fixed order, empty parts left out to keep lines short. */
function toLine(notice: HeartbeatNotice): string {
  const record: Record<string, unknown> = {
    at: new Date(notice.at).toISOString(),
    host: notice.host,
    status: notice.status,
  };
  if (notice.msg !== null) record.msg = notice.msg;
  if (hasKeys(notice.fields)) record.fields = notice.fields;
  record.addr = notice.addr;
  if (notice.ip4 !== null) record.ip4 = notice.ip4;
  if (notice.ip6 !== null) record.ip6 = notice.ip6;
  record.signed = notice.signed;
  if (notice.seq !== null) record.seq = notice.seq;
  return `${JSON.stringify(record)}\n`;
}

function hasKeys(object: Readonly<Record<string, string>>): boolean {
  // Cheaper than Object.keys on the hot path: no array is built.
  for (const _ in object) return true;
  return false;
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

function renameIfExists(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * Durability model: a line waits in memory for at most one event-loop turn, then goes to
 * the kernel with a synchronous write, so a `kill -9` after that loses nothing (the page
 * cache outlives the process). Async streams would keep their buffer in the process.
 *
 * Invariant: `#tail` is only set while `#fd` is open. It holds the unwritten rest of a
 * chunk whose write failed midway, and must go to that same file, right after the bytes
 * already written, or a line would be split or the size limit broken.
 */
class FileJournal implements Journal {
  readonly path: string;
  readonly #maxBytes: number;
  readonly #keep: number;
  readonly #onError: (error: unknown) => void;
  readonly #maxPendingBytes: number;

  #fd: number | null = null;
  /** Bytes in the live file: fstat at open plus what we wrote since. */
  #size = 0;
  #lines: string[] = [];
  /** UTF-16 length of `#lines`: a byte estimate that costs nothing to keep. */
  #linesChars = 0;
  #tail: Buffer | null = null;
  #dropped = 0;
  #lastReport = Number.NEGATIVE_INFINITY;
  #immediate: NodeJS.Immediate | undefined;
  /**
   * Set while a backlog waits for its retry: a full disk is tried again after a delay, not at
   * every heartbeat (which once spun hbd at 100 % CPU). Without it a backlog would wait for the
   * next heartbeat, which may never come.
   */
  #retry: NodeJS.Timeout | undefined;
  readonly #backoff = new WriteRetry();
  #closed = false;

  constructor(options: JournalOptions) {
    if (!(options.maxBytes > 0) || !Number.isFinite(options.maxBytes)) {
      throw new RangeError(`journal maxBytes must be a positive number, got ${options.maxBytes}`);
    }
    if (!Number.isInteger(options.keep) || options.keep < 0) {
      throw new RangeError(`journal keep must be a non-negative integer, got ${options.keep}`);
    }
    this.path = options.path;
    this.#maxBytes = options.maxBytes;
    this.#keep = options.keep;
    this.#onError = options.onError;
    this.#maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    try {
      // Opening now surfaces a bad path at startup rather than at the first heartbeat.
      this.#open();
    } catch (error) {
      this.#report(error);
    }
  }

  get failure(): WriteFailure | undefined {
    return this.#backoff.failure;
  }

  append(notice: HeartbeatNotice): void {
    if (this.#closed) return;
    try {
      if (this.#linesChars + (this.#tail?.length ?? 0) >= this.#maxPendingBytes) {
        // Only reachable while writes fail: bounded memory beats an out-of-memory crash.
        this.#dropped++;
      } else {
        const line = toLine(notice);
        this.#lines.push(line);
        this.#linesChars += line.length;
      }
      if (this.#retry === undefined) this.#immediate ??= setImmediate(this.#onImmediate);
    } catch (error) {
      this.#report(error);
    }
  }

  flush(): void {
    if (this.#closed) return;
    this.#cancelScheduled();
    const error = this.#writePending();
    if (error !== undefined) {
      this.#backoff.failed(error);
      this.#report(error);
    } else {
      this.#backoff.succeeded();
      if (this.#dropped > 0) this.#report(undefined);
    }
    if (this.#hasBacklog()) {
      this.#retry = setTimeout(this.#onRetry, Math.max(1, this.#backoff.waitMs())).unref();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#cancelScheduled();
    let error = this.#writePending();
    const unwritten = this.#backlogLines();
    const fd = this.#fd;
    this.#fd = null;
    this.#tail = null;
    this.#lines = [];
    this.#linesChars = 0;
    this.#closed = true;
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch (closeError) {
        error ??= closeError;
      }
    }
    if (unwritten > 0 || this.#dropped > 0) {
      // Past the rate limit on purpose: this is the last word, and it is about lost data.
      const lost = unwritten + this.#dropped;
      this.#dropped = 0;
      this.#onError(new Error(`journal closed with ${lost} heartbeats not written`, { cause: error }));
    } else if (error !== undefined) {
      this.#report(error);
    }
  }

  readonly #onImmediate = (): void => {
    this.#immediate = undefined;
    this.flush();
  };

  readonly #onRetry = (): void => {
    this.#retry = undefined;
    this.flush();
  };

  #cancelScheduled(): void {
    if (this.#immediate) clearImmediate(this.#immediate);
    if (this.#retry) clearTimeout(this.#retry);
    this.#immediate = undefined;
    this.#retry = undefined;
  }

  #hasBacklog(): boolean {
    return this.#tail !== null || this.#lines.length > 0;
  }

  #backlogLines(): number {
    let count = this.#lines.length;
    const tail = this.#tail;
    if (tail !== null) {
      for (let at = tail.indexOf(10); at !== -1; at = tail.indexOf(10, at + 1)) count++;
    }
    return count;
  }

  /** Returns the first error met; whatever could not be written stays queued. */
  #writePending(): unknown {
    if (this.#tail !== null) {
      const tail = this.#tail;
      this.#tail = null;
      const error = this.#write(tail);
      if (error !== undefined) return error;
    }
    if (this.#lines.length === 0) return undefined;

    try {
      // The size decisions below need the real size of the file they write to.
      this.#open();
    } catch (error) {
      return error;
    }
    const lines = this.#lines;
    this.#lines = [];
    this.#linesChars = 0;
    const buffer = Buffer.from(lines.join(''), 'utf8');
    if (this.#size + buffer.length <= this.#maxBytes) return this.#write(buffer);

    // Crossing the limit: cut the batch at line boundaries, rotating between the pieces.
    let firstError: unknown;
    let mayRotate = true;
    let start = 0;
    let end = 0;
    for (let i = 0; i < lines.length; i++) {
      const length = Buffer.byteLength(lines[i]!, 'utf8');
      const projected = this.#size + (end - start);
      if (mayRotate && projected > 0 && projected + length > this.#maxBytes) {
        if (end > start) {
          const error = this.#write(buffer.subarray(start, end));
          if (error !== undefined) return this.#requeue(lines, i, error);
          start = end;
        }
        const rotateError = this.#rotate();
        if (rotateError !== undefined) {
          // Keep writing to the old file rather than lose lines; the next flush tries again.
          firstError = rotateError;
          mayRotate = false;
        }
        try {
          this.#open();
        } catch (error) {
          return this.#requeue(lines, i, firstError ?? error);
        }
      }
      end += length;
    }
    return this.#write(buffer.subarray(start, end)) ?? firstError;
  }

  #requeue(lines: string[], from: number, error: unknown): unknown {
    const rest = lines.slice(from);
    let chars = 0;
    for (const line of rest) chars += line.length;
    this.#lines = rest;
    this.#linesChars = chars;
    return error;
  }

  /** Writes all of `chunk` to the open file, or leaves its unwritten rest in `#tail`. */
  #write(chunk: Buffer): unknown {
    const fd = this.#fd!;
    let offset = 0;
    try {
      // writeSync may write less than asked (a disk filling up); loop like write(2) wants.
      while (offset < chunk.length) {
        const written = fs.writeSync(fd, chunk, offset, chunk.length - offset);
        if (written <= 0) throw new Error(`journal write to ${this.path} made no progress`);
        offset += written;
        this.#size += written;
      }
      return undefined;
    } catch (error) {
      this.#tail = chunk.subarray(offset);
      return error;
    }
  }

  #open(): void {
    if (this.#fd !== null) return;
    fs.mkdirSync(dirname(this.path), { recursive: true });
    // 'a' (O_APPEND): every write lands at the end even if someone else appends too. A new
    // file (also after a rotation) is 0600: heartbeats are nobody else's business.
    const fd = openPrivate(this.path, 'a');
    try {
      this.#size = fs.fstatSync(fd).size;
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    this.#fd = fd;
  }

  /** Leaves the file closed; the caller reopens `path`, which is new unless rotating failed. */
  #rotate(): unknown {
    const fd = this.#fd;
    this.#fd = null;
    try {
      if (fd !== null) fs.closeSync(fd);
      if (this.#keep === 0) {
        fs.rmSync(this.path, { force: true });
      } else {
        // Oldest first; a rename replaces its target, which drops the oldest file. Stopping
        // at the first failure never overwrites a file that was not shifted yet.
        for (let n = this.#keep - 1; n >= 1; n--) {
          renameIfExists(`${this.path}.${n}`, `${this.path}.${n + 1}`);
        }
        renameIfExists(this.path, `${this.path}.1`);
      }
      return undefined;
    } catch (error) {
      return error;
    }
  }

  /** Rate-limited; `error` undefined means only heartbeats were dropped. */
  #report(error: unknown): void {
    const now = Date.now();
    if (now - this.#lastReport < REPORT_INTERVAL_MS) return;
    this.#lastReport = now;
    if (this.#dropped > 0) {
      const dropped = this.#dropped;
      this.#dropped = 0;
      this.#onError(
        new Error(`journal backlog full: ${dropped} heartbeats were not journaled`, { cause: error }),
      );
    } else {
      this.#onError(error);
    }
  }
}
