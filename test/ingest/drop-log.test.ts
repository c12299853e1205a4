import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DropLog } from '../../src/ingest/drop-log.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    }),
  );
  return { log, lines };
}

describe('DropLog', () => {
  it('warns about the first drops of a window, then sums up the rest by reason', () => {
    const { log, lines } = capture();
    const dropLog = new DropLog(log, { burst: 2, windowMs: 1000 });
    dropLog.dropped('limit', 'new host "a" refused: …', '10.0.0.1', 0);
    dropLog.dropped('limit', 'new host "b" refused: …', '10.0.0.1', 1);
    for (let i = 0; i < 5; i++) dropLog.dropped('limit', 'x', '10.0.0.1', 2);
    dropLog.dropped('unsigned', 'x', '8.8.8.8', 3);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      reason: 'limit',
      source: '10.0.0.1',
      msg: 'dropped datagram from 10.0.0.1: limit: new host "a" refused: …',
    });

    dropLog.dropped('syntax', 'x', '10.0.0.2', 1000);
    expect(lines[2]).toMatchObject({
      suppressed: 6,
      byReason: { limit: 5, unsigned: 1 },
      msg: '6 more bad datagrams were dropped without a warning each (limit: 5, unsigned: 1)',
    });
    expect(lines[3]).toMatchObject({ reason: 'syntax' });
  });
});
