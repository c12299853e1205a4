import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PublishedRecords } from '../../src/model/dns.js';
import type { HostEvent } from '../../src/model/events.js';
import type { SessionRecord } from '../../src/model/session.js';
import type { EventLimits, Store, StoreParts } from '../../src/store/store.js';
import { eventually } from '../helpers/eventually.js';
import { hostRecord } from '../helpers/host-record.js';
import type { ContractContext, StoreHarness } from './contract/context.js';
import { outboxContract } from './contract/outbox.js';
import { pingRecord, pingsContract } from './contract/pings.js';
import { silencesContract } from './contract/silences.js';

export type { StoreHarness } from './contract/context.js';

const UNLIMITED: EventLimits = { maxEvents: Number.MAX_SAFE_INTEGER, perHost: Number.MAX_SAFE_INTEGER };

/**
 * The contract every store driver passes (in the spirit of unstorage's driver suite): one
 * `describe` per sub-store, plus transactions and what survives closing and reopening. A
 * driver's test calls this with a harness that gives each test a fresh place for its data,
 * and adds what only that driver has (its files, its migrations) beside it.
 */
export function testStore(name: string, makeHarness: () => StoreHarness | Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: Store | undefined;
    const warnings: string[] = [];
    const t: ContractContext = {
      get store() {
        if (!store) throw new Error('the store is not open');
        return store;
      },
      async reopen() {
        await store?.close();
        store = undefined;
        store = await open();
      },
      limits: UNLIMITED,
      warnings,
    };
    const open = () =>
      harness.open({
        pickfile: ':memory:',
        // Read at every append, as the daemon's is: a test changes `t.limits` to see a reload.
        eventLimits: () => t.limits,
        warn: (message) => warnings.push(message),
      });

    beforeEach(async () => {
      warnings.length = 0;
      t.limits = UNLIMITED;
      harness = await makeHarness();
      store = await open();
    });
    afterEach(async () => {
      await store?.close();
      store = undefined;
      await harness.destroy();
    });

    transactionContract(t);
    hostsContract(t);
    eventsContract(t);
    dnsContract(t);
    outboxContract(t);
    silencesContract(t);
    sessionsContract(t);
    pingsContract(t);
    durabilityContract(t);
  });
}

const event = (host: string, at: number, to = 'up'): Omit<HostEvent, 'id'> => ({
  at,
  host,
  kind: 'state',
  from: null,
  to,
  reason: 'test',
});

const records = (host: string, at: number): PublishedRecords => ({
  host,
  name: `${host}.dyn.example`,
  A: '192.0.2.7',
  AAAA: null,
  lastSuccess: at,
  lastError: null,
  lastErrorAt: null,
});

const session = (key: string, user = 'alice', at = 1_000): SessionRecord => ({
  key,
  user,
  role: 'admin',
  csrf: `csrf-${key}`,
  credential: `credential-of-${user}`,
  created: at,
  lastSeen: at,
});

/** Writes one thing to every sub-store, through `tx`. */
async function writeEverywhere(tx: StoreParts, tag: string): Promise<void> {
  await tx.hosts.write({ deletes: [], upserts: [hostRecord(`h-${tag}`)], timings: [] });
  const [stored] = await tx.events.append([event(`h-${tag}`, 1)]);
  await tx.dns.save(records(`h-${tag}`, 1));
  await tx.outbox.addTriggers([
    {
      eventId: stored!.id,
      at: 1,
      host: `h-${tag}`,
      kind: 'down',
      detail: {
        from: 'up',
        to: 'down',
        reason: 'silent',
        status: 'ok',
        msg: null,
        addr: '192.0.2.7',
        group: '',
        previousFor: null,
      },
    },
  ]);
  await tx.outbox.decide({
    consumed: [],
    messages: [
      {
        channel: 'webhook',
        notification: {
          dedupKey: tag,
          kind: 'down',
          title: tag,
          body: tag,
          hosts: [],
          at: 1,
          resolves: false,
        },
        createdAt: 1,
        deadlineAt: 2,
      },
    ],
    notified: [{ host: `h-${tag}`, downAt: 1, status: null, remindedAt: null }],
  });
  await tx.silences.add({ pattern: `h-${tag}`, until: 10_000, reason: null, createdAt: 1 });
  await tx.sessions.add(session(`key-${tag}`));
  await tx.pings.add([pingRecord(`h-${tag}`, 1)]);
}

