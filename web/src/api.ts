// The shapes hbd's API and /ws feed send (docs/api.md). Types come from the server's own
// modules where those import nothing of Node (types only, so no server code is bundled);
// the others are spelled out here, since their modules pull in the daemon.
import type { SilenceJson } from '../../src/http/silence-json.js';
import type { uptimeJson } from '../../src/http/uptime-json.js';
import type { HostEventKind, HostState } from '../../src/model/events.js';
import type { Status } from '../../src/protocol/types.js';

export type { HostState, SilenceJson, Status };

export interface DnsStatusJson {
  name: string;
  published: { A: string | null; AAAA: string | null };
  last_success: string | null;
  last_error: string | null;
  pending: boolean;
}

export interface HostJson {
  name: string;
  state: HostState;
  status: Status;
  msg: string | null;
  fields: Record<string, string>;
  addr: string;
  publish: { ip4: string | null; ip6: string | null };
  signed: boolean;
  first_seen: string;
  last_seen: string;
  interval: number;
  grace: number;
  every: number | null;
  seq: number | null;
  received: number;
  lost: number;
  loss: number | null;
  dns: DnsStatusJson | null;
  /** A job's run that started (`/start`) and has not finished; null when none is open. */
  run: RunJson | null;
}

export interface RunJson {
  started: string;
  /** The id the job gave it (`?rid=`), if any. */
  id: string | null;
  /** When the host is down unless the run finishes first: its start + the host's grace. */
  deadline: string;
}

/** One of a host's last HTTP pings (`GET /api/hosts/{name}/pings`), newest first. */
export interface PingJson {
  at: string;
  protocol: string;
  kind: 'success' | 'warn' | 'fail' | 'start' | 'log';
  exit_code: number | null;
  body: string | null;
  addr: string;
  rid: string | null;
}

export interface EventJson {
  id: number;
  at: string;
  host: string;
  kind: HostEventKind;
  from: string | null;
  to: string | null;
  reason: string;
}

export interface HeartbeatFrame {
  type: 'heartbeat';
  host: string;
  at: string;
  status: Status;
  msg: string | null;
  fields: Record<string, string>;
  addr: string;
  signed: boolean;
  seq: number | null;
}

export type FeedFrame =
  /** One of the frames of a snapshot: the fleet is the hosts of all of them, up to the one with `done`. */
  | { type: 'snapshot'; at: string; done: boolean; hosts: HostJson[] }
  | HeartbeatFrame
  | ({ type: 'event' } & EventJson);

export interface BeatJson {
  at: string;
  gap_ms: number | null;
  lost: number;
}

export type UptimeJson = ReturnType<typeof uptimeJson>;

export interface OutboxMessageJson {
  id: number;
  channel: string;
  state: 'pending' | 'sent' | 'failed' | 'merged';
  kind: string;
  title: string;
  body: string;
  hosts: string[];
  created: string;
  attempts: number;
  next_attempt: string | null;
  deadline: string;
  last_error: string | null;
  done: string | null;
}

/** One node as `GET /api/cluster` lists it. */
export interface ClusterNodeJson {
  name: string;
  /** As the node itself last reported it (about a second ago). */
  role: 'leader' | 'follower';
  /** Down once it has not reported for a whole lease. */
  state: 'up' | 'down';
  last_seen: string;
  /** The p99 of how long heartbeats heard by the other nodes took to reach it; null before any. */
  lag_ms: number | null;
  api: string;
  version: string;
  started_at: string;
}

/** `GET /api/cluster`: answered by a cluster node only (404 on a single node). */
export interface ClusterJson {
  /** The node that answered: the one this page is looking at. */
  node: string;
  role: 'leader' | 'follower';
  /** The node holding the leader lease at this node's last claim; null when none does. */
  leader: string | null;
  lease_s: number;
  nodes: ClusterNodeJson[];
  propagation: { p50_ms: number | null; p99_ms: number | null; samples: number };
}

export interface SessionJson {
  user: string | null;
  role: 'viewer' | 'admin' | null;
  csrf: string | null;
  read_access: 'public' | 'login';
  /** Whether any user is configured to log in as. */
  logins: boolean;
}

/** An answer that was not 2xx, with hbd's `{"error": …}` text when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Told of every 401 on a read, so the page can ask to log in. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(callback: () => void): void {
  onUnauthorized = callback;
}

export async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  if (response.status === 401) onUnauthorized();
  return parsed<T>(response);
}

export async function sendJson<T>(
  method: 'POST' | 'DELETE',
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { accept: 'application/json', 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return parsed<T>(response);
}

async function parsed<T>(response: Response): Promise<T> {
  const text = await response.text();
  let value: unknown;
  try {
    value = text === '' ? null : JSON.parse(text);
  } catch {
    value = null;
  }
  if (!response.ok) {
    const error = (value as { error?: unknown } | null)?.error;
    throw new ApiError(
      response.status,
      typeof error === 'string' ? error : `HTTP ${response.status} ${response.statusText}`.trim(),
    );
  }
  return value as T;
}
