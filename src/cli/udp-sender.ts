import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
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

/**
 * `once`: every failure is returned, and a send waits briefly for a refusal. `loop`: failures are
 * warned about, once per outage, and sending goes on.
 */
export type SendMode = 'once' | 'loop';

export interface UdpSenderOptions {
  mode: SendMode;
  warn: (message: string) => void;
  resolve?: Resolve;
  /**
   * How long an address is used before the server's name is looked up again, so a
   * sender that runs for months follows a server that moved. Default five minutes.
   */
  resolveEveryMs?: number;
  /**
   * How long a one-shot send waits for the server's machine to say that nothing listens on the
   * port (ICMP port unreachable). Default 250 ms: on a LAN it comes back in well under one.
   */
  refusalWaitMs?: number;
  /** In a loop, what the first warning of an outage adds: "still sending every 30 s". */
  keepGoing?: string;
}

/** What became of one heartbeat for one server. */
export interface Delivery {
  /** Where it went: `127.0.0.1:50003`, `[::1]:50003`; `hb.example.com:50003` if never found. */
  to: string;
  /** The server's name, when it was given as one rather than as an address. */
  name?: string;
  /** Set when it did not go, or was refused. */
  error?: Error;
}

interface Destination {
  server: Server;
  target: Target | undefined;
  /** performance.now() of the last lookup, successful or not. */
  resolvedAt: number;
  /** Connected to `target`: only a connected UDP socket hears that nothing listens there. */
  socket: ConnectedSocket | undefined;
  /** The failure warned about in a loop, until sending works again. */
  outage: string | undefined;
  /** A failed lookup warned about while the last address is still used. */
  lookupProblem: string | undefined;
  /** Whether the last heartbeat went out and nothing refused it (so far). */
  lastSendClean: boolean;
}

interface ConnectedSocket {
  socket: Socket;
  target: Target;
  connected: Promise<void>;
}

const RESOLVE_EVERY_MS = 5 * 60_000;
const REFUSAL_WAIT_MS = 250;

/**
 * Sends each datagram to every server, over one connected UDP socket per server.
 *
 * Connected, because that is how a sender learns that nothing listens: the server's machine
 * answers ICMP port unreachable, which the kernel reports on a connected socket (and only there)
 * as ECONNREFUSED at its next receive; Node emits it as the socket's 'error'.
 *
 * A server's name is looked up again every `resolveEveryMs`, and at once after a send to it
 * failed or was refused. When a lookup fails, the last address found is kept; a server never
 * found is tried again at the next send.
 */
export class UdpSender {
  readonly #destinations: Destination[];
  readonly #mode: SendMode;
  readonly #warn: (message: string) => void;
  readonly #resolve: Resolve;
  readonly #resolveEveryMs: number;
  readonly #refusalWaitMs: number;
  readonly #keepGoing: string | undefined;
  /** While a one-shot send waits for refusals: called by each. */
  #onRefusal: (() => void) | undefined;
  /** Refusals heard in this one-shot send, by destination. */
  readonly #refusals = new Map<Destination, Error>();

