import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { dnsPublishSettingsOf } from '../../src/daemon/dns-settings.js';
import { DnsPublisher } from '../../src/dns/publisher.js';
import type { RecordChange } from '../../src/dns/update-types.js';
import { Bus } from '../../src/lib/bus.js';
import type { Logger } from '../../src/lib/log.js';
import type { PublishedRecords } from '../../src/model/dns.js';
import type { HostEvent } from '../../src/model/events.js';
import type { DnsStore } from '../../src/store/store.js';
import { parse } from '../config/helpers.js';
import { ManualClock } from '../helpers/manual-clock.js';

interface Sent {
  zone: string;
  changes: readonly RecordChange[];
  resolve: () => void;
}

/** A publisher whose DNS server answers only when the test says so: `sent` holds every update still open. */
async function setup({
  dyndomains = '[dyn.example]',
  dns: dnsConfig = '{allow_unsigned: true}',
  log = pino({ level: 'silent' }) as Logger,
  store = { load: async () => [], save: async () => {} } as DnsStore,
} = {}) {
  const { config } = parse([`dyndomains: ${dyndomains}`, `dns: ${dnsConfig}`]);
  const bus = new Bus();
  const clock = new ManualClock();
  const sent: Sent[] = [];
  const dns = new DnsPublisher({
    settings: dnsPublishSettingsOf(config),
    updater: {
      method: 'rfc2136',
      update: (request) =>
        new Promise<void>((resolve) => {
          sent.push({ zone: request.zone, changes: request.changes, resolve });
        }),
    },
    store,
    bus,
    clock,
    log,
    recordEvent: () => {},
    lookup: () => undefined,
  });
  await dns.start();
  const beat = (host: string, addr: string, ip6: string | null = null) =>
    bus.emit('heartbeat', {
      host,
      at: clock.wall(),
      status: 'ok',
      msg: null,
      fields: {},
      addr,
      ip4: null,
      ip6,
      signed: false,
      seq: null,
    });
  const goesDown = (host: string) => bus.emit('event', stateEvent(host, clock.wall()));
  /** Lets the server answer the oldest open update, and the queue take note of it. */
  const answer = async () => {
    sent.shift()?.resolve();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { dns, sent, beat, goesDown, answer };
}

function stateEvent(host: string, at: number): HostEvent {
  return { id: 0, at, host, kind: 'state', from: 'up', to: 'down', reason: 'no heartbeat' };
}

const A = (address: string | null) => ({ type: 'A', address });

describe('DnsPublisher: the newest address always wins', () => {
  it('a move and a move back while the move is in flight ends at the address moved back to', async () => {
    const { dns, sent, beat, answer } = await setup();
    beat('web1', '198.51.100.7');
    await answer();
    expect(dns.status('web1')?.published.A).toBe('198.51.100.7');

    beat('web1', '198.51.100.9');
    expect(sent[0]?.changes).toEqual([expect.objectContaining(A('198.51.100.9'))]);
    beat('web1', '198.51.100.7');
    beat('web1', '198.51.100.7');
    await answer();
    expect(sent.map((update) => update.changes)).toEqual([[expect.objectContaining(A('198.51.100.7'))]]);
    await answer();

    expect(dns.status('web1')).toMatchObject({ published: { A: '198.51.100.7' }, pending: false });
    expect(sent).toHaveLength(0);
  });

  it('a heartbeat that repeats the address already on its way sends nothing more', async () => {
    const { sent, beat, answer } = await setup();
    beat('web1', '198.51.100.7');
    await answer();
    beat('web1', '198.51.100.9');
    beat('web1', '198.51.100.9');
    await answer();
    beat('web1', '198.51.100.9');
    expect(sent).toHaveLength(0);
  });

  it('a move back of one family keeps the other family that is still queued', async () => {
    const { dns, beat, answer } = await setup();
    beat('web1', '198.51.100.7', '2001:db8::7');
    await answer();
    // web2's update keeps the zone busy, so web1's move waits in the queue rather than in flight.
    beat('web2', '198.51.100.20');
    beat('web1', '198.51.100.9', '2001:db8::9');
    beat('web1', '198.51.100.7');
    await answer();
    await answer();
    expect(dns.status('web1')?.published).toEqual({ A: '198.51.100.7', AAAA: '2001:db8::9' });
  });

  it('with on_down: delete, a host that comes back while its delete is in flight ends with its records', async () => {
    const { dns, sent, beat, goesDown, answer } = await setup({
      dns: '{allow_unsigned: true, on_down: delete}',
    });
    beat('web1', '198.51.100.7');
    await answer();

    goesDown('web1');
    expect(sent[0]?.changes).toEqual([expect.objectContaining(A(null))]);
    beat('web1', '198.51.100.7');
    await answer();
    await answer();

    expect(dns.status('web1')).toMatchObject({ published: { A: '198.51.100.7' }, pending: false });
  });

  it('with on_down: delete, a host that goes down while its first address is in flight ends with none', async () => {
    const { dns, sent, beat, goesDown, answer } = await setup({
      dns: '{allow_unsigned: true, on_down: delete}',
    });
    beat('web1', '198.51.100.7');
    goesDown('web1');
    await answer();
    expect(sent[0]?.changes).toEqual([expect.objectContaining(A(null))]);
    await answer();

    expect(dns.status('web1')).toMatchObject({ published: { A: null }, pending: false });
  });
});

describe('DnsPublisher: dyndomains written as absolute names', () => {
  it('publishes full and bare host names inside a dyndomain written with a trailing dot', async () => {
    const { sent, beat, answer } = await setup({
      dyndomains: '[Dyn.Example.]',
      dns: '{allow_unsigned: true, zone: example.}',
    });
    beat('web1.dyn.example', '198.51.100.7');
    expect(sent[0]).toMatchObject({
      zone: 'example',
      changes: [{ name: 'web1.dyn.example', ...A('198.51.100.7') }],
    });
    await answer();
    beat('web2', '198.51.100.8');
    expect(sent[0]).toMatchObject({
      zone: 'example',
      changes: [{ name: 'web2.dyn.example', ...A('198.51.100.8') }],
    });
  });

  it('says at debug level, once, why a host outside the dyndomains is not published', async () => {
    const debug = vi.fn();
    const log = { debug, info: vi.fn(), warn: vi.fn(), error: vi.fn() } as unknown as Logger;
    const { sent, beat } = await setup({ log });
    beat('web1.elsewhere.example', '198.51.100.7');
    beat('web1.elsewhere.example', '198.51.100.7');
    expect(sent).toHaveLength(0);
    expect(debug).toHaveBeenCalledOnce();
    expect(debug.mock.calls[0]?.[1]).toMatch(/web1\.elsewhere\.example.*outside the dyndomains/);
  });
});

describe('DnsPublisher: what was published is kept in the store', () => {
  it('reads it at start, so a restart re-sends nothing that is fresh', async () => {
    const kept: PublishedRecords = {
      host: 'web1',
      name: 'web1.dyn.example',
      A: '198.51.100.7',
      AAAA: null,
      // An hour ago: fresher than `refresh` (a day).
      lastSuccess: Date.UTC(2026, 10, 25, 11, 0, 0),
      lastError: null,
      lastErrorAt: null,
    };
    const { dns, sent, beat } = await setup({ store: { load: async () => [kept], save: async () => {} } });
    expect(dns.status('web1')?.published.A).toBe('198.51.100.7');
    beat('web1', '198.51.100.7');
    expect(sent).toHaveLength(0);
  });

  it('keeps publishing when the store refuses a save, logs it, and saves it again with the next one', async () => {
    const error = vi.fn();
    const log = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error } as unknown as Logger;
    const saved: PublishedRecords[] = [];
    let failing = true;
    const store: DnsStore = {
      load: async () => [],
      save: async (records) => {
        if (failing) throw new Error('disk full');
        saved.push(records);
      },
    };
    const { dns, sent, beat, answer } = await setup({ log, store });
    beat('web1', '198.51.100.7');
    await answer();
    await vi.waitFor(() => expect(error).toHaveBeenCalledOnce());
    expect(error.mock.calls[0]?.[1]).toMatch(/cannot store what was published in DNS; will retry/);
    expect(dns.status('web1')?.published.A).toBe('198.51.100.7');

    failing = false;
    beat('web2', '198.51.100.8');
    expect(sent).toHaveLength(1);
    await answer();
    await vi.waitFor(() => expect(saved.map((records) => records.host).sort()).toEqual(['web1', 'web2']));
    expect(saved.find((records) => records.host === 'web1')?.A).toBe('198.51.100.7');
    await dns.close();
  });
});
