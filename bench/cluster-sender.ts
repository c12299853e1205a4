/**
 * Child process: the paced sender of the cluster bench, for one node's share of the fleet.
 * It answers the same requests as sender.ts (init, prepare, send), but sends hosts
 * `first`…`first + hosts - 1` only, so that the senders of a split fleet never share a host.
 */
import dgram from 'node:dgram';
import { encodeHeartbeat } from '../src/protocol/encode.js';
import { BENCH_SECRET, INGEST_EVERY } from './datagrams.js';
import { serveParent } from './ipc.js';
import { hostName } from './names.js';
import { pacedSend } from './paced-send.js';

/**
 * Round-robin over a share of the fleet. Each round's `ts` is the time it was prepared (or
 * 1 ms after the last round's, whichever is later) and `seq` counts rounds: every datagram
 * of a host is newer than its last, and `ts` stays within `max_skew` however long the bench runs.
 */
class FleetShare {
  readonly #names: string[];
  readonly #secret: string | undefined;
  #cursor = 0;
  #roundTs = 0;

  constructor(first: number, hosts: number, secret: string | undefined) {
    this.#names = Array.from({ length: hosts }, (_, index) => hostName(first + index));
    this.#secret = secret;
  }

  next(count: number): Buffer[] {
    const hosts = this.#names.length;
    const now = Date.now();
    const datagrams = new Array<Buffer>(count);
    for (let i = 0; i < count; i++, this.#cursor++) {
      const index = this.#cursor % hosts;
      if (index === 0 || this.#roundTs === 0) this.#roundTs = Math.max(now, this.#roundTs + 1);
      datagrams[i] = encodeHeartbeat(
        {
          host: this.#names[index]!,
          ts: this.#roundTs / 1000,
          seq: Math.floor(this.#cursor / hosts) + 1,
          every: INGEST_EVERY,
          status: 'ok',
        },
        { secret: this.#secret },
      );
    }
    return datagrams;
  }
}

let socket: dgram.Socket | undefined;
let stream: FleetShare | undefined;
let prepared: Buffer[] = [];

serveParent({
  async init(body) {
    const { port, first, hosts, signed } = body as {
      port: number;
      first: number;
      hosts: number;
      signed: boolean;
    };
    stream = new FleetShare(first, hosts, signed ? BENCH_SECRET : undefined);
    const connected = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => connected.connect(port, '127.0.0.1', resolve));
    socket = connected;
    return { pid: process.pid };
  },
  prepare(body) {
    const { count } = body as { count: number };
    if (!stream) throw new Error('init first');
    prepared = stream.next(count);
    return {};
  },
  send(body) {
    const { rate } = body as { rate: number };
    if (!socket || prepared.length === 0) throw new Error('init and prepare first');
    const datagrams = prepared;
    prepared = [];
    return pacedSend(socket, datagrams, rate);
  },
});
