/**
 * Child process (run with --expose-gc): heap cost per host of hbd's state, in a fresh
 * heap per variant so that one variant's garbage or JIT state cannot leak into another.
 */
import { Bus } from '../src/lib/bus.js';
import { systemClock } from '../src/lib/clock.js';
import { decodeDatagram } from '../src/protocol/decode.js';
import { encodeHeartbeat } from '../src/protocol/encode.js';
import type { Heartbeat } from '../src/protocol/types.js';
import { DeadlineWheel } from '../src/state/deadline-wheel.js';
import { HostTable } from '../src/state/host-table.js';
import { type ChangeSink, Monitor } from '../src/state/monitor.js';
import { serveParent, sleep } from './ipc.js';
import { hostName, sourceAddress } from './names.js';

/** `map`: the baseline, only a Map from (a flat copy of) each host name to a number. */
export type MemoryVariant = 'map' | 'plain' | 'extras';

export interface MemoryReport {
  /** Heap plus ArrayBuffer backing stores (the host table's typed columns live outside the JS heap). */
  bytesPerHost: number;
  heapBytesPerHost: number;
  arrayBufferBytesPerHost: number;
}

const noSink: ChangeSink = { hostChanged() {}, hostForgotten() {}, recordEvent() {} };

serveParent({
  measure(body) {
    const { variant, hosts } = body as { variant: MemoryVariant; hosts: number };
    return measure(variant, hosts);
  },
});

async function measure(variant: MemoryVariant, hosts: number): Promise<MemoryReport> {
  const table = new HostTable();
  const monitor = new Monitor({
    table,
    wheel: new DeadlineWheel(100, systemClock.mono()),
    clock: systemClock,
    sink: noSink,
    bus: new Bus(),
    timing: { interval: 60, grace: 30, overrideFor: () => ({}) },
  });
  const names = new Map<string, number>();
  const datagramOf = datagramMaker(variant === 'extras');

  const before = await settledMemory();
  for (let index = 0; index < hosts; index++) {
    // Through the real decoder, so strings are kept in whatever form the daemon would keep them.
    const hb = decode(datagramOf(index));
    // The baseline keeps a flat copy: the decoder's name may be a slice that pins the whole datagram text.
    if (variant === 'map') names.set(Buffer.from(hb.host, 'latin1').toString('latin1'), index);
    else monitor.beat(hb, sourceAddress(index), false);
  }
  const after = await settledMemory();

  const kept = variant === 'map' ? names.size : table.size;
  if (kept !== hosts) throw new Error(`expected ${hosts} hosts, have ${kept}`);
  const heap = (after.heapUsed - before.heapUsed) / hosts;
  const arrayBuffers = (after.arrayBuffers - before.arrayBuffers) / hosts;
  return { bytesPerHost: heap + arrayBuffers, heapBytesPerHost: heap, arrayBufferBytesPerHost: arrayBuffers };
}

/**
 * The real encoder's datagram for host 0. Host i's differs only in the six digits of its
 * name, patched in: encoding a million heartbeats would take most of the bench's time.
 */
function datagramMaker(withExtras: boolean): (index: number) => Buffer {
  const input = { host: hostName(0), ts: Date.now() / 1000, seq: 1, every: 60, status: 'ok' as const };
  const template = withExtras
    ? encodeHeartbeat({ ...input, msg: 'load 42% ok', fields: { role: 'web', rack: 'r12' } })
    : encodeHeartbeat(input);
  const digitsAt = template.indexOf(hostName(0)) + 1;
  return (index) => {
    const datagram = Buffer.from(template);
    datagram.write(String(index).padStart(6, '0'), digitsAt, 'latin1');
    return datagram;
  };
}

function decode(datagram: Buffer): Heartbeat {
  const decoded = decodeDatagram(datagram);
  if (!decoded.ok) throw new Error(`the decoder rejects a bench heartbeat: ${decoded.detail}`);
  return decoded.value;
}

/** Full collections, with pauses so that freed ArrayBuffer backing stores are really released. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  const gc = globalThis.gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage();
}
