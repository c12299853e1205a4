/**
 * Child process: deadline bookkeeping per heartbeat with 1,000,000 hosts in the wheel,
 * against a plain `Map.get` on a 1M-entry map of host names (what a heartbeat pays
 * anyway to find its host), both in heartbeat order, timed in the same process,
 * alternately, best of several runs.
 */
import { DeadlineWheel } from '../src/state/deadline-wheel.js';
import { serveParent } from './ipc.js';
import { hostName } from './names.js';

export interface WheelReport {
  wheelNsPerBeat: number;
  mapGetNsPerBeat: number;
  beatsPerRun: number;
  sweepsPerRun: number;
}

const RESOLUTION_MS = 100;
const PERIOD_MS = 60_000;
/** Hosts beat every 60 s and are expected within 90 s, so a heartbeat's deadline lies ahead of the scheduled one. */
const INTERVAL_MS = 90_000;
const GRACE_MS = 30_000;
/**
 * Every this many heartbeats (a different host each round), one announces a much
 * shorter interval: its deadline moves earlier than the scheduled one (the non-lazy path).
 */
const EARLIER_EVERY = 100;
const SHORT_INTERVAL_MS = 20_000;

serveParent({
  measure(body) {
    const { hosts, runs } = body as { hosts: number; runs: number };
    return measure(hosts, runs);
  },
});

/**
 * Each host beats every 60 s at its own random phase, and the heartbeats are applied in
 * time order with a sweep every 100 ms of simulated time, as in the daemon: a heartbeat
 * pushes the deadline later (lazy: nothing moves), the sweep finds the old deadline not
 * yet due and reschedules it. One run is 60 simulated seconds: every host beats once,
 * and the cost of the sweeps is shared out over the heartbeats.
 */
function measure(hosts: number, runs: number): WheelReport {
  const random = mulberry32(20_251_125);
  const phases = Float64Array.from({ length: hosts }, () => random() * PERIOD_MS);
  // Slots in the order they beat: random, as a fleet's slots are in arrival order.
  const order = Uint32Array.from({ length: hosts }, (_, slot) => slot).sort(
    (a, b) => phases[a]! - phases[b]!,
  );
  const beatAt = Float64Array.from(order, (slot) => phases[slot]!);

  const wheel = new DeadlineWheel(RESOLUTION_MS, 0);
  const interval = new Float64Array(hosts).fill(INTERVAL_MS);
  const lastBeat = new Float64Array(hosts);
  // Deadlines at random times within the first 60 s (each host's first heartbeat is due then).
  for (let slot = 0; slot < hosts; slot++) {
    lastBeat[slot] = phases[slot]! - INTERVAL_MS;
    wheel.schedule(slot, phases[slot]!);
  }

  let now = 0;
  // What Monitor#checkDeadline does to the wheel (the state changes are not the wheel's cost).
  const visit = (slot: number) => {
    const lateAt = lastBeat[slot]! + interval[slot]!;
    if (now < lateAt) wheel.schedule(slot, lateAt);
    else if (now < lateAt + GRACE_MS) wheel.schedule(slot, lateAt + GRACE_MS);
  };
  let sweeps = 0;
  let round = 0;
  const runWheel = () => {
    const roundStart = round * PERIOD_MS;
    const earlier = round++ % EARLIER_EVERY;
    let next = 0;
    for (let stepEnd = RESOLUTION_MS; stepEnd <= PERIOD_MS; stepEnd += RESOLUTION_MS) {
      for (; next < hosts && beatAt[next]! < stepEnd; next++) {
        const slot = order[next]!;
        now = roundStart + beatAt[next]!;
        interval[slot] = next % EARLIER_EVERY === earlier ? SHORT_INTERVAL_MS : INTERVAL_MS;
        lastBeat[slot] = now;
        wheel.scheduleNoLaterThan(slot, now + interval[slot]!);
      }
      now = roundStart + stepEnd;
      wheel.takeDue(now, visit);
      sweeps++;
    }
  };

  // Flat strings, and a distinct copy to look up with: the decoder hands hbd a new string per datagram.
  const flat = (text: string) => Buffer.from(text, 'latin1').toString('latin1');
  const map = new Map(Array.from({ length: hosts }, (_, slot) => [flat(hostName(slot)), slot]));
  const lookups = Array.from({ length: hosts }, (_, slot) => flat(hostName(slot)));
  let checksum = 0;
  const runMapGet = () => {
    for (let next = 0; next < hosts; next++) checksum += map.get(lookups[order[next]!]!)!;
  };

  // One untimed run each, so both are compiled and every deadline follows its host's phase.
  runWheel();
  runMapGet();
  let wheelMs = Number.POSITIVE_INFINITY;
  let mapMs = Number.POSITIVE_INFINITY;
  for (let run = 0; run < runs; run++) {
    wheelMs = Math.min(wheelMs, timed(runWheel));
    mapMs = Math.min(mapMs, timed(runMapGet));
  }
  if (checksum < 0) throw new Error('unreachable: keeps the Map reads from being optimised away');
  return {
    wheelNsPerBeat: (wheelMs * 1e6) / hosts,
    mapGetNsPerBeat: (mapMs * 1e6) / hosts,
    beatsPerRun: hosts,
    sweepsPerRun: sweeps / (runs + 1),
  };
}

function timed(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

/** A small seeded PRNG, so that every run schedules the same deadlines. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
