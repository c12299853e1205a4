import { describe, expect, it } from 'vitest';
import { parse, problems, rejection } from './helpers.js';

/** Two lines before the key, so every message must say line 3. */
const onLine3 = (line: string) => ['# hbd', '', line];

describe('each key is validated, and the message names file, line, key, expectation and what was found', () => {
  it.each([
    ['hb_host: ""', 'hb_host: expected a bind address, got ""'],
    ['hb_port: abc', 'hb_port: expected an integer from 0 to 65535, got "abc"'],
    ['hb_port: 70000', 'hb_port: expected an integer from 0 to 65535, got 70000'],
    ['hbd_host: 5', 'hbd_host: expected a bind address, got 5'],
    ['hbd_port: 80.5', 'hbd_port: expected an integer from 0 to 65535, got 80.5'],
    ['pickfile: ""', 'pickfile: expected a file path, got ""'],
    ['logfile: [a, b]', 'logfile: expected null or a file path, got a list'],
    ['logfmt: xml', 'logfmt: expected one of text, json, got "xml"'],
    ['log_level: verbose', 'log_level: expected one of debug, info, warn, error, got "verbose"'],
    ['interval: 0', 'interval: expected a number of seconds greater than 0, got 0'],
    ['grace: -1', 'grace: expected a number of seconds, 0 or more, got -1'],
    ['auth: yes', 'auth: expected one of off, optional, required, got "yes"'],
    ['keys: [a]', 'keys: expected a map of host name to secret, got a list'],
    ['max_skew: .inf', 'max_skew: expected a number of seconds greater than 0, got Infinity'],
    ['tls_cert: 5', 'tls_cert: expected null or a file path, got 5'],
    ['tls_key: {}', 'tls_key: expected null or a file path, got a map'],
    ['hosts: 5', 'hosts: expected a map of host name or glob to {interval, grace}, got 5'],
    ['journal: 5', 'journal: expected null, a file path, or a map with path, max_bytes and keep, got 5'],
    ['history: 30', 'history: expected a map with days and max_events, got 30'],
    ['udp_rcvbuf: -1', 'udp_rcvbuf: expected an integer from 0 to 2147483647, got -1'],
    ['pushsrv: email', 'pushsrv: expected one of pushover, mattermost, signal, all, none, got "email"'],
    ['dyndomains: a.example', 'dyndomains: expected a list of domain names, got "a.example"'],
    ['nsupdate_bin: ""', 'nsupdate_bin: expected a program path, got ""'],
    ['dns: 5', 'dns: expected a map of dynamic DNS settings, got 5'],
    ['dns: {method: carrier-pigeon}', 'dns.method: expected one of rfc2136, nsupdate, got "carrier-pigeon"'],
    ['dns: {ttl: -1}', 'dns.ttl: expected an integer from 0 to 2147483647, got -1'],
    ['dns: {on_down: panic}', 'dns.on_down: expected one of keep, delete, got "panic"'],
    ['dns: {tsig_secret: 42}', 'dns.tsig_secret: expected null or a base64 secret, got a number'],
    ['notify: [x]', 'notify: expected a map of notification settings, got a list'],
  ])('%s', (line, message) => {
    expect(problems(onLine3(line))).toEqual([`hb.yaml:3: ${message}`]);
  });

  it('a key without a value is null', () => {
    expect(problems(['hb_port:'])).toEqual([
      'hb.yaml:1: hb_port: expected an integer from 0 to 65535, got null',
    ]);
  });
});

describe('nested values are reported at their own line with their full key path', () => {
  it('journal', () => {
    expect(problems(['journal:', '  path: j.log', '  max_bytes: 100', '  keep: -1'])).toEqual([
      'hb.yaml:3: journal.max_bytes: expected an integer of at least 4096, got 100',
      'hb.yaml:4: journal.keep: expected an integer of at least 0, got -1',
    ]);
  });

  it('a missing key is reported at the map that lacks it', () => {
    expect(problems(['hb_port: 1', 'journal:', '  keep: 2'])).toEqual([
      'hb.yaml:3: journal.path: expected a file path, got nothing',
    ]);
  });

  it('history', () => {
    expect(problems(['history:', '  days: 0', '  max_events: 99'])).toEqual([
      'hb.yaml:2: history.days: expected a number of days greater than 0, got 0',
      'hb.yaml:3: history.max_events: expected an integer of at least 100, got 99',
    ]);
  });

  it('hosts', () => {
    expect(problems(['hosts:', '  web*:', '    interval: 0', '  db1: {grace: soon}', '  db2: 5'])).toEqual([
      'hb.yaml:3: hosts.web*.interval: expected a number of seconds greater than 0, got 0',
      'hb.yaml:4: hosts.db1.grace: expected a number of seconds, 0 or more, got "soon"',
      'hb.yaml:5: hosts.db2: expected a map with interval and/or grace, got 5',
    ]);
  });

  it('list items', () => {
    expect(problems(['dyndomains:', '  - a.example', '  - not a domain'])).toEqual([
      'hb.yaml:3: dyndomains[1]: expected a domain name, got "not a domain"',
    ]);
  });
});

