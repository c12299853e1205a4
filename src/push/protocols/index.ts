import type { PushProtocol } from '../protocol.js';
import { consul } from './consul.js';
import { healthchecks } from './healthchecks.js';
import { uptimeKuma } from './uptime-kuma.js';

/**
 * Every push protocol hbd serves, in the order their routes are mounted. To add one: a file
 * beside this one that calls `definePushProtocol`, a line here, and a test against the real
 * HTTP app (see docs/push.md, "How to add a push protocol").
 */
export const PUSH_PROTOCOLS: readonly PushProtocol[] = [
  uptimeKuma,
  consul,
  // Last: its one route takes every GET and POST, and passes on what is not a ping.
  healthchecks,
];

/** Whether a path belongs to a push protocol: open without an API token, and never repeated in a 404. */
export function isPushPath(path: string, protocols: readonly PushProtocol[] = PUSH_PROTOCOLS): boolean {
  return protocols.some((protocol) => protocol.prefixes.some((prefix) => path.startsWith(prefix)));
}
