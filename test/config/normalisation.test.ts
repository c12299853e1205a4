import { describe, expect, it } from 'vitest';
import { parse, problems } from './helpers.js';

describe('keys', () => {
  it('maps a host, or "*" for every host, to a secret or to secrets by key id', () => {
    const { config } = parse([
      'keys:',
      '  web1: 0123456789abcdef',
      '  "*":',
      '    k1: 0123456789abcdef',
      '    k2: fedcba9876543210',
    ]);
    expect(config.keys).toEqual({
      web1: '0123456789abcdef',
      '*': { k1: '0123456789abcdef', k2: 'fedcba9876543210' },
    });
  });

  it('lower-cases host names, as heartbeats carry them', () => {
    expect(parse(['keys: {Web1.LAB: 0123456789abcdef}']).config.keys).toEqual({
      'web1.lab': '0123456789abcdef',
    });
  });

  it('rejects two spellings of one host', () => {
    expect(problems(['keys:', '  web1: 0123456789abcdef', '  WEB1: fedcba9876543210'])).toEqual([
      'hb.yaml:3: keys.WEB1: same host as "web1" (host names ignore case)',
    ]);
  });

  it('rejects empty secrets, and warns about short ones at their line', () => {
    expect(problems(['keys: {web1: ""}'])).toEqual([
      'hb.yaml:1: keys.web1: expected a non-empty secret string, got a 0-character string',
    ]);
    expect(parse(['keys:', '  Web1: tiny', '  db: {k1: 0123456789abcdef, k2: short}']).warnings).toEqual([
      'hb.yaml:2: keys.Web1: secret is shorter than 16 characters; use a long random one',
      'hb.yaml:3: keys.db.k2: secret is shorter than 16 characters; use a long random one',
    ]);
  });

  it('rejects anything else', () => {
    expect(problems(['keys: {web1: [a]}'])).toEqual([
      'hb.yaml:1: keys.web1: expected a secret, or a map of key id to secret, got a list',
    ]);
  });
});

describe('hosts', () => {
  it('maps names and globs to interval and grace overrides, lower-cased', () => {
    const { config } = parse(['hosts:', '  Web*: {interval: 10}', '  db1.lab: {grace: 0}', '  mail: {}']);
    expect(config.hosts).toEqual({ 'web*': { interval: 10 }, 'db1.lab': { grace: 0 }, mail: {} });
  });
});

describe('journal', () => {
  it('is off by default and when null', () => {
    expect(parse([]).config.journal).toBeNull();
    expect(parse(['journal: null']).config.journal).toBeNull();
  });

  it('a path is short for the map form with default limits', () => {
    expect(parse(['journal: /var/log/hbd.journal']).config.journal).toEqual({
      path: '/var/log/hbd.journal',
      max_bytes: 64 * 1024 * 1024,
      keep: 5,
    });
  });

  it('the map form fills in what it leaves out', () => {
    expect(parse(['journal: {path: j.log, keep: 0}']).config.journal).toEqual({
      path: '/etc/hbd/j.log',
      max_bytes: 64 * 1024 * 1024,
      keep: 0,
    });
  });
});
