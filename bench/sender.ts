/** Child process: the paced UDP sender. */
import dgram from 'node:dgram';
import { BENCH_SECRET, HeartbeatStream } from './datagrams.js';
import { serveParent } from './ipc.js';
import { pacedSend } from './paced-send.js';

export type { SendReport } from './paced-send.js';

let socket: dgram.Socket | undefined;
let stream: HeartbeatStream | undefined;
let prepared: Buffer[] = [];

serveParent({
  async init(body) {
    const { port, hosts, signed, extras } = body as {
      port: number;
      hosts: number;
      signed: boolean;
      extras?: boolean;
    };
    stream = new HeartbeatStream(hosts, signed ? BENCH_SECRET : undefined, extras);
    const connected = dgram.createSocket('udp4');
    // Connected: each send skips the per-datagram address handling.
    await new Promise<void>((resolve) => connected.connect(port, '127.0.0.1', resolve));
    socket = connected;
    return {};
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
