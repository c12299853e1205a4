import fs from 'node:fs';

/**
 * A small write-ahead log of the signed timestamps hbd accepts, so that replay
 * protection survives a crash without a database transaction per event-loop turn.
 *
 * Each turn's accepted `ts` values are appended with one write before the next turn;
 * the state store absorbs them in its routine once-a-second flush. Then the file is
 * rotated (`PATH` → `PATH.old`) when a flush cycle starts and the old one dropped
 * when that cycle has been stored. After a crash, `readReplayFloors` gives back the
 * newest `ts` per host from both files.
 *
 * Lines are `<ts> <host>`: a host name has no spaces, so no quoting is needed.
 */
export class ReplayLog {
  readonly path: string;
  readonly #onError: (error: unknown) => void;
  #fd: number | undefined;
  #pending: string[] = [];

  constructor(path: string, onError: (error: unknown) => void) {
    this.path = path;
    this.#onError = onError;
    this.#fd = fs.openSync(path, 'a');
  }

  append(host: string, ts: number): void {
    this.#pending.push(`${ts} ${host}\n`);
  }

  /** Writes what was appended; called once per event-loop turn. */
  flush(): void {
    if (this.#pending.length === 0 || this.#fd === undefined) return;
    const text = this.#pending.join('');
    try {
      fs.writeSync(this.#fd, text);
      this.#pending = [];
    } catch (error) {
      // Kept for the next turn; the store's own flush still records these.
      this.#onError(error);
    }
  }

  /** Starts a new file; the current one becomes `PATH.old` until `dropRotated`. */
  rotate(): void {
    this.flush();
    this.#reopen(() => fs.renameSync(this.path, `${this.path}.old`));
  }

  /** Everything in `PATH.old` is in the store now. */
  dropRotated(): void {
    fs.rmSync(`${this.path}.old`, { force: true });
  }

  get hasRotated(): boolean {
    return fs.existsSync(`${this.path}.old`);
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

  #reopen(between: () => void): void {
    try {
      if (this.#fd !== undefined) fs.closeSync(this.#fd);
      this.#fd = undefined;
      between();
    } catch (error) {
      this.#onError(error);
    } finally {
      try {
        this.#fd = fs.openSync(this.path, 'a');
      } catch (error) {
        this.#onError(error);
      }
    }
  }
}

/** The newest `ts` per host found in a replay log (and its rotated file), if any. */
export function readReplayFloors(path: string): Map<string, number> {
  const floors = new Map<string, number>();
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
      const space = line.indexOf(' ');
      if (space < 0) continue;
      const ts = Number(line.slice(0, space));
      const host = line.slice(space + 1);
      if (Number.isFinite(ts) && host && ts > (floors.get(host) ?? Number.NEGATIVE_INFINITY))
        floors.set(host, ts);
    }
  }
  return floors;
}
