import type { HostRecord } from '../../src/model/host.js';

/** A host as the table holds it: up, ok, nothing said, never signed; `overrides` for the rest. */
export function hostRecord(name: string, overrides: Partial<HostRecord> = {}): HostRecord {
  return {
    name,
    state: 'up',
    status: 'ok',
    msg: null,
    fields: {},
    addr: '192.0.2.7',
    ip4: null,
    ip6: null,
    signed: false,
    firstSeen: 1_000,
    lastSeen: 2_000,
    lastTs: null,
    every: null,
    lastSeq: null,
    received: 0,
    lost: 0,
    ...overrides,
  };
}
