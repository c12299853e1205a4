import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type Access, refuseUpgrade } from '../http/access.js';
import { HttpError } from '../http/errors.js';
import { SnapshotBudget } from '../http/snapshot-budget.js';
import type { LiveFeed } from './live-feed.js';

export interface FeedUpgradeDeps {
  feed: LiveFeed;
  access: Access;
  budget: SnapshotBudget;
  /** Hosts known: what a snapshot costs depends on it. */
  fleetSize: () => number;
  /** Read on every request, so that a reload applies at once. */
  snapshotsPerMinute: () => number;
  /** A failure nobody expected: logged with its stack; the connection is dropped, hbd carries on. */
  onUnexpectedError: (error: unknown) => void;
}

export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * The HTTP server's `upgrade` handler: `/ws` becomes the live feed, once the client may read
 * it, there is room, and its address has a snapshot left in its budget; anything else is
 * answered and closed. A throw here would be a throw in Node's HTTP parser, which ends the
 * process, so nothing leaves this function.
 */
export function feedUpgradeHandler(deps: FeedUpgradeDeps): UpgradeHandler {
  return (request, socket, head) => {
    upgrade(deps, request, socket, head).catch((error: unknown) => {
      deps.onUnexpectedError(error);
      socket.destroy();
    });
  };
}

async function upgrade(
  deps: FeedUpgradeDeps,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const path = (request.url ?? '').split('?')[0];
  if (path !== '/ws') {
    socket.destroy();
    return;
  }
  const refusal =
    (await deps.access.upgradeRefusalOf(request)) ??
    (deps.feed.full ? new HttpError(503, 'too many live feed clients; try again later') : undefined);
  if (refusal) {
    refuseUpgrade(socket, refusal);
    return;
  }
  const fleet = deps.fleetSize();
  const waitS = deps.budget.take(
    request.socket.remoteAddress ?? 'unknown',
    SnapshotBudget.cost(fleet, fleet),
  );
  if (waitS > 0) {
    refuseWithRetry(
      socket,
      `too many live feed connections from this address (at most ${deps.snapshotsPerMinute()} snapshots a minute); try again in ${waitS} s`,
      waitS,
    );
    return;
  }
  deps.feed.handleUpgrade(
    request,
    socket,
    head,
    async () => (await deps.access.upgradeRefusalOf(request)) === undefined,
  );
}

/** A 429 with Retry-After, then the connection is closed. */
function refuseWithRetry(socket: Duplex, message: string, retryAfterS: number): void {
  const body = JSON.stringify({ error: message });
  socket.on('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 429 ${STATUS_CODES[429]}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Retry-After: ${retryAfterS}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
