import dgram from 'node:dgram';
import { encodeHeartbeat } from '../../src/protocol/encode.js';

const SLICES = 10;

/** Where a host's heartbeats go: the UDP ports on 127.0.0.1 of the nodes it sends to. */
export type Route = (host: string) => readonly number[];

/**
 * A fleet of hosts beating every `intervalMs` from this process, unsigned from 127.0.0.1,
 * each with an increasing `seq` (the same datagram goes to every port its route names, as a
 * host sending to several nodes does). Hosts can be silenced one by one, like machines dying.
 * Like a real fleet, they do not all beat at the same instant: each tenth of the interval a
 * tenth of them does, so no socket on the way gets the whole fleet in one burst.
 */
export class FleetSender {
  readonly hosts: readonly string[];
  readonly #socket = dgram.createSocket('udp4');
  readonly #silent = new Set<string>();
  readonly #intervalMs: number;
  #route: Route;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: { count: number; prefix?: string; intervalMs: number; route: Route }) {
    const prefix = options.prefix ?? 'h';
    this.hosts = Array.from({ length: options.count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
    this.#intervalMs = options.intervalMs;
    this.#route = options.route;
  }

  /** Beats at once, then every interval, a slice at a time. */
  start(): void {
    let slice = 0;
    const tick = () => {
      if (slice === 0) this.#seq++;
      this.#beat(slice);
      slice = (slice + 1) % SLICES;
    };
    tick();
    this.#timer = setInterval(tick, this.#intervalMs / SLICES);
  }

  reroute(route: Route): void {
    this.#route = route;
  }

  silence(hosts: readonly string[]): void {
    for (const host of hosts) this.#silent.add(host);
  }

  get beating(): string[] {
    return this.hosts.filter((host) => !this.#silent.has(host));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #beat(slice: number): void {
    const seq = this.#seq;
    const every = this.#intervalMs / 1000;
    for (let i = slice; i < this.hosts.length; i += SLICES) {
      const host = this.hosts[i]!;
      if (this.#silent.has(host)) continue;
      const datagram = encodeHeartbeat({ host, seq, every });
      for (const port of this.#route(host)) this.#socket.send(datagram, port, '127.0.0.1');
    }
  }
}
