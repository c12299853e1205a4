/**
 * The shape of a push protocol: a form of HTTP ping that some monitoring service's clients send
 * (Healthchecks.io, Uptime Kuma, Consul TTL checks). Each lives in one file under ./protocols/ that
 * calls `definePushProtocol`, and the list in ./protocols/index.ts is the only place it is
 * registered: the HTTP app mounts its routes, access control opens its paths, the not-found answer
 * never repeats them, and the ping fast path asks it first.
 */

import type { Context, Next } from 'hono';
import type { PushPings } from './ping.js';

export interface PushRoute {
  /** The methods it answers (`GET` answers `HEAD` too), or `all`. */
  readonly methods: readonly [string, ...string[]] | 'all';
  /** A hono path pattern. Keep parameters off the root: they would slow every route hbd has. */
  readonly path: string;
  /**
   * Finds the host (by token, ping key or name, through `pings`), reads the signal and message,
   * applies the ping and answers as the service does. Calls `next` only for a path that turned
   * out not to be a ping, to leave it to the rest of hbd.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: what hono's `next()` resolves to, passed on as hono's own handlers do.
  handle(c: Context, pings: PushPings, next: Next): Response | Promise<Response | void>;
}

/** An answer written straight to node:http. */
export interface FastAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: string;
}

export interface PushProtocol {
  /**
   * A short lower-case name: the `protocol` label of `hbd_pings_total` and of each kept ping
   * (`healthchecks`, `uptime-kuma`, `consul`). Pings carry it to `PushPings`.
   */
  readonly id: string;
  /** For docs and logs: the service whose clients it serves. */
  readonly name: string;
  /**
   * Path prefixes that are the protocol's alone. They need no API token or session (the token
   * in the request is the credential), and hbd's own 404 never repeats such a path, which may
   * hold a token.
   */
  readonly prefixes: readonly string[];
  /** Mounted in order, before hbd's own routes. */
  readonly routes: readonly PushRoute[];
  /**
   * The protocol's most frequent request, answered without building the framework's Request and
   * Response (about a third of its cost); undefined leaves the request to the routes, which must
   * answer it the same way. `addr` is the client's address.
   */
  fastPath?(method: string, url: string, pings: PushPings, addr: () => string): FastAnswer | undefined;
}

/**
 * A push URL may end in one slash (`/ping/{uuid}/`, `/api/push/{token}/`): it means the same as
 * without, since clients and the people who write their URLs add one freely.
 */
export function withoutTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** Declares a push protocol; add it to the list in ./protocols/index.ts. */
export function definePushProtocol(protocol: PushProtocol): PushProtocol {
  return protocol;
}
