import { describe, expect, it } from 'vitest';
import { hostPolicy } from '../../src/config/host-policy.js';
import { PushTokens, withPushTiming } from '../../src/push/tokens.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';
const KUMA = 'Ab3dE6gH9k';

const tokens = () =>
  new PushTokens({
    hosts: { 'backup-db': { token: UUID }, 'ci-nightly': { token: KUMA } },
    pingKey: 'fqOOd6-F4MMNuCEnzTU01w',
  });

describe('PushTokens', () => {
  it('finds the host of each token, and nothing for anything else', () => {
    const map = tokens();
    expect(map.hostOf(UUID)).toBe('backup-db');
    expect(map.hostOf(KUMA)).toBe('ci-nightly');
    expect(map.hostOf(UUID.toUpperCase())).toBeUndefined();
    expect(map.hostOf(`${UUID}x`)).toBeUndefined();
    expect(map.hostOf(KUMA.slice(0, -1))).toBeUndefined();
    expect(map.hostOf('')).toBeUndefined();
    expect(map.hostOf('constructor')).toBeUndefined();
  });

  it('recognises the ping key only when it is set, and exactly', () => {
    expect(tokens().isPingKey('fqOOd6-F4MMNuCEnzTU01w')).toBe(true);
    expect(tokens().isPingKey('fqOOd6-F4MMNuCEnzTU01')).toBe(false);
    expect(tokens().isPingKey(UUID)).toBe(false);
    const noKey = new PushTokens({ hosts: {}, pingKey: null });
    expect(noKey.isPingKey('')).toBe(false);
    expect(noKey.hostOf(UUID)).toBeUndefined();
  });

  it('knows which hosts are push hosts', () => {
    expect(tokens().isPushHost('backup-db')).toBe(true);
    expect(tokens().isPushHost('web1')).toBe(false);
  });
});

describe('withPushTiming', () => {
  const base = hostPolicy({ hosts: { 'backup-*': { grace: 60 }, 'ci-nightly': { interval: 5 } } });

  it("takes a push entry's interval and grace, and the `hosts:` override or default for the rest", () => {
    const policy = withPushTiming(
      {
        'backup-db': { token: UUID, interval: 86_400 },
        'ci-nightly': { token: KUMA, interval: 3600, grace: 600 },
      },
      base,
    );
    expect(policy('backup-db')).toEqual({ interval: 86_400, grace: 60 });
    expect(policy('CI-Nightly')).toEqual({ interval: 3600, grace: 600 });
    expect(policy('backup-files')).toEqual({ grace: 60 });
    expect(policy('web1')).toEqual({});
    expect(policy('constructor')).toEqual({});
  });

  it('is the `hosts:` policy itself when there are no push hosts', () => {
    expect(withPushTiming({}, base)).toBe(base);
  });
});
