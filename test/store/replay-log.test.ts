import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/bus.js';
import { Committer } from '../../src/state/committer.js';
import { HostTable } from '../../src/state/host-table.js';
import { ReplayLog, readReplayFloors } from '../../src/store/replay-log.js';
import createSqliteStore from '../../src/store/sqlite.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hbd-replay-'));
  path = join(dir, 'state.sqlite.replay');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const fail = (error: unknown) => {
  throw error;
};

describe('the replay log', () => {
  it('gives back the newest ts per host from the live and the rotated file, ignoring a torn last line', () => {
    writeFileSync(`${path}.old`, '100.5 web1\n90 web2\n');
    writeFileSync(path, '99 web1\n101.25 web1\n102 web');
    expect(readReplayFloors(path)).toEqual(
      new Map([
        ['web1', 101.25],
        ['web2', 90],
      ]),
    );
  });

  it('is empty when there is no log', () => {
    expect(readReplayFloors(path).size).toBe(0);
  });

  it('an accepted signed ts is on disk before the next event-loop turn, long before the store has it', async () => {
    const store = createSqliteStore({ path: join(dir, 'state.sqlite') });
    const table = new HostTable();
    const committer = new Committer({
      store,
      table,
      bus: new Bus(),
      replayLog: new ReplayLog(path, fail),
      flushIntervalMs: 60_000,
      onError: fail,
    });
    const slot = table.add('web1', 1, 1);
    committer.hostChanged(slot, true, true);
    await nextTurn();
    table.lastTs[slot] = 1_764_080_000.123;
    committer.hostChanged(slot, false, false);
    committer.signedTsAccepted(slot);
    await nextTurn();
    expect(readReplayFloors(path)).toEqual(new Map([['web1', 1_764_080_000.123]]));
    expect(store.loadHosts()[0]?.lastTs).toBeNull();

    // Once a cycle has stored it, the log is no longer needed.
    committer.close();
    expect(store.loadHosts()[0]?.lastTs).toBe(1_764_080_000.123);
    expect(existsSync(path) || existsSync(`${path}.old`)).toBe(false);
  });

  it('rotation keeps what arrives during a cycle in the live file', () => {
    const log = new ReplayLog(path, fail);
    log.append('web1', 1);
    log.rotate();
    log.append('web2', 2);
    log.flush();
    expect(readFileSync(`${path}.old`, 'utf8')).toBe('1 web1\n');
    expect(readFileSync(path, 'utf8')).toBe('2 web2\n');
    log.dropRotated();
    appendFileSync(path, '3 web3\n');
    expect(readReplayFloors(path)).toEqual(
      new Map([
        ['web2', 2],
        ['web3', 3],
      ]),
    );
    log.close(false);
    expect(existsSync(path)).toBe(true);
  });
});