/** What `writeEverywhere` left, per sub-store. */
async function everything(store: Store) {
  return {
    hosts: (await store.hosts.load()).map((h) => h.name),
    events: (await store.events.list({ limit: 100 })).map((e) => e.host),
    dns: (await store.dns.load()).map((r) => r.host),
    triggers: (await store.outbox.pendingTriggers()).map((tr) => tr.host),
    messages: (await store.outbox.pendingMessages()).map((m) => m.notification.dedupKey),
    announced: (await store.outbox.announcedHosts()).map((a) => a.host),
    silences: (await store.silences.active(0)).map((s) => s.pattern),
    sessions: (await store.sessions.list()).map((s) => s.key),
    // Pings are read by host: those of every host this file's transactions write.
    pings: (await Promise.all(TAGS.map((tag) => store.pings.recent(`h-${tag}`)))).flat().map((p) => p.host),
  };
}

const TAGS = ['a', 'b', 'kept', 'lost', 'late'];

const NOTHING = {
  hosts: [],
  events: [],
  dns: [],
  triggers: [],
  messages: [],
  announced: [],
  silences: [],
  sessions: [],
  pings: [],
};

function transactionContract(t: ContractContext): void {
  describe('transactions', () => {
    it('store everything written through them, in every sub-store, and return what the work returned', async () => {
      expect(await t.store.transaction(async (tx) => writeEverywhere(tx, 'a').then(() => 42))).toBe(42);
      expect(await everything(t.store)).toEqual({
        hosts: ['h-a'],
        events: ['h-a'],
        dns: ['h-a'],
        triggers: ['h-a'],
        messages: ['a'],
        announced: ['h-a'],
        silences: ['h-a'],
        sessions: ['key-a'],
        pings: ['h-a'],
      });
    });

    it('are all or nothing: a throw inside rolls back what every sub-store wrote, and is what the caller gets', async () => {
      await expect(
        t.store.transaction(async (tx) => {
          await writeEverywhere(tx, 'a');
          throw new Error('outbox full');
        }),
      ).rejects.toThrow('outbox full');
      expect(await everything(t.store)).toEqual(NOTHING);
      // The store goes on as before: the next transaction commits.
      await t.store.transaction((tx) => writeEverywhere(tx, 'b'));
      expect((await everything(t.store)).sessions).toEqual(['key-b']);
    });

    it('do not interleave: what another caller does meanwhile waits until the open one ends', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const order: string[] = [];
      const first = t.store.transaction(async (tx) => {
        await tx.silences.add({ pattern: 'one', until: 10_000, reason: null, createdAt: 1 });
        order.push('first wrote one');
        await gate;
        await tx.silences.add({ pattern: 'two', until: 10_000, reason: null, createdAt: 1 });
        order.push('first wrote two');
        throw new Error('changed its mind');
      });
      const second = t.store.transaction(async (tx) => {
        order.push('second began');
        return (await tx.silences.active(0)).map((s) => s.pattern);
      });
      // A call outside any transaction is one of its own, and waits its turn too.
      const alone = t.store.silences.active(0).then((found) => {
        order.push('read alone');
        return found.map((s) => s.pattern);
      });
      await eventually(() => expect(order).toContain('first wrote one'), 10_000);
      // What must not happen cannot be waited for: the others get a moment to jump the queue.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(order).toEqual(['first wrote one']);
      release();
      await expect(first).rejects.toThrow('changed its mind');
      // Neither saw the rolled-back writes, nor half of them.
      expect(await second).toEqual([]);
      expect(await alone).toEqual([]);
      expect(order).toEqual(['first wrote one', 'first wrote two', 'second began', 'read alone']);
    });

    it('run in the order they were asked for, each seeing all of the one before', async () => {
      const seen = await Promise.all(
        [1, 2, 3, 4, 5].map((n) =>
          t.store.transaction(async (tx) => {
            const before = (await tx.events.list({ limit: 100 })).length;
            await new Promise((resolve) => setTimeout(resolve, 1));
            await tx.events.append([event('a', n), event('b', n)]);
            return before;
          }),
        ),
      );
      expect(seen).toEqual([0, 2, 4, 6, 8]);
    });

    it('refuse to be used once they ended', async () => {
      let kept: StoreParts | undefined;
      await t.store.transaction(async (tx) => {
        kept = tx;
      });
      await expect(kept!.silences.active(0)).rejects.toThrow();
    });
  });
}

