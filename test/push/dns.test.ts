import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { dnsLookupOf, dnsPublishSettingsOf } from '../../src/daemon/dns-settings.js';
import { pushOptionsOf } from '../../src/daemon/push-settings.js';
import { DnsPublisher } from '../../src/dns/publisher.js';
import type { UpdateRequest } from '../../src/dns/update-types.js';
import { PushPings, SUCCESS } from '../../src/push/ping.js';
import { HostView } from '../../src/state/host-view.js';
import { parse } from '../config/helpers.js';
import { monitorHarness } from '../helpers/monitor-harness.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';

/** The most permissive DNS settings: unsigned heartbeats and private addresses are published. */
async function setup() {
  const { config } = parse([
    'dyndomains: [dyn.example]',
    'dns: {allow_unsigned: true, allow_private: true}',
    `push: {backup: {token: ${UUID}}}`,
    'push_ping_key: fqOOd6-F4MMNuCEnzTU01w',
  ]);
  const { clock, bus, table, monitor } = monitorHarness();
  const hosts = new HostView(table, monitor);
  const pings = new PushPings({ hosts, monitor, options: pushOptionsOf(config) });
  const updates: UpdateRequest[] = [];
  const dns = new DnsPublisher({
    settings: dnsPublishSettingsOf(config),
    updater: {
      method: 'rfc2136',
      update: async (request) => {
        updates.push(request);
      },
    },
    store: { load: async () => [], save: async () => {} },
    bus,
    clock,
    log: pino({ level: 'silent' }),
    recordEvent: () => {},
    // As the daemon wires it: the publisher's one rule for hosts that report over HTTP decides.
    lookup: dnsLookupOf(hosts, (host) => pings.isPushHost(host)),
  });
  await dns.start();
  return { monitor, pings, dns, updates };
}

describe('a ping never moves DNS records', () => {
  it('even where unsigned heartbeats are published, and for a host that has records', async () => {
    const { monitor, pings, dns, updates } = await setup();
    monitor.beat({ host: 'web1', status: 'ok', fields: {}, compressed: false }, '192.0.2.7', false);
    await vi.waitFor(() => expect(updates).toHaveLength(1));
    expect(updates[0]?.changes).toEqual([
      { name: 'web1.dyn.example', type: 'A', address: '192.0.2.7', ttl: 60 },
    ]);

    // web1 needs no signature, so the ping key reaches it; the ping comes from elsewhere.
    expect(pings.lookUpSlug('web1', false)).toEqual({ found: true, host: 'web1' });
    pings.apply({
      protocol: 'healthchecks',
      host: 'web1',
      signal: SUCCESS,
      msg: undefined,
      addr: '198.51.100.9',
      runId: undefined,
    });
    pings.apply({
      protocol: 'healthchecks',
      host: 'backup',
      signal: SUCCESS,
      msg: undefined,
      addr: '198.51.100.9',
      runId: undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(updates).toHaveLength(1);
    expect(dns.status('backup')).toBeUndefined();
    // A sync re-sends what the table holds, which is the ping's address now: not for push hosts.
    expect(dns.sync('backup')).toBe(0);
    await dns.close();
  });
});
