/**
 * Finding 11, file modes: the state file, the journal, the beat log and the log file were
 * created 0644, so every user of the machine could read the fleet's names, addresses and
 * messages. Now each file hbd creates is 0600 whatever the umask, and a state file or beat log
 * an older hbd left readable by others is tightened at start.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLog } from '../../src/lib/log.js';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { eventually, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { sqliteStore } from '../store/helpers.js';

let hbd: TestDaemon | undefined;
let umask: number;

// The loosest umask there is: a mode that only the umask kept private would show here.
beforeEach(() => {
  umask = process.umask(0);
});
afterEach(async () => {
  process.umask(umask);
  await hbd?.stop();
  hbd = undefined;
});

const modeOf = (path: string) => (fs.statSync(path).mode & 0o777).toString(8);

describe('files hbd writes', () => {
  it('are created 0600: state file and its -wal and -shm, beat log, journal and its rotations', async () => {
    hbd = await startTestDaemon({
      journal: { path: 'journal/heartbeats.jsonl', max_bytes: 4096, keep: 2 },
    });
    const daemon = hbd;
    for (let i = 0; i < 40; i++)
      await daemon.send(encodeHeartbeat({ host: `web${i}`, msg: 'x'.repeat(100) }));
    const journal = join(daemon.dir, 'journal', 'heartbeats.jsonl');
    await eventually(() => expect(fs.existsSync(`${journal}.1`)).toBe(true));
    const state = join(daemon.dir, 'state.sqlite');
    for (const file of [state, `${state}-wal`, `${state}-shm`, `${state}.beats`, journal, `${journal}.1`]) {
      expect([file, modeOf(file)]).toEqual([file, '600']);
    }
  });

  it('the log file is created 0600, also when a reopen after logrotate makes it anew', () => {
    const dir = fs.mkdtempSync(join(fs.realpathSync('/tmp'), 'hbd-log-'));
    try {
      const file = join(dir, 'logs', 'hbd.log');
      const logging = createLog({ format: 'json', level: 'info', file });
      logging.log.info('first');
      expect(modeOf(file)).toBe('600');
      fs.renameSync(file, `${file}.1`);
      logging.reopen();
      logging.log.info('second');
      logging.flush();
      expect(modeOf(file)).toBe('600');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a state file and beat log that others could read are made 0600 at start, with a warning', async () => {
    const dir = fs.mkdtempSync(join(fs.realpathSync('/tmp'), 'hbd-modes-'));
    const state = join(dir, 'state.sqlite');
    // As an older hbd left them.
    await sqliteStore(state).close();
    fs.writeFileSync(`${state}.beats`, '');
    fs.chmodSync(state, 0o644);
    fs.chmodSync(`${state}.beats`, 0o644);
    hbd = await startTestDaemon({}, dir);
    expect(modeOf(state)).toBe('600');
    expect(modeOf(`${state}.beats`)).toBe('600');
    expect(hbd.logs.map((line) => line.msg)).toContainEqual(
      `${state} could be read by other users; its mode is now 0600`,
    );
  });
});