function hostsContract(t: ContractContext): void {
  describe('hosts', () => {
    it('keeps hosts exactly as written, in the order they first appeared, across a reopen', async () => {
      const full = hostRecord('web1', {
        state: 'late',
        status: 'fail',
        msg: 'disk "full"\n',
        fields: { rack: 'r7', load: '0.42' },
        ip4: '198.51.100.4',
        ip6: '2001:db8::4',
        signed: true,
        lastTs: 1_764_080_000.123,
        every: 30,
        lastSeq: 2 ** 40,
        received: 10,
        lost: 2,
      });
      await t.store.hosts.write({
        deletes: [],
        upserts: [full, hostRecord('web2'), hostRecord('db1')],
        timings: [],
      });
      await t.store.hosts.write({ deletes: ['web2'], upserts: [{ ...full, lastSeen: 3_000 }], timings: [] });
      const { name, lastSeen, lastTs, lastSeq, every, received, lost, signed } = {
        ...full,
        lastSeen: 4_000,
        received: 11,
      };
      await t.store.hosts.write({
        deletes: [],
        upserts: [],
        timings: [{ name, lastSeen, lastTs, lastSeq, every, received, lost, signed }],
      });
      await t.reopen();
      expect(await t.store.hosts.load()).toEqual([
        { ...full, lastSeen: 4_000, received: 11 },
        hostRecord('db1'),
      ]);
    });

    it('deletes before it writes, so a host forgotten and back in one write is stored anew', async () => {
      await t.store.hosts.write({ deletes: [], upserts: [hostRecord('web1', { msg: 'old' })], timings: [] });
      await t.store.hosts.write({
        deletes: ['web1'],
        upserts: [hostRecord('web1', { msg: 'new' })],
        timings: [],
      });
      expect((await t.store.hosts.load()).map((h) => h.msg)).toEqual(['new']);
    });

    it('ignores timing for a host it does not have', async () => {
      const { name, lastSeen, lastTs, lastSeq, every, received, lost, signed } = hostRecord('ghost');
      await t.store.hosts.write({
        deletes: [],
        upserts: [],
        timings: [{ name, lastSeen, lastTs, lastSeq, every, received, lost, signed }],
      });
      expect(await t.store.hosts.load()).toEqual([]);
    });
  });
}