  constructor(servers: readonly Server[], options: UdpSenderOptions) {
    this.#destinations = servers.map((server) => ({
      server,
      target: undefined,
      resolvedAt: -Infinity,
      socket: undefined,
      outage: undefined,
      lookupProblem: undefined,
      lastSendClean: false,
    }));
    this.#mode = options.mode;
    this.#warn = options.warn;
    this.#resolve = options.resolve ?? lookup;
    this.#resolveEveryMs = options.resolveEveryMs ?? RESOLVE_EVERY_MS;
    this.#refusalWaitMs = options.refusalWaitMs ?? REFUSAL_WAIT_MS;
    this.#keepGoing = options.keepGoing;
  }

  /** Sends to every server at once; in `once` mode, then waits briefly for a refusal. */
  async send(datagram: Buffer): Promise<Delivery[]> {
    this.#refusals.clear();
    const deliveries = await Promise.all(
      this.#destinations.map((destination) => this.#sendTo(destination, datagram)),
    );
    if (this.#mode === 'loop') return deliveries;
    const sent = deliveries.filter((delivery) => delivery.error === undefined).length;
    if (sent > 0) await this.#waitForRefusals(sent);
    return deliveries.map((delivery, i) => {
      const refusal = this.#refusals.get(this.#destinations[i]!);
      return delivery.error === undefined && refusal ? { ...delivery, error: refusal } : delivery;
    });
  }

  close(): void {
    for (const destination of this.#destinations) {
      destination.socket?.socket.close();
      destination.socket = undefined;
    }
  }

  async #sendTo(destination: Destination, datagram: Buffer): Promise<Delivery> {
    const { server } = destination;
    const name = isIP(server.host) === 0 ? server.host : undefined;
    let to = `${server.host}:${server.port}`;
    try {
      const target = await this.#targetOf(destination);
      to = formatTarget(target);
      const { socket, connected } = this.#socketTo(destination, target);
      await connected;
      await new Promise<void>((resolve, reject) =>
        socket.send(datagram, (error) =>
          error
            ? reject(new Error(`cannot send to ${describeServer(server, target)}: ${error.message}`))
            : resolve(),
        ),
      );
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#failed(destination, failure.message);
      return { to, name, error: failure };
    }
    // The heartbeat before this one went out and nothing refused it: the outage is over.
    if (destination.outage !== undefined && destination.lastSendClean) {
      destination.outage = undefined;
      this.#warn(`sending to ${describeServer(server, destination.target)} works again`);
    }
    destination.lastSendClean = true;
    return { to, name };
  }

  /** A send failed or was refused: say so (once per outage in a loop), and look the name up again. */
  #failed(destination: Destination, problem: string): void {
    destination.lastSendClean = false;
    // The address may be what broke (a server that moved): look it up again next time.
    destination.resolvedAt = -Infinity;
    if (this.#mode === 'once' || destination.outage === problem) return;
    destination.outage = problem;
    this.#warn(this.#keepGoing ? `${problem}; ${this.#keepGoing}` : problem);
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
      // Said once while it lasts: with a server down too, the name is looked up at every beat.
      if (destination.lookupProblem !== problem) {
        destination.lookupProblem = problem;
        this.#warn(`${problem}; still sending to ${formatTarget(target)}`);
      }
      return target;
    }
    destination.lookupProblem = undefined;
    const next: Target = { address: found.address, port: server.port, family: found.family === 6 ? 6 : 4 };
    if (target !== undefined && next.address !== target.address) {
      this.#warn(`server "${server.host}" now resolves to ${next.address} (was ${target.address})`);
    }
    destination.target = next;
    return next;
  }

  /** The destination's socket, connected to `target`; a new one when the address changed. */
  #socketTo(destination: Destination, target: Target): ConnectedSocket {
    const current = destination.socket;
    if (current && sameTarget(current.target, target)) return current;
    current?.socket.close();
    const socket = createSocket(target.family === 4 ? 'udp4' : 'udp6');
    const connected = new Promise<void>((resolve, reject) =>
      // Node hands a failure to connect (no route to the address, say) to this callback.
      socket.connect(target.port, target.address, (error?: Error) => {
        if (!error) return resolve();
        // A socket that could not connect is of no more use; the next send makes another.
        if (destination.socket?.socket === socket) destination.socket = undefined;
        socket.close();
        reject(new Error(`cannot send to ${describeServer(destination.server, target)}: ${error.message}`));
      }),
    );
    // Without a listener an asynchronous socket error would crash the process.
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (destination.socket?.socket === socket) this.#socketError(destination, target, error);
    });
    destination.socket = { socket, target, connected };
    return destination.socket;
  }

  #socketError(destination: Destination, target: Target, error: NodeJS.ErrnoException): void {
    const to = describeServer(destination.server, target);
    const problem =
      error.code === 'ECONNREFUSED'
        ? `cannot send to ${to}: connection refused (nothing listens on that UDP port: is hbd running there?)`
        : `cannot send to ${to}: ${error.message}`;
    if (this.#mode === 'once') {
      this.#refusals.set(destination, new Error(problem));
      this.#onRefusal?.();
    }
    this.#failed(destination, problem);
  }

  /**
   * Waits `refusalWaitMs` for refusals, or until each of the `sent` heartbeats was refused. When
   * the time is up, one more turn of the event loop lets a refusal that has already arrived be
   * read first: on a busy machine the timer can be due in the very turn that would have read it.
   */
  #waitForRefusals(sent: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#onRefusal = undefined;
        resolve();
      };
      const timer = setTimeout(() => setImmediate(done), this.#refusalWaitMs);
      this.#onRefusal = () => {
        if (this.#refusals.size >= sent) done();
      };
    });
  }
}

/** `127.0.0.1:50003`, `[::1]:50003`, or for a name `192.0.2.7:50003 (hb.example.com)`. */
export function describeServer(server: Server, target: Target | undefined): string {
  if (target === undefined) return `${server.host}:${server.port}`;
  const address = formatTarget(target);
  return isIP(server.host) !== 0 ? address : `${address} (${server.host})`;
}

function formatTarget({ address, port, family }: Target): string {
  return family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

function sameTarget(a: Target, b: Target): boolean {
  return a.address === b.address && a.port === b.port && a.family === b.family;
}
