/** Child process: the baseline receiver, a bare Node `dgram` socket that only counts datagrams. */
import dgram from 'node:dgram';
import { serveParent } from './ipc.js';
import { startProbe } from './probe.js';

let received = 0;
const probe = startProbe();

serveParent({
  async start(body) {
    const { receiveBufferSize } = body as { receiveBufferSize: number };
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: receiveBufferSize });
    socket.on('message', () => {
      received++;
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    // Linux reports twice what it set (its bookkeeping share); halve it to compare with the request.
    return { port: socket.address().port, grantedBufferSize: socket.getRecvBufferSize() / 2 };
  },
  counters() {
    return { received };
  },
  probe,
});