function eventsContract(t: ContractContext): void {
  describe('events', () => {
    it('numbers events in order and lists them newest first, by host, time and id', async () => {
      const stored = await t.store.events.append([event('a', 1), event('b', 2), event('a', 3)]);
      expect(stored.map((e) => e.id)).toEqual([1, 2, 3]);
      expect(stored[0]).toEqual({ ...event('a', 1), id: 1 });
      const ids = async (query: Parameters<Store['events']['list']>[0]) =>
        (await t.store.events.list(query)).map((e) => e.id);
      expect(await ids({ limit: 10 })).toEqual([3, 2, 1]);
      expect((await t.store.events.list({ host: 'a', limit: 10 })).map((e) => e.at)).toEqual([3, 1]);
      expect(await ids({ since: 2, limit: 10 })).toEqual([3, 2]);
      expect(await ids({ afterId: 2, limit: 10 })).toEqual([3]);
      expect(await ids({ limit: 1 })).toEqual([3]);
    });

    it('ids keep increasing across appends and transactions, also after a reopen', async () => {
      const first = await t.store.events.append([event('a', 1)]);
      const second = await t.store.transaction((tx) => tx.events.append([event('a', 2), event('b', 2)]));
      await t.reopen();
      const third = await t.store.events.append([event('a', 3)]);
      const ids = [...first, ...second, ...third].map((e) => e.id);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      expect(new Set(ids).size).toBe(4);
    });

    it('prunes events by age and by count, and never reuses an id', async () => {
      await t.store.events.append([1, 2, 3, 4, 5].map((at) => event('a', at)));
      expect(await t.store.events.prune({ olderThan: 2, maxEvents: 1000 })).toBe(1);
      expect(await t.store.events.prune({ olderThan: 0, maxEvents: 2 })).toBe(2);
      expect((await t.store.events.list({ limit: 10 })).map((e) => e.id)).toEqual([5, 4]);
      await t.store.events.prune({ olderThan: 10, maxEvents: 1000 });
      expect((await t.store.events.append([event('a', 11)]))[0]?.id).toBe(6);
    });

    it('keeps events within their limits as they are written: per host, then the oldest of all', async () => {
      t.limits = { maxEvents: 10, perHost: 4 };
      const write = (host: string, count: number) =>
        t.store.events.append(Array.from({ length: count }, (_, i) => event(host, i)));
      await write('quiet', 2);
      await write('flood', 50);
      const hosts = async () => (await t.store.events.list({ limit: 100 })).map((e) => e.host);
      expect((await hosts()).filter((h) => h === 'flood')).toHaveLength(4);
      expect((await hosts()).filter((h) => h === 'quiet')).toHaveLength(2);
      for (const host of ['a', 'b', 'c']) await write(host, 3);
      // 2 + 4 + 9 = 15 written: the 5 oldest go, the quiet host's two among them.
      expect(await hosts()).toHaveLength(10);
      expect(await hosts()).not.toContain('quiet');
      // A limit lowered by a reload is reached by the next appends.
      t.limits = { maxEvents: 3, perHost: 4 };
      await write('d', 1);
      expect(await hosts()).toHaveLength(3);
      // The counts come back after a reopen.
      await t.reopen();
      await write('e', 1);
      expect(await hosts()).toEqual(['e', 'd', 'c']);
    });

    it('a host keeps its bound over several appends in one transaction, and after a prune in it', async () => {
      t.limits = { maxEvents: 100, perHost: 3 };
      await t.store.transaction(async (tx) => {
        await tx.events.append([event('a', 1), event('a', 2)]);
        await tx.events.append([event('a', 3), event('a', 4)]);
        await tx.events.prune({ olderThan: 2, maxEvents: 100 });
        await tx.events.append([event('a', 5), event('a', 6)]);
      });
      expect((await t.store.events.list({ limit: 10 })).map((e) => e.at)).toEqual([6, 5, 4]);
    });

    it('a rolled-back append leaves the event counts as they were', async () => {
      t.limits = { maxEvents: 100, perHost: 2 };
      for (let i = 0; i < 3; i++) {
        await expect(
          t.store.transaction(async (tx) => {
            await tx.events.append([event('a', i)]);
            throw new Error('no');
          }),
        ).rejects.toThrow('no');
      }
      await t.store.events.append([event('a', 10), event('a', 11)]);
      expect((await t.store.events.list({ limit: 10 })).map((e) => e.at)).toEqual([11, 10]);
    });

    it('finds the previous state change of a host, going late and back being none', async () => {
      const stored = await t.store.events.append([
        { ...event('web1', 1), from: null, to: 'up' },
        { ...event('web1', 2), from: 'up', to: 'late' },
        { ...event('web1', 3), from: 'late', to: 'up' },
        { ...event('web1', 4), from: 'up', to: 'down' },
      ]);
      expect(await t.store.events.previousStateChange('web1', stored[3]!.id)).toBe(1);
      expect(await t.store.events.previousStateChange('web1', stored[0]!.id)).toBeUndefined();
    });
  });
}

