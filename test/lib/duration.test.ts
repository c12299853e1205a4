import { describe, expect, it } from 'vitest';
import { formatDuration, MAX_DURATION_MS, parseDuration } from '../../src/lib/duration.js';

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['90s', 90 * S],
    ['15m', 15 * M],
    ['2h', 2 * H],
    ['1d', D],
    ['1w', 7 * D],
    ['1h30m', H + 30 * M],
    ['1d 12h', D + 12 * H],
    ['1w2d3h4m5s', 9 * D + 3 * H + 4 * M + 5 * S],
    ['1.5h', 90 * M],
    ['  2h ', 2 * H],
    ['45', 45 * S],
    ['0.5', 500],
    ['366d', 366 * D],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '2x', 'h', '2h3', '30m1h', '1h1h', '-5m', '-5', '1e3', '2 h', '2H', '1h-30m', '.5h'])(
    'refuses %j, saying what it expected',
    (text) => {
      expect(() => parseDuration(text)).toThrow(
        `expected a duration such as 30m, 2h or 1d, got ${JSON.stringify(text)}`,
      );
    },
  );

  it.each(['0', '0s', '0h0m', '0.0001'])('refuses %j as zero', (text) => {
    expect(() => parseDuration(text)).toThrow(/got ".*": it must be longer than zero$/);
  });

  it.each(['367d', '53w', '366d1s', String(366 * 86_400 + 1)])(
    'refuses %j as longer than 366 days',
    (text) => {
      expect(() => parseDuration(text)).toThrow(/: it can be at most 366d$/);
    },
  );

  it('allows exactly the maximum and not a millisecond more', () => {
    expect(parseDuration(String(MAX_DURATION_MS / 1000))).toBe(MAX_DURATION_MS);
    expect(() => parseDuration(String(MAX_DURATION_MS / 1000 + 0.001))).toThrow(/at most 366d/);
  });
});

describe('formatDuration', () => {
  it.each([
    [45 * S, '45s'],
    [90 * S, '1m 30s'],
    [H + 30 * M, '1h 30m'],
    [2 * H, '2h'],
    [D + 2 * H + 3 * M + 4 * S, '1d 2h'],
    [D + 5 * M, '1d'],
    [9 * D, '9d'],
    [2 * H - 400, '2h'],
    [400, '0s'],
    [0, '0s'],
    [-5 * S, '0s'],
  ])('shows %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('is read back by parseDuration when nothing was dropped', () => {
    for (const ms of [45 * S, 90 * S, H + 30 * M, 3 * D + 4 * H]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
