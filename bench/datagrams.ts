/** The heartbeats the benchmarks send: many distinct hosts, round-robin, as a fleet would. */
import { encodeHeartbeat, type HeartbeatInput } from '../src/protocol/encode.js';
import { hostName } from './names.js';

export const BENCH_SECRET = 'bench-secret-not-for-production';

/** `every` announced by the ingest benchmarks: long enough that no host goes late between trials. */
export const INGEST_EVERY = 300;

/**
 * An endless round-robin over `hosts` hosts. Round r carries ts = start + r ms and
 * seq = r + 1, so every datagram of a host is newer than the last (never a replay),
 * and a whole run stays far inside the 300 s skew window.
 */
export class HeartbeatStream {
  readonly #names: string[];
  readonly #secret: string | undefined;
  readonly #extras: Pick<HeartbeatInput, 'msg' | 'fields'>;
  readonly #startMs = Date.now();
  #cursor = 0;

  /** `extras`: each heartbeat also carries a msg and two fields, as a real host's often do. */
  constructor(hosts: number, secret: string | undefined, extras = false) {
    this.#names = Array.from({ length: hosts }, (_, index) => hostName(index));
    this.#secret = secret;
    this.#extras = extras ? { msg: 'load 42% ok', fields: { role: 'web', rack: 'r12' } } : {};
  }

  next(count: number): Buffer[] {
    const hosts = this.#names.length;
    const datagrams = new Array<Buffer>(count);
    for (let i = 0; i < count; i++, this.#cursor++) {
      const round = Math.floor(this.#cursor / hosts);
      datagrams[i] = encodeHeartbeat(
        {
          host: this.#names[this.#cursor % hosts]!,
          ts: (this.#startMs + round) / 1000,
          seq: round + 1,
          every: INGEST_EVERY,
          status: 'ok',
          ...this.#extras,
        },
        { secret: this.#secret },
      );
    }
    return datagrams;
  }
}
