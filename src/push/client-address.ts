import { isIPv4 } from 'node:net';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';

/**
 * The address the request came from, as the socket has it. Headers such as X-Forwarded-For are
 * ignored: any client can write them.
 */
export function clientAddress(c: Context): string {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  return socketAddress(incoming?.socket.remoteAddress);
}

export function socketAddress(remoteAddress: string | undefined): string {
  const address = remoteAddress ?? '';
  // A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d; heartbeats report them plainly.
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}
