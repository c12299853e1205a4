import { describe, expect, it } from 'vitest';
import { FleetIsolation, IsolationGuard } from '../../src/notify/isolation.js';

const T = Date.UTC(2026, 10, 25, 12, 0, 0);
const S = 1000;

function guard(share = 0.5, minHosts = 10) {
  return new IsolationGuard({ share, minHosts, windowMs: 60 * S });
}

/** Counts `count` hosts going silent `spacing` seconds apart; returns what each call answered. */
function silence(isolation: IsolationGuard, count: number, known: number, spacing = 1, from = 0): boolean[] {
  return Array.from({ length: count }, (_, i) => isolation.wentSilent(T + (from + i * spacing) * S, known));
}

describe('IsolationGuard', () => {
  it.each([
    // known, share, minHosts → threshold
    [0, 0.5, 10, 10],
    [5, 0.5, 10, 10],
    [20, 0.5, 10, 10],
    [21, 0.5, 10, 11],
    [100, 0.5, 10, 50],
    [1000, 0.5, 10, 500],
    [7, 0.3, 1, 3],
    [10, 1, 1, 10],
  ])('with %i known hosts, share %d and min %i needs %i', (known, share, minHosts, threshold) => {
    expect(guard(share, minHosts).threshold(known)).toBe(threshold);
  });

  it('trips on the host that reaches the threshold within the window', () => {
    const isolation = guard();
    expect(silence(isolation, 49, 100)).toEqual(Array(49).fill(false));
    expect(isolation.isolated).toBe(false);
    expect(isolation.wentSilent(T + 50 * S, 100)).toBe(true);
    expect(isolation.isolated).toBe(true);
    expect(isolation.recentlySilent).toBe(50);
  });

  it('trips once: later silences while isolated answer false', () => {
    const isolation = guard();
    silence(isolation, 10, 12);
    expect(isolation.isolated).toBe(true);
    expect(silence(isolation, 5, 12, 1, 10)).toEqual(Array(5).fill(false));
    expect(isolation.isolated).toBe(true);
  });

  it('is not tripped by silences spread wider than the window', () => {
    const isolation = guard();
    // Ten seconds apart: at most seven fall within any 60 s.
    expect(silence(isolation, 30, 12, 10)).toEqual(Array(30).fill(false));
    expect(isolation.isolated).toBe(false);
    expect(isolation.recentlySilent).toBe(7);
  });

  it('never trips below min_hosts however large the share', () => {
    const isolation = guard(0.5, 10);
    expect(silence(isolation, 9, 9)).toEqual(Array(9).fill(false));
    expect(isolation.isolated).toBe(false);
  });

  it('starts over after end()', () => {
    const isolation = guard();
    silence(isolation, 10, 12);
    isolation.end();
    expect(isolation.isolated).toBe(false);
    expect(isolation.recentlySilent).toBe(0);
    // The ten before end() no longer count: it takes ten new ones.
    expect(silence(isolation, 9, 12, 1, 20)).toEqual(Array(9).fill(false));
    expect(isolation.wentSilent(T + 29 * S, 12)).toBe(true);
  });

  it('reports the window it counts over', () => {
    expect(guard().windowMs).toBe(60 * S);
  });
});

describe('FleetIsolation: signed hosts are judged by signed hosts alone', () => {
  const fleet = () => new FleetIsolation({ share: 0.5, minHosts: 10, windowMs: 60 * S });
  const known = { all: 30, signed: 12 };

  it('unsigned hosts going silent together hold unsigned messages, never signed ones', () => {
    const isolation = fleet();
    const tripped = Array.from({ length: 15 }, (_, i) => isolation.wentSilent(T + i * S, false, known));
    expect(tripped.at(-1)).toEqual({ silent: 15, known: 30, signedOnly: false });
    expect(isolation.isolated).toBe(true);
    expect(isolation.holds(false)).toBe(true);
    expect(isolation.holds(true)).toBe(false);
  });

  it('signed hosts going silent together hold every message, and are announced once', () => {
    const isolation = fleet();
    const tripped = Array.from({ length: 10 }, (_, i) => isolation.wentSilent(T + i * S, true, known));
    expect(tripped.filter((trip) => trip !== undefined)).toEqual([
      { silent: 10, known: 12, signedOnly: true },
    ]);
    expect(isolation.holds(true)).toBe(true);
    expect(isolation.holds(false)).toBe(true);
    // More going silent while isolated is not news.
    expect(
      Array.from({ length: 10 }, (_, i) => isolation.wentSilent(T + (20 + i) * S, false, known)),
    ).toEqual(Array(10).fill(undefined));
  });

  it('an unsigned host heard again does not end the isolation of signed hosts; a signed one ends both', () => {
    const isolation = fleet();
    for (let i = 0; i < 16; i++) isolation.wentSilent(T + i * S, i < 10, known);
    isolation.heard(false);
    expect(isolation.settle()).toBe(false);
    expect(isolation.holds(true)).toBe(true);
    isolation.heard(true);
    expect(isolation.settle()).toBe(true);
    expect(isolation.isolated).toBe(false);
  });

  it('without signed hosts it is the one guard over every established host', () => {
    const isolation = fleet();
    const tripped = Array.from({ length: 10 }, (_, i) =>
      isolation.wentSilent(T + i * S, false, { all: 12, signed: 0 }),
    );
    expect(tripped.at(-1)).toEqual({ silent: 10, known: 12, signedOnly: false });
    isolation.heard(false);
    expect(isolation.settle()).toBe(true);
  });
});
