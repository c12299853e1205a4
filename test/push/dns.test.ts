import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DnsPublisher } from '../../src/dns/publisher.js';
import type { UpdateRequest } from '../../src/dns/update-types.js';
import { PushPings, SUCCESS } from '../../src/push/ping.js';
import type { Store } from '../../src/store/store.js';
import { parse } from '../config/helpers.js';
import { eventually } from '../helpers/daemon.js';
import { monitorHarness } from '../helpers/monitor-harness.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';

/** The most permissive DNS settings: unsigned heartbeats and private addresses are published. */
function setup() {
  const { config } = parse([
    'dyndomains: [dyn.example]',
    'dns: {allow_unsigned: true, allow_private: true}',
    `push: {backup: {token: ${UUID}}}`,
    'push_ping_key: fqOOd6-F4MMNuCEnzTU01w',
  ]);
  const { clock, bus, table, monitor } = monitorHarness();
  const pings = new PushPings({ monitor, config });
  const updates: UpdateRequest[] = [];
  const store = { loadPublished: () => [], savePublished: () => {} } as unknown as Store;
  const dns = new DnsPublisher({
    config,
    updater: {
      method: 'rfc2136',
      update: async (request) => {
        updates.push(request);
      },
    },
    store,
    bus,
    clock,
    log: pino({ level: 'silent' }),
    recordEvent: () => {},
    lookup: (host) => {
      const slot = table.find(host);
      if (slot < 0 || pings.isPushHost(host)) return undefined;
      const record = table.record(slot);
      return { host, addr: record.addr, ip4: record.ip4, ip6: record.ip6, signed: record.signed };
    },
  });
  return { monitor, pings, dns, updates };
}

describe('a ping never moves DNS records', () => {
  it('even where unsigned heartbeats are published, and for a host that has records', async () => {
    const { monitor, pings, dns, updates } = setup();
    monitor.beat({ host: 'web1', status: 'ok', fields: {}, compressed: false }, '192.0.2.7', false);
    await eventually(() => expect(updates).toHaveLength(1));
    expect(updates[0]?.changes).toEqual([
      { name: 'web1.dyn.example', type: 'A', address: '192.0.2.7', ttl: 60 },
    ]);

    // web1 needs no signature, so the ping key reaches it; the ping comes from elsewhere.
    expect(pings.lookUpSlug('web1', false)).toEqual({ found: true, host: 'web1' });
    pings.apply({ host: 'web1', signal: SUCCESS, msg: undefined, addr: '198.51.100.9', runId: undefined });
    pings.apply({ host: 'backup', signal: SUCCESS, msg: undefined, addr: '198.51.100.9', runId: undefined });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(updates).toHaveLength(1);
    expect(dns.status('backup')).toBeUndefined();
    // A sync re-sends what the table holds, which is the ping's address now: not for push hosts.
    expect(dns.sync('backup')).toBe(0);
    dns.close();
  });
});
