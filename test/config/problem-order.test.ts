import { describe, expect, it } from 'vitest';
import { inFileOrder } from '../../src/config/errors.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { CONFIG_DIR, HOME, parse, problems } from './helpers.js';

function strictProblems(lines: readonly string[]): string[] {
  try {
    parseConfig(lines.join('\n'), {
      sourceName: 'hb.yaml',
      baseDir: CONFIG_DIR,
      env: {},
      home: HOME,
      strict: true,
    });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
}

describe('config problems', () => {
  it('come in the order of the file, whatever order the schema checks them in', () => {
    expect(problems(['store: {driver: sqlit}', 'logfmt: text', 'interval: 0', 'auth: maybe'])).toEqual([
      'hb.yaml:1: store.driver: expected one of sqlite, postgresql, got "sqlit"',
      'hb.yaml:3: interval: expected a number of seconds greater than 0, got 0',
      'hb.yaml:4: auth: expected one of off, optional, required, got "maybe"',
    ]);
  });

  it('from the environment come after those of the file', () => {
    expect(problems(['grace: -1'], { HBD_INTERVAL: 'soon' })).toEqual([
      'hb.yaml:1: grace: expected a number of seconds, 0 or more, got -1',
      '$HBD_INTERVAL: expected a number of seconds greater than 0, got "soon"',
    ]);
  });

  it('are listed once each, those of one line in the order they were found', () => {
    expect(
      inFileOrder(
        ['hb.yaml:12: b', '$HBD_X: e', 'hb.yaml:3:7: a', 'hb.yaml:12: b', 'hb.yaml:12: c', 'hb.yaml: d'],
        'hb.yaml',
      ),
    ).toEqual(['hb.yaml:3:7: a', 'hb.yaml:12: b', 'hb.yaml:12: c', '$HBD_X: e', 'hb.yaml: d']);
  });

  it('name the nearest choice for a misspelt value, as for a misspelt key', () => {
    expect(problems(['logfmt: jsn', 'log_level: Debug', 'dns: {on_down: delte}', 'auth: maybe'])).toEqual([
      'hb.yaml:1: logfmt: expected one of text, json, got "jsn"; did you mean "json"?',
      'hb.yaml:2: log_level: expected one of debug, info, warn, error, got "Debug"; did you mean "debug"?',
      'hb.yaml:3: dns.on_down: expected one of keep, delete, got "delte"; did you mean "delete"?',
      'hb.yaml:4: auth: expected one of off, optional, required, got "maybe"',
    ]);
  });

  it('under strict, include unknown keys, which are otherwise warnings', () => {
    const lines = ['hb_prot: 7000', 'interval: 0', 'hosts: {web1: {intervall: 5}}'];
    expect(strictProblems(lines)).toEqual([
      'hb.yaml:1: unknown key "hb_prot"; did you mean "hb_port"?',
      'hb.yaml:2: interval: expected a number of seconds greater than 0, got 0',
      'hb.yaml:3: unknown key "hosts.web1.intervall"; did you mean "hosts.web1.interval"?',
    ]);
    expect(strictProblems(['colour: blue'])).toEqual(['hb.yaml:1: unknown key "colour"']);
    expect(parse(['colour: blue']).warnings).toEqual(['hb.yaml:1: unknown key "colour" (ignored)']);
  });

  it('can be placed at the line of a key after loading, for checks of the files the config names', () => {
    const loaded = parse(['interval: 30', 'tls_cert: /etc/hbd/cert.pem', 'tls_key: /etc/hbd/key.pem']);
    expect(loaded.locate(['tls_key'])).toEqual({ where: 'hb.yaml:3', keyPath: ['tls_key'] });
    expect(loaded.sourceName).toBe('hb.yaml');
  });
});
