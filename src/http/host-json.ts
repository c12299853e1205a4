import type { DnsStatus } from '../dns/publisher.js';
import { publishAddresses } from '../state/addresses.js';
import type { HostDetail, HostView } from '../state/host-view.js';
import type { Run } from '../state/monitor.js';
import type { HostSource } from './host-pieces.js';

/** A host as the read model gives it, with the job's run that started and has not finished, if any. */
export type HostWithRun = HostDetail & { run?: Run | undefined };

/** The API's (and the WebSocket's) view of a host. Times are RFC 3339. */
export function hostJson(host: HostWithRun, dnsStatus?: (host: string) => DnsStatus | undefined) {
  const withSeq = host.received + host.lost;
  return {
    name: host.name,
    state: host.state,
    status: host.status,
    msg: host.msg,
    fields: host.fields,
    addr: host.addr,
    publish: publishAddresses(host),
    signed: host.signed,
    first_seen: rfc3339(host.firstSeen),
    last_seen: rfc3339(host.lastSeen),
    interval: host.interval,
    grace: host.grace,
    every: host.every,
    seq: host.lastSeq,
    received: host.received,
    lost: host.lost,
    loss: withSeq === 0 ? null : Math.round((host.lost / withSeq) * 10_000) / 10_000,
    dns: dnsStatus?.(host.name) ?? null,
    run: host.run === undefined ? null : runJson(host.run),
  };
}

/**
 * A run a job started (`/start`) and has not finished: when it started, the id it gave, and when
 * the host is down unless the run finishes first (its start + the host's grace).
 */
function runJson(run: Run) {
  return {
    started: rfc3339(run.startedAt),
    id: run.id ?? null,
    deadline: rfc3339(run.startedAt + run.graceSeconds * 1000),
  };
}

export type HostJson = ReturnType<typeof hostJson>;

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The hosts the API and the live feed list, read one at a time by name (see `hostPieces`). */
export function hostSource(
  hosts: HostView,
  dnsStatus: ((host: string) => DnsStatus | undefined) | undefined,
  onHostError: (name: string, error: unknown) => void,
): HostSource {
  return {
    json(name) {
      const host = hosts.detail(name);
      return host && hostJson(host, dnsStatus);
    },
    onHostError,
  };
}
