import fs, { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bus } from '../../src/lib/bus.js';
import type { HostTiming } from '../../src/model/host.js';
import { nextExtras } from '../../src/state/host-extras.js';
import { HostTable } from '../../src/state/host-table.js';
import { BeatLog, MAX_UNWRITTEN_BYTES, readBeatLog } from '../../src/store/beat-log.js';
import { WriteBehind } from '../../src/store/write-behind.js';
import { WriteRetry } from '../../src/store/write-retry.js';
import { watchStore } from '../helpers/watched-store.js';
import { eventually, nextTurn, sqliteStore } from './helpers.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-beats-'));
  path = join(dir, 'state.sqlite.beats');
});
afterEach(() => {
  vi.restoreAllMocks();
  rmSync(dir, { recursive: true, force: true });
});

const fail = (error: unknown) => {
  throw error;
};
const timing = (name: string, lastSeen: number, extra: Partial<HostTiming> = {}): HostTiming => ({
  name,
  lastSeen,
  lastTs: null,
  lastSeq: null,
  every: null,
  received: 0,
  lost: 0,
  signed: false,
  ...extra,
});

describe('the beat log', () => {
  it('gives back the newest timing per host, from the rotated and the live file, and round-trips every column', () => {
    const log = new BeatLog(path, fail);
    log.append(
      timing('web1', 1_000, {
        lastTs: 1_764_080_000.123,
        lastSeq: 41,
        every: 30,
        received: 7,
        lost: 1,
        signed: true,
      }),
    );
    log.append(timing('web2', 1_500));
    log.rotate();
    log.append(
      timing('web1', 2_000, {
        lastTs: 1_764_080_030.5,
        lastSeq: 42,
        every: 30,
        received: 8,
        lost: 1,
        signed: true,
      }),
    );
    log.flush();
    expect(readBeatLog(path)).toEqual(
      new Map([
        [
          'web1',
          timing('web1', 2_000, {
            lastTs: 1_764_080_030.5,
            lastSeq: 42,
            every: 30,
            received: 8,
            lost: 1,
            signed: true,
          }),
        ],
        ['web2', timing('web2', 1_500)],
      ]),
    );
    log.close(false);
  });

  it('ignores a torn last line and lines it cannot read', () => {
    writeFileSync(path, '1000 - - - 0 0 0 web1\ngarbage\n2000 - - - 0 0 0 web2 extra\n3000 - - - 0 0 1 we');
    expect([...readBeatLog(path).keys()]).toEqual(['web1']);
  });

  it.each([
    ['nothing but a fragment', '17', []],
    ['a fragment after a complete line', '1000 - - - 0 0 0 web1\n17', [timing('web1', 1_000)]],
  ])('a line appended after a crash that left %s reads back whole', (_, before, kept) => {
    writeFileSync(path, before);
    const log = new BeatLog(path, fail);
    log.append(timing('web2', 1_795_645_285_901));
    log.flush();
    log.close(false);
    expect([...readBeatLog(path).values()]).toEqual([...kept, timing('web2', 1_795_645_285_901)]);
  });

  it('is empty when there is no log', () => {
    expect(readBeatLog(path).size).toBe(0);
  });

  it("a heartbeat's timing is on disk before the next event-loop turn, long before the store has it", async () => {
    const store = sqliteStore(join(dir, 'state.sqlite'));
    const table = new HostTable();
    const committer = new WriteBehind({
      store,
      table,
      bus: new Bus(),
      beatLog: new BeatLog(path, fail),
      flushIntervalMs: 60_000,
      onError: fail,
    });
    const slot = table.add('web1', 1, 1);
    committer.hostChanged(slot, true, true);
    await nextTurn();
    table.lastSeen[slot] = 5_000;
    table.lastTs[slot] = 1_764_080_000.123;
    committer.hostChanged(slot, false, false);
    await nextTurn();
    expect(readBeatLog(path).get('web1')).toMatchObject({ lastSeen: 5_000, lastTs: 1_764_080_000.123 });
    expect((await store.hosts.load())[0]).toMatchObject({ lastSeen: 1, lastTs: null });

    // Once a cycle has stored it, the log is no longer needed.
    await committer.close();
    expect((await store.hosts.load())[0]).toMatchObject({ lastSeen: 5_000, lastTs: 1_764_080_000.123 });
    expect(existsSync(path) || existsSync(`${path}.old`)).toBe(false);
  });

  it('every cycle empties the log of beats that changed content too, and a crash mid-cycle loses none of them', async () => {
    const statePath = join(dir, 'state.sqlite');
    const real = sqliteStore(statePath);
    const watched = watchStore(real);
    const errors: unknown[] = [];
    const table = new HostTable();
    const committer = new WriteBehind({
      store: watched.store,
      table,
      bus: new Bus(),
      beatLog: new BeatLog(path, fail),
      flushIntervalMs: 20,
      onError: (error) => errors.push(error),
      // Quick retries, each one reported: the test counts them.
      retry: new WriteRetry({ firstDelayMs: 10, maxDelayMs: 20, reportEveryMs: 0 }),
    });
    const slots = ['web1', 'web2', 'web3'].map((name) => table.add(name, 1, 1));
    // Like a host reporting `load=…`: no beat is routine, so none is left to the cycle's timing rows.
    const beat = (slot: number, n: number) => {
      table.lastSeen[slot] = n;
      table.lastTs[slot] = n / 1000;
      table.extras[slot] = nextExtras(table.extras[slot], { msg: `load=${n}` });
      committer.hostChanged(slot, false, true);
    };
    for (let n = 1_000; n <= 5_000; n += 1_000) {
      for (const slot of slots) beat(slot, n);
      await nextTurn();
      await eventually(() => {
        expect(readFileSync(path, 'utf8')).toBe('');
        expect(existsSync(`${path}.old`)).toBe(false);
      });
    }

    // The store fails once a cycle has rotated the log: the rotated file must outlive the
    // failure, and later cycles must not rotate over it.
    watched.failing = true;
    for (const slot of slots) beat(slot, 6_000);
    await eventually(() => expect(existsSync(`${path}.old`)).toBe(true));
    beat(slots[0]!, 7_000);
    const failures = errors.length;
    await eventually(() => expect(errors.length).toBeGreaterThan(failures + 1));
    // kill -9 here: what a restart finds, in the store and in the log, without close().
    const reopened = sqliteStore(statePath);
    expect((await reopened.hosts.load()).map((host) => [host.lastSeen, host.msg])).toEqual(
      slots.map(() => [5_000, 'load=5000']),
    );
    await reopened.close();
    expect([...readBeatLog(path).values()].map((t) => [t.name, t.lastSeen, t.lastTs])).toEqual([
      ['web1', 7_000, 7],
      ['web2', 6_000, 6],
      ['web3', 6_000, 6],
    ]);

    watched.failing = false;
    await eventually(() => expect(existsSync(`${path}.old`)).toBe(false));
    expect(
      (await real.hosts.load()).map((host) => [host.name, host.lastSeen, host.lastTs, host.msg]),
    ).toEqual([
      ['web1', 7_000, 7, 'load=7000'],
      ['web2', 6_000, 6, 'load=6000'],
      ['web3', 6_000, 6, 'load=6000'],
    ]);
    await committer.close();
  });

  it('on a full disk: reported once, retried after a delay, and holds only the newest line per host past its bound', () => {
    let clock = 0;
    const errors: unknown[] = [];
    const log = new BeatLog(path, (error) => errors.push(error), new WriteRetry({ now: () => clock }));
    const write = vi.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    const lines = Math.ceil(MAX_UNWRITTEN_BYTES / 20);
    for (let n = 0; n < lines; n++) {
      log.append(timing(`web${n % 3}`, n));
      if (n % 1000 === 0) log.flush();
    }
    log.flush();
    // Every flush but the first came before the retry was due: one attempt, one report.
    expect(write).toHaveBeenCalledTimes(1);
    expect(errors).toHaveLength(1);
    expect(log.failure).toMatchObject({ attempts: 1 });
    clock = 1_000;
    log.flush();
    expect(write).toHaveBeenCalledTimes(2);
    expect(errors).toHaveLength(1);
    write.mockRestore();
    clock = 3_000;
    log.flush();
    expect(log.failure).toBeUndefined();
    expect(readFileSync(path, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
    expect([...readBeatLog(path).values()].map((t) => t.lastSeen).sort((a, b) => a - b)).toEqual([
      lines - 3,
      lines - 2,
      lines - 1,
    ]);
    log.close(false);
  });

  it('rotation keeps what arrives during a cycle in the live file', () => {
    const log = new BeatLog(path, fail);
    log.append(timing('web1', 1));
    log.rotate();
    log.append(timing('web2', 2));
    log.flush();
    expect(readFileSync(`${path}.old`, 'utf8')).toBe('1 - - - 0 0 0 web1\n');
    expect(readFileSync(path, 'utf8')).toBe('2 - - - 0 0 0 web2\n');
    log.dropRotated();
    expect([...readBeatLog(path).keys()]).toEqual(['web2']);
    log.close(false);
    expect(existsSync(path)).toBe(true);
  });
});
