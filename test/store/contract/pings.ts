import { describe, expect, it } from 'vitest';
import { PINGS_KEPT, type PingRecord } from '../../../src/store/ping-store.js';
import { hostRecord } from '../../helpers/host-record.js';
import type { ContractContext } from './context.js';

const T = Date.UTC(2026, 10, 25, 2, 0, 4);

export const pingRecord = (host: string, at: number, extra: Partial<PingRecord> = {}): PingRecord => ({
  host,
  at,
  protocol: 'healthchecks',
  kind: 'success',
  exitCode: null,
  body: null,
  addr: '192.0.2.9',
  runId: null,
  ...extra,
});

/** The last pings of each host: a bounded ring, kept across a restart, gone with its host. */
export function pingsContract(t: ContractContext): void {
  describe('pings', () => {
    it('keeps pings exactly, newest first, per host, across a reopen', async () => {
      const failed = pingRecord('backup', T + 2, {
        protocol: 'healthchecks',
        kind: 'fail',
        exitCode: 3,
        body: 'tar: short read\n“ünïcode” kept',
        runId: '3b1d9a52-8c1e-4f0a-9d7e-2a6c5b4e3f10',
      });
      const started = pingRecord('backup', T + 1.5, { kind: 'start', addr: '2001:db8::9' });
      await t.store.pings.add([started, failed]);
      await t.store.pings.add([pingRecord('kuma-job', T, { protocol: 'uptime-kuma', body: 'OK' })]);
      await t.reopen();
      expect(await t.store.pings.recent('backup')).toEqual([failed, started]);
      expect(await t.store.pings.recent('kuma-job')).toEqual([
        pingRecord('kuma-job', T, { protocol: 'uptime-kuma', body: 'OK' }),
      ]);
      expect(await t.store.pings.recent('nobody')).toEqual([]);
    });

    it(`keeps the newest ${PINGS_KEPT} of a host, however many come, in one call or many`, async () => {
      const many = Array.from({ length: 25 }, (_, i) => pingRecord('loop', T + i, { body: `ping ${i}` }));
      await t.store.pings.add(many.slice(0, 13));
      for (const ping of many.slice(13)) await t.store.pings.add([ping]);
      await t.store.pings.add([pingRecord('quiet', T)]);
      const kept = await t.store.pings.recent('loop');
      expect(kept.map((ping) => ping.body)).toEqual(
        Array.from({ length: PINGS_KEPT }, (_, i) => `ping ${24 - i}`),
      );
      // One host's loop never pushes out another host's pings.
      expect(await t.store.pings.recent('quiet')).toHaveLength(1);
      await t.reopen();
      await t.store.pings.add([pingRecord('loop', T + 100, { body: 'after the restart' })]);
      expect((await t.store.pings.recent('loop')).map((ping) => ping.body).slice(0, 2)).toEqual([
        'after the restart',
        'ping 24',
      ]);
      expect(await t.store.pings.recent('loop')).toHaveLength(PINGS_KEPT);
    });

    it('keeps pings added in a transaction only when it commits', async () => {
      await expect(
        t.store.transaction(async (tx) => {
          await tx.pings.add([pingRecord('backup', T)]);
          throw new Error('changed its mind');
        }),
      ).rejects.toThrow('changed its mind');
      expect(await t.store.pings.recent('backup')).toEqual([]);
      await t.store.transaction((tx) => tx.pings.add([pingRecord('backup', T + 1)]));
      expect(await t.store.pings.recent('backup')).toEqual([pingRecord('backup', T + 1)]);
    });

    it("drops a forgotten host's pings with it, so a host back by that name starts afresh", async () => {
      await t.store.hosts.write({
        deletes: [],
        upserts: [hostRecord('backup'), hostRecord('db1')],
        timings: [],
      });
      await t.store.pings.add([pingRecord('backup', T), pingRecord('db1', T)]);
      await t.store.hosts.write({ deletes: ['backup'], upserts: [], timings: [] });
      expect(await t.store.pings.recent('backup')).toEqual([]);
      expect(await t.store.pings.recent('db1')).toHaveLength(1);
      await t.store.pings.add([pingRecord('backup', T + 5)]);
      expect(await t.store.pings.recent('backup')).toEqual([pingRecord('backup', T + 5)]);
    });
  });
}
