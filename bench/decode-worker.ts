/**
 * Child process: what `decodeDatagram` costs per datagram for a valid plain heartbeat (the
 * baseline), the same heartbeat compressed, a zlib bomb and bytes that only look like zlib,
 * timed in the same process, alternately, best of several rounds (another process on the
 * machine can only slow a round down). Refusing a bomb must cost about what reading a valid
 * heartbeat does, or a flood of bombs would be the cheapest way to load hbd.
 */
import { deflateSync } from 'node:zlib';
import { decodeDatagram } from '../src/protocol/decode.js';
import { encodeHeartbeat } from '../src/protocol/encode.js';
import { reusableInflater } from '../src/protocol/inflate.js';
import { MAX_INFLATED_BYTES } from '../src/protocol/types.js';
import { serveParent } from './ipc.js';

export const DECODE_CASES = ['plain', 'zlib', 'bomb', 'garbage'] as const;
export type DecodeCase = (typeof DECODE_CASES)[number];

export interface DecodeReport {
  /** Best round of each case, in µs per datagram. */
  usPerDatagram: Record<DecodeCase, number>;
  /** What the decoder made of each: "ok" or the drop reason. */
  outcome: Record<DecodeCase, string>;
  /** Size of each datagram, in bytes. */
  bytes: Record<DecodeCase, number>;
  /** Whether this Node offers the reusable inflater (else hbd uses the dearer inflateSync). */
  reusableInflater: boolean;
  rounds: number;
  callsPerRound: number;
}

serveParent({
  measure(body) {
    const { rounds, calls } = body as { rounds: number; calls: number };
    return measure(rounds, calls);
  },
});

const heartbeat = {
  host: 'web1',
  ts: 1_764_080_000.123,
  seq: 42,
  every: 30,
  status: 'ok',
  msg: 'disk 71% full',
} as const;

const datagrams: Record<DecodeCase, Buffer> = {
  plain: encodeHeartbeat(heartbeat),
  zlib: encodeHeartbeat(heartbeat, { zlib: true }),
  // 8 MiB of zeros in about 8 KiB: inflates far past the 8192-byte bound.
  bomb: deflateSync(Buffer.alloc(8 << 20), { level: 9 }),
  // A valid zlib header (0x78 0x9c), then a block of a reserved type.
  garbage: Buffer.from([0x78, 0x9c, 0xff, 0xff, 0xff]),
};

function measure(rounds: number, calls: number): DecodeReport {
  const outcome = {} as Record<DecodeCase, string>;
  for (const name of DECODE_CASES) {
    const decoded = decodeDatagram(datagrams[name]);
    outcome[name] = decoded.ok ? 'ok' : decoded.reason;
  }
  let sink = 0;
  const timed = (datagram: Buffer) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) if (decodeDatagram(datagram).ok) sink++;
    return Number(process.hrtime.bigint() - start);
  };
  // One untimed round of each, so that every path is compiled before it is timed.
  for (const name of DECODE_CASES) timed(datagrams[name]);
  const bestNs = Object.fromEntries(DECODE_CASES.map((name) => [name, Number.POSITIVE_INFINITY])) as Record<
    DecodeCase,
    number
  >;
  for (let round = 0; round < rounds; round++) {
    for (const name of DECODE_CASES) bestNs[name] = Math.min(bestNs[name], timed(datagrams[name]));
  }
  if (sink < 0) throw new Error('unreachable: keeps the decoding from being optimised away');
  return {
    usPerDatagram: Object.fromEntries(
      DECODE_CASES.map((name) => [name, bestNs[name] / calls / 1000]),
    ) as Record<DecodeCase, number>,
    outcome,
    bytes: Object.fromEntries(DECODE_CASES.map((name) => [name, datagrams[name].length])) as Record<
      DecodeCase,
      number
    >,
    reusableInflater: reusableInflater(MAX_INFLATED_BYTES) !== undefined,
    rounds,
    callsPerRound: calls,
  };
}
