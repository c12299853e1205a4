/**
 * Finding 11, the state file: a zero-length state file started silently with 0 hosts; one bad
 * row refused to start with a JSON parse error naming no file, table or host; and "database
 * disk image is malformed" named no path. Now an empty file is a warning; a bad row is skipped
 * with a warning naming the file, the table, the row and the host; and a file SQLite calls
 * damaged stops hbd (exit 1) with a message naming it and saying how to recover.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHeartbeat } from '../../src/protocol/encode.js';
import { runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let hbd: TestDaemon | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), 'hbd-damaged-'));
  dirs.push(dir);
  return dir;
}

const warnings = (daemon: TestDaemon) =>
  daemon.logs.filter((line) => line.level === 40).map((line) => String(line.msg));

async function names(daemon: TestDaemon): Promise<string[]> {
  const { body } = await getJson<{ name: string }[]>(daemon.url('/api/hosts'));
  return body.map((host) => host.name);
}

/** A state file holding `hosts`, written by hbd itself and closed. */
async function stateWith(hosts: readonly string[]): Promise<string> {
  const dir = tempDir();
  const daemon = await startTestDaemon({}, dir);
  for (const host of hosts)
    await daemon.send(encodeHeartbeat({ host, msg: `I am ${host}`, fields: { rack: 'r1' } }));
  await eventually(async () => expect(await names(daemon)).toHaveLength(hosts.length));
  await daemon.daemon.stop();
  return dir;
}

describe('a damaged state file', () => {
  it('of zero bytes starts empty with a warning that names it, not silently', async () => {
    const dir = tempDir();
    const pickfile = join(dir, 'state.sqlite');
    fs.writeFileSync(pickfile, '');
    hbd = await startTestDaemon({}, dir);
    expect(warnings(hbd)).toEqual(
      expect.arrayContaining([expect.stringMatching(`state file ${pickfile} is empty \\(0 bytes\\)`)]),
    );
    expect(await names(hbd)).toEqual([]);
    // And it works: the file is a real store from now on.
    await hbd.send(encodeHeartbeat({ host: 'web1' }));
    await eventually(async () => expect(await names(hbd!)).toEqual(['web1']));
  });

  it('with one bad host row skips that host with a warning naming file, table and host, and keeps the fleet', async () => {
    const dir = await stateWith(['good1', 'bad', 'good2']);
    const pickfile = join(dir, 'state.sqlite');
    const db = new Database(pickfile);
    db.prepare("UPDATE hosts SET fields = '{\"rack\": \"r1' WHERE name = 'bad'").run();
    db.close();

    hbd = await startTestDaemon({}, dir);
    expect(await names(hbd)).toEqual(['good1', 'good2']);
    const warning = warnings(hbd).find((line) => line.includes('table hosts'));
    expect(warning).toMatch(`state file ${pickfile}, table hosts, row 2 (host "bad")`);
    expect(warning).toMatch(/fields is not valid JSON.*skipped/);
    // Its next heartbeat brings it back, and replaces the bad row.
    await hbd.send(encodeHeartbeat({ host: 'bad', msg: 'back' }));
    await eventually(async () => expect(await names(hbd!)).toEqual(['bad', 'good1', 'good2']));
    await hbd.restart();
    expect(await names(hbd)).toEqual(['bad', 'good1', 'good2']);
  });

  it('that is not a database refuses to start, naming the file and how to recover', async () => {
    const dir = tempDir();
    const pickfile = join(dir, 'state.sqlite');
    fs.writeFileSync(pickfile, 'these are not the bytes of a SQLite database '.repeat(100));
    await expect(startTestDaemon({}, dir)).rejects.toThrow(
      new RegExp(`state file ${pickfile} is damaged \\(file is not a database\\).*mv ${pickfile} `),
    );
  });

  it('"malformed" stops `hbd serve` with exit 1 and a message naming the file and the way out', async () => {
    const dir = await stateWith(Array.from({ length: 300 }, (_, i) => `host${i}`));
    const pickfile = join(dir, 'state.sqlite');
    // Fold the WAL into the file, then overwrite the pages after the first: the schema reads,
    // the hosts' b-tree does not.
    const db = new Database(pickfile);
    db.pragma('journal_mode = DELETE');
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    const fd = fs.openSync(pickfile, 'r+');
    const size = fs.fstatSync(fd).size;
    fs.writeSync(fd, Buffer.alloc(size - pageSize, 0xa5), 0, size - pageSize, pageSize);
    fs.closeSync(fd);

    const config = join(dir, 'hb.yaml');
    fs.writeFileSync(
      config,
      `hb_host: 127.0.0.1\nhb_port: 0\nhbd_port: 0\nlogfmt: json\npickfile: ${pickfile}\n`,
    );
    const result = await runHbd(['serve', '-c', config]);
    expect(result.code).toBe(1);
    const output = result.stdout + result.stderr;
    expect(output).toMatch(
      new RegExp(`state file ${pickfile} is damaged \\(database disk image is malformed\\)`),
    );
    expect(output).toMatch(/move the file aside.*start hbd again/);
    expect(output).not.toMatch(/\\n\s+at /);
  });
});
