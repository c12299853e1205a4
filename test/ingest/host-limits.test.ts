import { describe, expect, it } from 'vitest';
import { contentBytes, HostLimits, type HostLimitsOptions } from '../../src/ingest/host-limits.js';
import { parseHeartbeat } from '../../src/protocol/decode.js';
import type { Heartbeat } from '../../src/protocol/types.js';

const OPTIONS: HostLimitsOptions = { maxHosts: 100, newHostsPerMinute: 3, hostBytes: 300 };

function heartbeat(text: string): Heartbeat {
  const parsed = parseHeartbeat(text);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.value;
}

describe('HostLimits: new hosts', () => {
  it('refuses a new host once max_hosts are known, saying so', () => {
    const limits = new HostLimits(OPTIONS);
    expect(limits.newHostRefusal('web1', 99, 0)).toBeUndefined();
    expect(limits.newHostRefusal('web2', 100, 0)).toBe(
      'new host "web2" refused: 100 hosts known, limits.max_hosts is 100; ' +
        'a heartbeat signed with a configured key may still add it',
    );
  });

  it('allows new_hosts_per_minute in any sliding minute, then one more as each leaves the minute', () => {
    const limits = new HostLimits(OPTIONS);
    expect([0, 10_000, 20_000].map((at) => limits.newHostRefusal('h', 0, at))).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(limits.newHostRefusal('h4', 0, 59_999)).toMatch(
      /^new host "h4" refused: 3 new hosts in the last minute, limits.new_hosts_per_minute is 3;/,
    );
    // The first left the minute at 60 s: room for exactly one.
    expect(limits.newHostRefusal('h4', 0, 60_000)).toBeUndefined();
    expect(limits.newHostRefusal('h5', 0, 60_001)).toMatch(/refused/);
    expect(limits.newHostRefusal('h5', 0, 70_000)).toBeUndefined();
  });

  it('a refused host does not count against the budget; 0 allows none', () => {
    const limits = new HostLimits({ ...OPTIONS, newHostsPerMinute: 1 });
    expect(limits.newHostRefusal('a', 0, 0)).toBeUndefined();
    for (let i = 0; i < 100; i++) expect(limits.newHostRefusal('b', 0, 1000 + i)).toMatch(/refused/);
    expect(limits.newHostRefusal('b', 0, 60_000)).toBeUndefined();
    expect(new HostLimits({ ...OPTIONS, newHostsPerMinute: 0 }).newHostRefusal('a', 0, 0)).toMatch(/refused/);
  });

  it('a reload keeps the minute: raising the budget lets more in at once, lowering it holds them', () => {
    const limits = new HostLimits(OPTIONS);
    for (let i = 0; i < 3; i++) limits.newHostRefusal(`h${i}`, 0, i);
    limits.configure({ ...OPTIONS, newHostsPerMinute: 4 });
    expect(limits.newHostRefusal('h3', 0, 10)).toBeUndefined();
    expect(limits.newHostRefusal('h4', 0, 11)).toMatch(/4 new hosts in the last minute/);
    limits.configure({ ...OPTIONS, newHostsPerMinute: 2 });
    expect(limits.newHostRefusal('h4', 0, 12)).toMatch(/limits.new_hosts_per_minute is 2/);
  });

  it('stays exact over many minutes of steady creation (the window is compacted)', () => {
    const limits = new HostLimits({ ...OPTIONS, newHostsPerMinute: 2000 });
    let allowed = 0;
    // 5000 a minute for 3 minutes, one every 12 ms.
    for (let at = 0; at < 180_000; at += 12) if (limits.newHostRefusal('h', 0, at) === undefined) allowed++;
    expect(allowed).toBe(3 * 2000);
  });
});

describe('HostLimits: bytes a host stores', () => {
  it('counts the UTF-8 bytes of msg and of every extra field key and value', () => {
    expect(contentBytes(heartbeat('host=web1 seq=1 every=5'))).toBe(0);
    expect(contentBytes(heartbeat('host=web1 msg=héllo role=web'))).toBe(6 + 4 + 3);
  });

  it('refuses a heartbeat whose msg and fields exceed host_bytes, compressed or not', () => {
    const limits = new HostLimits(OPTIONS);
    const fits = heartbeat(`host=web1 msg=${'m'.repeat(200)} note=${'n'.repeat(96)}`);
    expect(limits.contentRefusal(fits, 400)).toBeUndefined();
    const tooMuch = heartbeat(`host=web1 msg=${'m'.repeat(200)} note=${'é'.repeat(49)}`);
    expect(limits.contentRefusal(tooMuch, 400)).toBe(
      'host "web1": msg and extra fields take 302 bytes, over limits.host_bytes (300)',
    );
    expect(limits.contentRefusal({ ...tooMuch, compressed: true }, 100)).toMatch(/302 bytes/);
  });

  it('an uncompressed datagram no longer than host_bytes is never counted (its text bounds it)', () => {
    const limits = new HostLimits(OPTIONS);
    // A heartbeat claiming a small datagram skips the count: proof that the fast path is taken.
    const large = heartbeat(`host=web1 msg=${'m'.repeat(400)}`);
    expect(limits.contentRefusal(large, 300)).toBeUndefined();
    expect(limits.contentRefusal(large, 301)).toMatch(/400 bytes/);
  });
});
