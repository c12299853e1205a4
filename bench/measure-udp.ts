/** Measurement 1, the baseline: how fast a bare Node `dgram` receiver takes datagrams on this machine now. */
import { BenchChild } from './ipc.js';
import type { ReceiverProbe } from './probe.js';
import { type Receiver, runTrial, type SearchOutcome, searchSustainedRate } from './rate-search.js';
import { INGEST_HOSTS, RECEIVE_BUFFER_BYTES } from './settings.js';

export interface UdpBaseline {
  search: SearchOutcome;
  grantedBufferSize: number;
}

export async function measureUdpBaseline(log: (line: string) => void): Promise<UdpBaseline> {
  const children: BenchChild[] = [];
  try {
    const sink = await BenchChild.start('udp-sink', new URL('./udp-sink.js', import.meta.url));
    children.push(sink);
    const sender = await BenchChild.start('sender', new URL('./sender.js', import.meta.url));
    children.push(sender);
    const { port, grantedBufferSize } = await sink.request<{ port: number; grantedBufferSize: number }>(
      'start',
      {
        receiveBufferSize: RECEIVE_BUFFER_BYTES,
      },
    );
    log(`  SO_RCVBUF: asked ${RECEIVE_BUFFER_BYTES} bytes, kernel granted ${grantedBufferSize}`);
    // The same datagrams hbd gets unsigned, so that only the receiving side differs.
    await sender.request('init', { port, hosts: INGEST_HOSTS, signed: false });
    const receiver: Receiver = {
      count: async () => (await sink.request<{ received: number }>('counters')).received,
      probe: () => sink.request<ReceiverProbe>('probe'),
    };
    const search = await searchSustainedRate((rate) => runTrial(sender, receiver, rate), log);
    return { search, grantedBufferSize };
  } finally {
    for (const child of children) child.kill();
  }
}
