import dgram from 'node:dgram';

/**
 * A UDP load balancer in front of the nodes of a cluster, as an operator would run one: each
 * host's datagrams go to one live node (by a hash of its name, so a host stays with its node),
 * and a node marked down (what the balancer's health check would do) gets none.
 */
export class UdpBalancer {
  readonly #socket = dgram.createSocket('udp4');
  readonly #out = dgram.createSocket('udp4');
  readonly #backends: number[];
  readonly #down = new Set<number>();
  port = 0;

  constructor(backends: readonly number[]) {
    this.#backends = [...backends];
  }

  async start(): Promise<void> {
    this.#socket.on('message', (datagram) => {
      const host = /(?:^|\s)host=(\S+)/.exec(datagram.toString('latin1'))?.[1] ?? '';
      const port = this.routeOf(host);
      if (port !== undefined) this.#out.send(datagram, port, '127.0.0.1');
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    this.port = this.#socket.address().port;
  }

  /** The node port a host's heartbeats go to now, if any node is up. */
  routeOf(host: string): number | undefined {
    const live = this.#backends.filter((port) => !this.#down.has(port));
    return live.length === 0 ? undefined : live[hashOf(host) % live.length];
  }

  markDown(port: number): void {
    this.#down.add(port);
  }

  markUp(port: number): void {
    this.#down.delete(port);
  }

  async close(): Promise<void> {
    await Promise.all(
      [this.#socket, this.#out].map(
        (socket) => new Promise<void>((resolve) => socket.close(() => resolve())),
      ),
    );
  }
}

function hashOf(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  return hash;
}