function dnsContract(t: ContractContext): void {
  describe('dns records', () => {
    it('keeps the last records saved per host, exactly, across a reopen', async () => {
      await t.store.dns.save(records('web1', 1));
      await t.store.dns.save(records('db1', 2));
      const failed: PublishedRecords = {
        ...records('web1', 1),
        A: null,
        AAAA: '2001:db8::7',
        lastError: 'REFUSED',
        lastErrorAt: 3.5,
      };
      await t.store.dns.save(failed);
      await t.reopen();
      const loaded = await t.store.dns.load();
      expect([...loaded].sort((a, b) => a.host.localeCompare(b.host))).toEqual([records('db1', 2), failed]);
    });
  });
}

function sessionsContract(t: ContractContext): void {
  describe('sessions', () => {
    it('keeps sessions exactly, in login order, found by key', async () => {
      await t.store.sessions.add(session('k1', 'alice', 1_000));
      await t.store.sessions.add(session('k0', 'bob', 2_000));
      await t.store.sessions.add(session('k2', 'alice', 3_000));
      expect((await t.store.sessions.list()).map((s) => s.key)).toEqual(['k1', 'k0', 'k2']);
      expect(await t.store.sessions.get('k0')).toEqual(session('k0', 'bob', 2_000));
      expect(await t.store.sessions.get('nope')).toBeUndefined();
    });

    it('marks use, and removes sessions saying how many there were', async () => {
      await t.store.sessions.add(session('k1'));
      await t.store.sessions.add(session('k2'));
      await t.store.sessions.touch('k1', 5_000.5);
      expect((await t.store.sessions.get('k1'))?.lastSeen).toBe(5_000.5);
      expect((await t.store.sessions.get('k1'))?.created).toBe(1_000);
      expect(await t.store.sessions.remove(['k1', 'missing'])).toBe(1);
      expect(await t.store.sessions.remove([])).toBe(0);
      expect((await t.store.sessions.list()).map((s) => s.key)).toEqual(['k2']);
    });

    it('keeps sessions across a reopen: a restart logs nobody out', async () => {
      await t.store.sessions.add(session('k1'));
      await t.store.sessions.touch('k1', 9_000);
      await t.reopen();
      expect(await t.store.sessions.list()).toEqual([{ ...session('k1'), lastSeen: 9_000 }]);
    });
  });
}

function durabilityContract(t: ContractContext): void {
  describe('close and reopen', () => {
    it('keeps what committed transactions wrote, and nothing of those that rolled back', async () => {
      await t.store.transaction((tx) => writeEverywhere(tx, 'kept'));
      await expect(
        t.store.transaction(async (tx) => {
          await writeEverywhere(tx, 'lost');
          throw new Error('crash');
        }),
      ).rejects.toThrow('crash');
      const before = await everything(t.store);
      await t.reopen();
      expect(await everything(t.store)).toEqual(before);
      expect(before.sessions).toEqual(['key-kept']);
    });

    it('close waits for what was asked before it', async () => {
      const writing = t.store.transaction(async (tx) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await writeEverywhere(tx, 'late');
      });
      await t.reopen();
      await writing;
      expect((await everything(t.store)).sessions).toEqual(['key-late']);
    });
  });
}
