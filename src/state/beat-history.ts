/** Heartbeats kept per host: enough for a chart of timing and loss, small enough for a large fleet. */
export const BEATS_KEPT = 64;

/** A per-beat loss above this is kept as this: the chart only needs to show that many went missing. */
const MAX_LOST_KEPT = 0xff;
const MAX_GAP_MS = 0xffff_ffff;
const NO_ROW = -1;
const INITIAL_ROWS = 64;

/** One remembered heartbeat: when it arrived and how many the `seq` gap before it says were lost. */
export interface RecentBeat {
  /** Wall time, ms since the epoch. */
  at: number;
  /** Since the heartbeat before it; null for the oldest one remembered. */
  gapMs: number | null;
  lost: number;
}

/**
 * The last BEATS_KEPT arrival times of every host that has beaten since hbd started,
 * in memory only (the store keeps timing, not each heartbeat).
 *
 * Hosts are keyed by their host-table slot. A row of history is given to a slot on its
 * first heartbeat, so hosts that stay silent cost 4 bytes; a row costs BEATS_KEPT × 5 + 10
 * bytes (330): arrival times are kept as the gap to the previous one (Uint32 ms, exact up
 * to 49 days) plus the latest arrival, and losses as one byte each. All rows live in a few
 * typed arrays that double when full, so there is no object per host or per beat.
 */
export class BeatHistory {
  #rowOfSlot = new Int32Array(0).fill(NO_ROW);
  #rowCount = 0;
  #rowCapacity = 0;
  #gapMs = new Uint32Array(0);
  #lost = new Uint8Array(0);
  #lastAt = new Float64Array(0);
  /** Where the next beat of the row goes in its ring. */
  #next = new Uint8Array(0);
  #filled = new Uint8Array(0);

  /**
   * Called by the monitor for every accepted heartbeat. `firstOfHost`: the slot was just
   * given to a new host, so whatever it remembers belongs to a host that was forgotten.
   */
  record(slot: number, at: number, lost: number, firstOfHost: boolean): void {
    let row = slot < this.#rowOfSlot.length ? this.#rowOfSlot[slot]! : NO_ROW;
    if (row === NO_ROW) {
      row = this.#allocateRow(slot);
    } else if (firstOfHost) {
      this.#filled[row] = 0;
      this.#next[row] = 0;
    }
    const index = row * BEATS_KEPT + this.#next[row]!;
    const filled = this.#filled[row]!;
    this.#gapMs[index] = filled === 0 ? 0 : Math.min(Math.max(0, at - this.#lastAt[row]!), MAX_GAP_MS);
    this.#lost[index] = Math.min(lost, MAX_LOST_KEPT);
    this.#lastAt[row] = at;
    this.#next[row] = (this.#next[row]! + 1) % BEATS_KEPT;
    if (filled < BEATS_KEPT) this.#filled[row] = filled + 1;
  }

  /** The host's remembered heartbeats, oldest first. */
  recent(slot: number): RecentBeat[] {
    const row = slot < this.#rowOfSlot.length ? this.#rowOfSlot[slot]! : NO_ROW;
    if (row === NO_ROW) return [];
    const filled = this.#filled[row]!;
    const beats: RecentBeat[] = new Array(filled);
    // Walk back from the newest, subtracting gaps to recover each arrival time.
    let at = this.#lastAt[row]!;
    let position = this.#next[row]!;
    for (let i = filled - 1; i >= 0; i--) {
      position = (position + BEATS_KEPT - 1) % BEATS_KEPT;
      const index = row * BEATS_KEPT + position;
      const gap = this.#gapMs[index]!;
      beats[i] = { at, gapMs: i === 0 ? null : gap, lost: this.#lost[index]! };
      at -= gap;
    }
    return beats;
  }

  /** Bytes held, for the operations docs and tests. */
  get bytes(): number {
    return (
      this.#rowOfSlot.byteLength +
      this.#gapMs.byteLength +
      this.#lost.byteLength +
      this.#lastAt.byteLength +
      this.#next.byteLength +
      this.#filled.byteLength
    );
  }

  #allocateRow(slot: number): number {
    if (slot >= this.#rowOfSlot.length) {
      const grown = new Int32Array(Math.max(INITIAL_ROWS, slot + 1, this.#rowOfSlot.length * 2)).fill(NO_ROW);
      grown.set(this.#rowOfSlot);
      this.#rowOfSlot = grown;
    }
    if (this.#rowCount === this.#rowCapacity) this.#growRows(Math.max(INITIAL_ROWS, this.#rowCapacity * 2));
    const row = this.#rowCount++;
    this.#rowOfSlot[slot] = row;
    return row;
  }

  #growRows(capacity: number): void {
    this.#gapMs = grown(this.#gapMs, capacity * BEATS_KEPT);
    this.#lost = grown(this.#lost, capacity * BEATS_KEPT);
    this.#lastAt = grown(this.#lastAt, capacity);
    this.#next = grown(this.#next, capacity);
    this.#filled = grown(this.#filled, capacity);
    this.#rowCapacity = capacity;
  }
}

function grown<T extends Uint8Array | Uint32Array | Float64Array>(column: T, length: number): T {
  const next = new (column.constructor as new (length: number) => T)(length);
  next.set(column);
  return next;
}
