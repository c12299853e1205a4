import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { errorMessage } from '../lib/error-message.js';

export interface Server {
  host: string;
  port: number;
}

export interface Target {
  address: string;
  port: number;
  family: 4 | 6;
}

/** Looks a server's name up; `node:dns`'s `lookup` (getaddrinfo, so /etc/hosts counts) by default. */
export type Resolve = (host: string) => Promise<{ address: string; family: number }>;

export interface UdpSenderOptions {
  warn: (message: string) => void;
  resolve?: Resolve;
  /**
   * How long an address is used before the server's name is looked up again, so a
   * sender that runs for months follows a server that moved. Default five minutes.
   */
  resolveEveryMs?: number;
}

interface Destination {
  server: Server;
  target: Target | undefined;
  /** performance.now() of the last lookup, successful or not. */
  resolvedAt: number;
}

const RESOLVE_EVERY_MS = 5 * 60_000;

/**
 * Sends each datagram to every server, over one UDP socket per address family.
 *
 * A server's name is looked up again every `resolveEveryMs`, and at once after a send
 * to it failed. When a lookup fails, the last address found is kept; a server never
 * found is tried again at the next send.
 */
export class UdpSender {
  readonly #destinations: Destination[];
  readonly #sockets = new Map<4 | 6, Socket>();
  readonly #warn: (message: string) => void;
  readonly #resolve: Resolve;
  readonly #resolveEveryMs: number;

  constructor(servers: readonly Server[], options: UdpSenderOptions) {
    this.#destinations = servers.map((server) => ({ server, target: undefined, resolvedAt: -Infinity }));
    this.#warn = options.warn;
    this.#resolve = options.resolve ?? lookup;
    this.#resolveEveryMs = options.resolveEveryMs ?? RESOLVE_EVERY_MS;
  }

  /** `failHard`: throw on the first failure (one-shot) rather than warn and carry on (loop). */
  async send(datagram: Buffer, { failHard }: { failHard: boolean }): Promise<void> {
    await Promise.all(
      this.#destinations.map(async (destination) => {
        try {
          await this.#sendTo(datagram, await this.#targetOf(destination));
        } catch (error) {
          // The address may be what broke (a server that moved): look it up again next time.
          destination.resolvedAt = -Infinity;
          if (failHard) throw error;
          this.#warn(errorMessage(error));
        }
      }),
    );
  }

  close(): void {
    for (const socket of this.#sockets.values()) socket.close();
    this.#sockets.clear();
  }

  async #targetOf(destination: Destination): Promise<Target> {
    const { server, target } = destination;
    if (target !== undefined && performance.now() - destination.resolvedAt < this.#resolveEveryMs) {
      return target;
    }
    destination.resolvedAt = performance.now();
    let found: { address: string; family: number };
    try {
      found = await this.#resolve(server.host);
    } catch (error) {
      const problem = `cannot resolve server "${server.host}": ${errorMessage(error)}`;
      if (target === undefined) throw new Error(problem);
      this.#warn(`${problem}; still sending to ${formatTarget(target)}`);
      return target;
    }
    const next: Target = { address: found.address, port: server.port, family: found.family === 6 ? 6 : 4 };
    if (target !== undefined && next.address !== target.address) {
      this.#warn(`server "${server.host}" now resolves to ${next.address} (was ${target.address})`);
    }
    destination.target = next;
    return next;
  }

  #sendTo(datagram: Buffer, target: Target): Promise<void> {
    const socket = this.#socketFor(target.family);
    return new Promise((resolve, reject) => {
      socket.send(datagram, target.port, target.address, (error) =>
        error ? reject(new Error(`cannot send to ${formatTarget(target)}: ${error.message}`)) : resolve(),
      );
    });
  }

  #socketFor(family: 4 | 6): Socket {
    let socket = this.#sockets.get(family);
    if (!socket) {
      socket = createSocket(family === 4 ? 'udp4' : 'udp6');
      // Without a listener an asynchronous socket error would crash the process.
      socket.on('error', (error) => this.#warn(`UDP socket: ${error.message}`));
      this.#sockets.set(family, socket);
    }
    return socket;
  }
}

function formatTarget({ address, port, family }: Target): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}
