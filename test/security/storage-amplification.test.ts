/**
 * Finding 5: extra field values had no length limit and a compressed datagram could inflate
 * to 65536 bytes, so 1.19 MB of zlib traffic became 328 MB of SQLite and a 323 MB
 * `/api/hosts`. Now (hb/1 as changed 2026-12-04) a compressed datagram inflates to at most
 * 8192 bytes (`inflate`), a field value is at most 256 characters (`field`), and what a host
 * stores of msg + fields is bounded by `limits.host_bytes` (`limit`).
 */
import { deflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

/** Sends datagrams and waits until hbd has read them all. */
async function sendAll(datagrams: (string | Buffer)[]): Promise<void> {
  const daemon = hbd!;
  const before = daemon.daemon.stats.received;
  for (const datagram of datagrams) await daemon.send(datagram);
  await eventually(() => expect(daemon.daemon.stats.received).toBe(before + datagrams.length), 10_000);
}

function fields(count: number, chars: number, char = 'x'): string {
  return Array.from({ length: count }, (_, i) => `f${i}=${char.repeat(chars)}`).join(' ');
}

describe('finding 5: a little zlib traffic cannot become a lot of state', () => {
  it("the review's datagrams (32 fields of 2,000 characters, ~240 bytes of zlib) are dropped as inflate", async () => {
    hbd = await startTestDaemon();
    const datagrams = Array.from({ length: 50 }, (_, i) =>
      deflateSync(`host=amp${i} ${fields(32, 2000, String.fromCharCode(97 + (i % 26)))}`, { level: 9 }),
    );
    expect(Math.max(...datagrams.map((datagram) => datagram.length))).toBeLessThan(400);
    await sendAll(datagrams);

    expect(hbd.daemon.stats.dropped.inflate).toBe(50);
    expect(hbd.daemon.hosts.count).toBe(0);
    const { body } = await getJson<unknown[]>(hbd.url('/api/hosts'));
    expect(JSON.stringify(body).length).toBeLessThan(100);
  });

  it('a compressed datagram inflating to 8193 bytes is dropped; one of 8192 is read', async () => {
    // host_bytes raised so that the decoder's bound alone decides.
    hbd = await startTestDaemon({ limits: { host_bytes: 8192 } });
    // host=ok, 31 fields of 256 characters and one shorter: exactly 8192 bytes of text.
    const start = `host=ok ${fields(31, 256)} z=`;
    const exact = `${start}${'z'.repeat(8192 - start.length)}`;
    expect(exact).toHaveLength(8192);
    await sendAll([deflateSync(exact), deflateSync(`${exact.replace('host=ok', 'host=over')}`)]);
    expect(hbd.daemon.stats.dropped.inflate).toBe(1);
    expect(hbd.daemon.hosts.count).toBe(1);
    expect(hbd.logs.find((line) => line.reason === 'inflate')?.msg).toMatch(/inflates past 8192 bytes/);
  });

  it('an extra field value over 256 characters is dropped as field, compressed or not', async () => {
    hbd = await startTestDaemon();
    await sendAll([
      `host=long1 note=${'n'.repeat(257)}`,
      deflateSync(`host=long2 note=${'n'.repeat(2000)}`),
      `host=fits note=${'n'.repeat(256)}`,
    ]);
    expect(hbd.daemon.stats.dropped.field).toBe(2);
    expect(hbd.daemon.hosts.count).toBe(1);
    expect(hbd.logs.find((line) => line.reason === 'field')?.msg).toMatch(
      /key "note": longer than 256 characters/,
    );
  });

  it('msg + fields over limits.host_bytes (4096 by default) are dropped as limit, with the sizes', async () => {
    hbd = await startTestDaemon();
    expect(hbd.config.limits.host_bytes).toBe(4096);
    // 2-byte characters: msg 2048 bytes, 8 fields of 512 bytes plus their keys (2 bytes each).
    const msg = 'é'.repeat(1024);
    await sendAll([
      `host=heavy msg=${msg} ${fields(8, 256, 'é')}`,
      deflateSync(`host=heavy2 msg=${msg} ${fields(8, 256, 'é')}`),
      // 2048 + 3 × 514 + (2 + 500): 4092 bytes, just under.
      `host=light msg=${msg} ${fields(3, 256, 'é')} f9=${'é'.repeat(250)}`,
    ]);
    expect(hbd.daemon.stats.dropped.limit).toBe(2);
    expect(hbd.daemon.hosts.count).toBe(1);
    expect(hbd.logs.find((line) => line.reason === 'limit')?.msg).toMatch(
      /host "heavy": msg and extra fields take 6160 bytes, over limits.host_bytes \(4096\)/,
    );
  });

  it('every host stores at most limits.host_bytes of msg + fields, whatever it sends', async () => {
    hbd = await startTestDaemon({ limits: { host_bytes: 1024 } });
    const texts = Array.from(
      { length: 40 },
      (_, i) => `host=h${i} msg=${'m'.repeat(i * 25)} ${fields(i % 33, 100)}`,
    );
    await sendAll(texts.map((text) => deflateSync(text)));

    const { body } = await getJson<{ name: string; msg: string | null; fields: Record<string, string> }[]>(
      hbd.url('/api/hosts'),
    );
    const storedBytes = (host: (typeof body)[number]) =>
      Buffer.byteLength(host.msg ?? '') +
      Object.entries(host.fields).reduce((sum, [key, value]) => sum + key.length + value.length, 0);
    expect(body.length).toBeGreaterThan(5);
    expect(Math.max(...body.map(storedBytes))).toBeLessThanOrEqual(1024);
    expect(body.length + hbd.daemon.stats.dropped.limit).toBe(40);
  });
});
