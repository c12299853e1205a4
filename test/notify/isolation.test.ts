import { describe, expect, it } from 'vitest';
import { IsolationGuard } from '../../src/notify/isolation.js';

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