describe('several problems', () => {
  it('are all reported at once, and the error message lists them all', () => {
    const error = rejection([
      'hb_port: abc',
      'interval: 0',
      'hosts:',
      '  web1: {grace: -1}',
      'tls_key: k.pem',
    ]);
    expect(error.problems).toEqual([
      'hb.yaml:1: hb_port: expected an integer from 0 to 65535, got "abc"',
      'hb.yaml:2: interval: expected a number of seconds greater than 0, got 0',
      'hb.yaml:4: hosts.web1.grace: expected a number of seconds, 0 or more, got -1',
      'hb.yaml:5: tls_key: tls_cert is not set; set both tls_cert and tls_key, or neither',
    ]);
    expect(error.message).toBe(error.problems.join('\n'));
    expect(error.name).toBe('ConfigError');
  });
});

describe('the file as a whole', () => {
  it('YAML syntax errors give file:line:column, every one of them', () => {
    const found = problems(['hb_port: 1', 'hb_port: 2', 'hosts: [a', '']);
    expect(found).toHaveLength(2);
    expect(found[0]).toBe('hb.yaml:2:1: Map keys must be unique');
    expect(found[1]).toMatch(/^hb\.yaml:4:1: /);
  });

  it('a top level that is not a map is an error', () => {
    expect(problems(['- hb_port: 1'])).toEqual(['hb.yaml:1: expected a map of settings, got a list']);
    expect(problems(['', 'hb_port'])).toEqual(['hb.yaml:2: expected a map of settings, got "hb_port"']);
  });
});

describe('tls_cert and tls_key', () => {
  it('are both set or neither', () => {
    expect(parse([]).config).toMatchObject({ tls_cert: null, tls_key: null });
    expect(parse(['tls_cert: cert.pem', 'tls_key: /keys/key.pem']).config).toMatchObject({
      tls_cert: '/etc/hbd/cert.pem',
      tls_key: '/keys/key.pem',
    });
  });

  it('one without the other is an error naming both', () => {
    expect(problems(['tls_cert: cert.pem'])).toEqual([
      'hb.yaml:1: tls_cert: tls_key is not set; set both tls_cert and tls_key, or neither',
    ]);
    expect(problems(['tls_cert: null', 'tls_key: key.pem'])).toEqual([
      'hb.yaml:2: tls_key: tls_cert is not set; set both tls_cert and tls_key, or neither',
    ]);
  });
});

describe('secrets', () => {
  it('api_token is null or at least 16 characters', () => {
    expect(parse(['api_token: 0123456789abcdef']).config.api_token).toBe('0123456789abcdef');
    expect(problems(['api_token: hunter2'])).toEqual([
      'hb.yaml:1: api_token: expected null or a token of at least 16 characters, got a 7-character string',
    ]);
  });

  it('read_token is null or at least 16 characters, and not the api_token', () => {
    expect(parse(['read_token: 0123456789abcdef']).config.read_token).toBe('0123456789abcdef');
    expect(problems(['read_token: hunter2'])).toEqual([
      'hb.yaml:1: read_token: expected null or a token of at least 16 characters, got a 7-character string',
    ]);
    const same = problems(['api_token: 0123456789abcdef', 'read_token: 0123456789abcdef']);
    expect(same).toEqual([
      'hb.yaml:2: read_token: must differ from api_token: the read token is for those who may only read',
    ]);
    expect(same.join('\n')).not.toContain('0123456789abcdef');
  });

  it('are described in messages, never shown', () => {
    const found = problems(['api_token: hunter2', 'keys:', '  web1: {k1: 12345}']).join('\n');
    expect(found).not.toContain('hunter2');
    expect(found).not.toContain('12345');
    expect(found).toContain('keys.web1.k1: expected a non-empty secret string, got a number');
  });
});
