/**
 * Time as hbd needs it: wall time for what people read (last seen, event times),
 * monotonic time for deadlines, so that a clock step (NTP, suspend, a typo in `date`)
 * never declares the whole fleet down at once.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  wall(): number;
  /** Milliseconds on a clock that never jumps. */
  mono(): number;
}

export const systemClock: Clock = {
  wall: () => Date.now(),
  mono: () => performance.now(),
};
