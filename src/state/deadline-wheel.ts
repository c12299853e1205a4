const NOT_SCHEDULED = -1;
const NIL = -1;

/**
 * One structure for every host's next deadline, instead of a timer per host.
 *
 * Time is cut into ticks of `resolutionMs`; each tick holds an intrusive doubly
 * linked list of host slots (the links live in typed arrays indexed by slot), so
 * scheduling, moving and cancelling are O(1) and allocate nothing. A slot is in at
 * most one list. `takeDue` walks the ticks that have passed since the last call.
 *
 * Callers keep it cheap on the hot path by being lazy: a heartbeat that pushes a
 * deadline later leaves the slot where it is; when the old tick fires, the caller
 * sees the deadline has not passed yet and schedules it again. A host is then
 * touched about once per interval, however often it beats.
 */
export class DeadlineWheel {
  readonly resolutionMs: number;
  #next = new Int32Array(0);
  #prev = new Int32Array(0);
  #tickOf = new Float64Array(0);
  readonly #heads = new Map<number, number>();
  #lastTick: number;

  constructor(resolutionMs: number, monoNow: number) {
    this.resolutionMs = resolutionMs;
    this.#lastTick = Math.floor(monoNow / resolutionMs);
  }

  get pending(): number {
    return this.#heads.size;
  }

  /** Monotonic time at which `slot` will next be looked at, or undefined. */
  scheduledAt(slot: number): number | undefined {
    const tick = slot < this.#tickOf.length ? this.#tickOf[slot]! : NOT_SCHEDULED;
    return tick === NOT_SCHEDULED ? undefined : tick * this.resolutionMs;
  }

  /** Look at `slot` again at (or just after) monotonic time `at`, replacing any earlier schedule. */
  schedule(slot: number, at: number): void {
    this.#ensureCapacity(slot + 1);
    // Never before `at`, and never in a tick already walked (it would be missed).
    const tick = Math.max(Math.ceil(at / this.resolutionMs), this.#lastTick + 1);
    if (this.#tickOf[slot] === tick) return;
    this.cancel(slot);
    const head = this.#heads.get(tick) ?? NIL;
    this.#next[slot] = head;
    this.#prev[slot] = NIL;
    if (head !== NIL) this.#prev[head] = slot;
    this.#heads.set(tick, slot);
    this.#tickOf[slot] = tick;
  }

  /** Like `schedule`, but only when that is sooner than what is already planned. */
  scheduleNoLaterThan(slot: number, at: number): void {
    const current = this.scheduledAt(slot);
    if (current === undefined || at < current) this.schedule(slot, at);
  }

  cancel(slot: number): void {
    if (slot >= this.#tickOf.length) return;
    const tick = this.#tickOf[slot]!;
    if (tick === NOT_SCHEDULED) return;
    const next = this.#next[slot]!;
    const prev = this.#prev[slot]!;
    if (prev === NIL) {
      if (next === NIL) this.#heads.delete(tick);
      else this.#heads.set(tick, next);
    } else {
      this.#next[prev] = next;
    }
    if (next !== NIL) this.#prev[next] = prev;
    this.#tickOf[slot] = NOT_SCHEDULED;
  }

  /** Unschedules and hands over, in tick order, every slot whose tick has passed by `monoNow`. */
  takeDue(monoNow: number, visit: (slot: number) => void): void {
    const nowTick = Math.floor(monoNow / this.resolutionMs);
    // After a long stall, jump over empty ticks instead of probing each one.
    for (let tick = this.#lastTick + 1; tick <= nowTick; tick++) {
      if (this.#heads.size === 0) break;
      // Mark the tick walked first: a visit that reschedules lands in a later tick.
      this.#lastTick = tick;
      let slot = this.#heads.get(tick);
      if (slot === undefined) continue;
      this.#heads.delete(tick);
      while (slot !== NIL) {
        const next: number = this.#next[slot]!;
        this.#tickOf[slot] = NOT_SCHEDULED;
        visit(slot);
        slot = next;
      }
    }
    this.#lastTick = Math.max(this.#lastTick, nowTick);
  }

  #ensureCapacity(size: number): void {
    if (size <= this.#tickOf.length) return;
    const capacity = Math.max(size, this.#tickOf.length * 2, 1024);
    const next = new Int32Array(capacity);
    next.set(this.#next);
    const prev = new Int32Array(capacity);
    prev.set(this.#prev);
    const tickOf = new Float64Array(capacity).fill(NOT_SCHEDULED);
    tickOf.set(this.#tickOf);
    this.#next = next;
    this.#prev = prev;
    this.#tickOf = tickOf;
  }
}
