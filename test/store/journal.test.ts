import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeartbeatNotice } from '../../src/model/events.js';
import { type Journal, type JournalOptions, openJournal } from '../../src/store/journal.js';

let dir: string;
const opened: Journal[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hbd-journal-'));
});

afterEach(() => {
  for (const journal of opened.splice(0)) journal.close();
  vi.restoreAllMocks();
  vi.useRealTimers();
  fs.rmSync(dir, { recursive: true, force: true });
});

function open(options: Partial<JournalOptions> & { errors?: unknown[] } = {}): Journal {
  const errors = options.errors ?? [];
  const journal = openJournal({
    path: path.join(dir, 'heartbeats.jsonl'),
    maxBytes: 1_000_000,
    keep: 3,
    onError: (error) => errors.push(error),
    ...options,
  });
  opened.push(journal);
  return journal;
}

function notice(seq: number, overrides: Partial<HeartbeatNotice> = {}): HeartbeatNotice {
  return {
    host: 'web1.example.com',
    at: Date.UTC(2024, 4, 6, 12, 30, 15, 123),
    status: 'ok',
    msg: null,
    fields: {},
    addr: '192.0.2.7:41234',
    ip4: null,
    ip6: null,
    signed: false,
    seq,
    ...overrides,
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

function readLines(file: string): Record<string, unknown>[] {
  const text = fs.readFileSync(file, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function seqs(file: string): number[] {
  return readLines(file).map((record) => record.seq as number);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('line format', () => {
  it('writes one JSON object per heartbeat with the documented fields in order', async () => {
    const journal = open();
    journal.append(
      notice(42, {
        status: 'warn',
        msg: 'disk 91% "full"\nsee /var',
        fields: { disk: '91', region: 'eu-1' },
        signed: true,
      }),
    );
    journal.append(notice(0, { host: 'db2', seq: null, addr: '[2001:db8::1]:9' }));
    await tick();

    const text = fs.readFileSync(journal.path, 'utf8');
    const lines = text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    const [first, second] = readLines(journal.path);
    expect(first).toEqual({
      at: '2024-05-06T12:30:15.123Z',
      host: 'web1.example.com',
      status: 'warn',
      msg: 'disk 91% "full"\nsee /var',
      fields: { disk: '91', region: 'eu-1' },
      addr: '192.0.2.7:41234',
      signed: true,
      seq: 42,
    });
    expect(Object.keys(first!)).toEqual(['at', 'host', 'status', 'msg', 'fields', 'addr', 'signed', 'seq']);
    // null msg, null seq and empty fields are left out
    expect(second).toEqual({
      at: '2024-05-06T12:30:15.123Z',
      host: 'db2',
      status: 'ok',
      addr: '[2001:db8::1]:9',
      signed: false,
    });
  });

  it('formats the time as RFC 3339 in UTC with milliseconds', async () => {
    const journal = open();
    journal.append(notice(1, { at: Date.UTC(2030, 0, 2, 3, 4, 5, 6) }));
    await tick();
    expect(readLines(journal.path)[0]!.at).toBe('2030-01-02T03:04:05.006Z');
  });
});

describe('durability', () => {
  it('has the lines on disk after the flush tick, without close', async () => {
    const journal = open();
    for (const seq of range(0, 100)) journal.append(notice(seq));
    // Appends only queue; no I/O per line.
    expect(fs.readFileSync(journal.path, 'utf8')).toBe('');
    await tick();
    expect(seqs(journal.path)).toEqual(range(0, 100));

    journal.append(notice(100));
    await tick();
    expect(seqs(journal.path)).toEqual(range(0, 101));
  });

  it('flush() writes synchronously', () => {
    const journal = open();
    journal.append(notice(1));
    journal.flush();
    expect(seqs(journal.path)).toEqual([1]);
  });

  it('creates missing parent directories', async () => {
    const journal = open({ path: path.join(dir, 'a', 'b', 'journal.jsonl') });
    journal.append(notice(1));
    await tick();
    expect(seqs(journal.path)).toEqual([1]);
  });

  it('close() flushes synchronously, ignores later appends and can be called twice', () => {
    const errors: unknown[] = [];
    const journal = open({ errors });
    journal.append(notice(1));
    journal.close();
    expect(seqs(journal.path)).toEqual([1]);

    journal.append(notice(2));
    journal.flush();
    journal.close();
    expect(seqs(journal.path)).toEqual([1]);
    expect(errors).toEqual([]);
  });

  it('after close, nothing is written on the next tick either', async () => {
    const journal = open();
    journal.close();
    journal.append(notice(1));
    await tick();
    expect(fs.readFileSync(journal.path, 'utf8')).toBe('');
  });
});

describe('rotation', () => {
  // Every seq used here has four digits, so every line has this length.
  const { msg: _msg, fields: _fields, ip4: _ip4, ip6: _ip6, ...rest } = notice(1000);
  const lineBytes = Buffer.byteLength(`${JSON.stringify({ ...rest, at: '2024-05-06T12:30:15.123Z' })}\n`);

  function rotatedFiles(base: string): string[] {
    return fs
      .readdirSync(path.dirname(base))
      .filter((name) => name.startsWith(`${path.basename(base)}.`))
      .sort();
  }

  for (const batch of [1, 7, 1000]) {
    it(`keeps exactly \`keep\` old files, newest in .1, none over maxBytes (batches of ${batch})`, async () => {
      const maxBytes = lineBytes * 10 + 5;
      const journal = open({ maxBytes, keep: 2 });
      const total = 1000;
      for (let seq = 1000; seq < 1000 + total; seq++) {
        journal.append(notice(seq));
        if ((seq + 1) % batch === 0) await tick();
      }
      await tick();

      expect(rotatedFiles(journal.path)).toEqual(['heartbeats.jsonl.1', 'heartbeats.jsonl.2']);
      const files = [`${journal.path}.2`, `${journal.path}.1`, journal.path];
      for (const file of files) expect(fs.statSync(file).size).toBeLessThanOrEqual(maxBytes);
      for (const file of files.slice(0, 2)) expect(seqs(file)).toHaveLength(10);
      // Oldest to newest, no gap and no duplicate: every line is whole and in one file only.
      const all = files.flatMap(seqs);
      expect(all).toEqual(range(1000 + total - all.length, 1000 + total));
      expect(all.length).toBeGreaterThan(20);
    });
  }

  it('puts a line larger than maxBytes alone into a file', async () => {
    const journal = open({ maxBytes: 400, keep: 5 });
    journal.append(notice(1));
    journal.append(notice(2, { msg: 'x'.repeat(1000) }));
    journal.append(notice(3));
    journal.append(notice(4));
    await tick();

    expect(seqs(`${journal.path}.2`)).toEqual([1]);
    expect(seqs(`${journal.path}.1`)).toEqual([2]);
    expect(fs.statSync(`${journal.path}.1`).size).toBeGreaterThan(400);
    expect(seqs(journal.path)).toEqual([3, 4]);
    expect(fs.existsSync(`${journal.path}.3`)).toBe(false);
  });

  it('writes an oversized line into an empty file without rotating first', async () => {
    const journal = open({ maxBytes: 100, keep: 1 });
    journal.append(notice(1, { msg: 'x'.repeat(500) }));
    await tick();
    expect(seqs(journal.path)).toEqual([1]);
    expect(fs.existsSync(`${journal.path}.1`)).toBe(false);
  });

  it('keep 0 starts the file over and keeps no old file', async () => {
    const maxBytes = lineBytes * 3 + 1;
    const journal = open({ maxBytes, keep: 0 });
    for (const seq of range(1000, 1010)) {
      journal.append(notice(seq));
      await tick();
    }
    expect(fs.readdirSync(dir)).toEqual(['heartbeats.jsonl']);
    expect(seqs(journal.path)).toEqual([1009]);
    expect(fs.statSync(journal.path).size).toBeLessThanOrEqual(maxBytes);

    for (const seq of range(1010, 1020)) journal.append(notice(seq));
    await tick();
    expect(fs.readdirSync(dir)).toEqual(['heartbeats.jsonl']);
    expect(seqs(journal.path)).toEqual([1018, 1019]);
  });

  it('rotates past existing old files, dropping the oldest', async () => {
    const base = path.join(dir, 'heartbeats.jsonl');
    fs.writeFileSync(`${base}.1`, 'one\n');
    fs.writeFileSync(`${base}.2`, 'two\n');
    fs.writeFileSync(base, 'live\n');
    // 'live\n' plus one line is one byte too many.
    const journal = open({ maxBytes: lineBytes + 4, keep: 2 });
    journal.append(notice(1000));
    await tick();
    expect(fs.readFileSync(`${base}.2`, 'utf8')).toBe('one\n');
    expect(fs.readFileSync(`${base}.1`, 'utf8')).toBe('live\n');
    expect(seqs(base)).toEqual([1000]);
    expect(fs.existsSync(`${base}.3`)).toBe(false);
  });
});

describe('reopening', () => {
  it('appends to an existing journal', async () => {
    const first = open();
    first.append(notice(1));
    first.close();

    const second = open();
    second.append(notice(2));
    await tick();
    expect(seqs(second.path)).toEqual([1, 2]);
  });

  it('counts the existing size towards maxBytes', async () => {
    const lineBytes = Buffer.byteLength(fs.readFileSync(writeOne(), 'utf8'));
    const maxBytes = lineBytes * 3;
    const journal = open({ maxBytes, keep: 1 });
    journal.append(notice(2));
    journal.append(notice(3));
    await tick();
    // 1 + 2 + 3 fit exactly; the 4th must not.
    expect(seqs(journal.path)).toEqual([1, 2, 3]);
    expect(fs.existsSync(`${journal.path}.1`)).toBe(false);

    journal.close();
    const reopened = open({ maxBytes, keep: 1 });
    reopened.append(notice(4));
    await tick();
    expect(seqs(`${reopened.path}.1`)).toEqual([1, 2, 3]);
    expect(seqs(reopened.path)).toEqual([4]);

    function writeOne(): string {
      const journal = open();
      journal.append(notice(1));
      journal.close();
      return journal.path;
    }
  });
});

describe('errors', () => {
  function blockedPath(): { blocker: string; file: string } {
    // A file where a directory should be: fails even for root, unlike chmod.
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    return { blocker, file: path.join(blocker, 'journal.jsonl') };
  }

  it('reports an unwritable directory through onError and never throws', async () => {
    const { file } = blockedPath();
    const errors: unknown[] = [];
    let journal: Journal | undefined;
    expect(() => {
      journal = open({ path: file, errors });
    }).not.toThrow();
    expect(() => journal!.append(notice(1))).not.toThrow();
    await tick();
    expect(() => journal!.flush()).not.toThrow();
    expect(errors.length).toBe(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toMatch(/^(ENOTDIR|EEXIST)$/);
  });

  it('reports at most once a minute', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2024, 0, 1));
    const { file } = blockedPath();
    const errors: unknown[] = [];
    const journal = open({ path: file, errors });
    for (const seq of range(0, 5)) {
      journal.append(notice(seq));
      await tick();
    }
    expect(errors).toHaveLength(1);

    vi.setSystemTime(Date.UTC(2024, 0, 1, 0, 0, 59, 999));
    journal.flush();
    expect(errors).toHaveLength(1);
    vi.setSystemTime(Date.UTC(2024, 0, 1, 0, 1));
    journal.flush();
    expect(errors).toHaveLength(2);
  });

  it('keeps what it could not write and writes it once the disk is writable again', async () => {
    const { blocker, file } = blockedPath();
    const errors: unknown[] = [];
    const journal = open({ path: file, errors });
    for (const seq of range(0, 3)) {
      journal.append(notice(seq));
      await tick();
    }
    fs.rmSync(blocker);
    journal.append(notice(3));
    journal.flush();
    expect(seqs(file)).toEqual([0, 1, 2, 3]);
    expect(errors).toHaveLength(1);
  });

  it('while writes fail, heartbeats do not each retry: the retry waits 1 s, then twice as long each time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { blocker, file } = blockedPath();
    // Every attempt starts by making the journal's directory, which the blocker refuses.
    const mkdirSync = vi.spyOn(fs, 'mkdirSync');
    const journal = open({ path: file });
    const attempts = () => mkdirSync.mock.calls.length;
    journal.append(notice(0));
    await tick();
    const afterFirstFailure = attempts();
    for (const seq of range(1, 50)) {
      journal.append(notice(seq));
      await tick();
    }
    expect(attempts()).toBe(afterFirstFailure);
    vi.advanceTimersByTime(1000);
    expect(attempts()).toBe(afterFirstFailure + 1);
    vi.advanceTimersByTime(1999);
    expect(attempts()).toBe(afterFirstFailure + 1);
    vi.advanceTimersByTime(1);
    expect(attempts()).toBe(afterFirstFailure + 2);
    fs.rmSync(blocker);
    vi.advanceTimersByTime(4000);
    expect(seqs(file)).toEqual(range(0, 50));
    journal.close();
  });

  it('retries on its own when no further heartbeat comes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { blocker, file } = blockedPath();
    const journal = open({ path: file });
    journal.append(notice(7));
    await tick();
    fs.rmSync(blocker);
    vi.advanceTimersByTime(1000);
    expect(seqs(file)).toEqual([7]);
    journal.close();
  });

  it('finishes a line whose write failed midway before anything else', async () => {
    const errors: unknown[] = [];
    const journal = open({ errors });
    journal.append(notice(1));
    await tick();

    const realWrite = fs.writeSync;
    const spy = vi.spyOn(fs, 'writeSync');
    // The disk fills up after 10 bytes of the next batch.
    spy.mockImplementationOnce(((fd: number, buffer: Buffer, offset: number) =>
      realWrite(fd, buffer, offset, 10)) as typeof fs.writeSync);
    spy.mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    });
    journal.append(notice(2));
    journal.append(notice(3));
    await tick();
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOSPC');

    journal.append(notice(4));
    journal.flush();
    expect(seqs(journal.path)).toEqual([1, 2, 3, 4]);
  });

  it('bounds memory while writes fail and reports how many heartbeats it dropped', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2024, 0, 1));
    const { blocker, file } = blockedPath();
    const errors: unknown[] = [];
    const lineChars = JSON.stringify(notice(10)).length + 30;
    const journal = open({ path: file, errors, maxPendingBytes: lineChars * 3 });
    for (const seq of range(10, 20)) journal.append(notice(seq));
    await tick();
    fs.rmSync(blocker);
    vi.setSystemTime(Date.UTC(2024, 0, 1, 0, 1));
    journal.flush();

    const kept = seqs(file);
    expect(kept).toEqual(range(10, 10 + kept.length));
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThan(10);
    expect(errors).toHaveLength(2);
    expect(String(errors[1])).toContain(`${10 - kept.length} heartbeats were not journaled`);
  });

  it('reports heartbeats it could not write by close', () => {
    const { file } = blockedPath();
    const errors: unknown[] = [];
    const journal = open({ path: file, errors });
    journal.append(notice(1));
    journal.append(notice(2));
    journal.close();
    expect(errors).toHaveLength(2);
    expect(String(errors[1])).toContain('2 heartbeats not written');
  });

  it('rejects invalid options', () => {
    expect(() => open({ maxBytes: 0 })).toThrow(RangeError);
    expect(() => open({ keep: -1 })).toThrow(RangeError);
    expect(() => open({ keep: 1.5 })).toThrow(RangeError);
  });
});
