import { describe, expect, it } from 'vitest';
import { describeReloadChanges } from '../../src/config/reload.js';
import { parse } from './helpers.js';

describe('describeReloadChanges', () => {
  it('reports nothing when nothing changed', () => {
    const lines = ['hosts: {web1: {interval: 5}}', 'journal: j.log'];
    expect(describeReloadChanges(parse(lines).config, parse(lines).config)).toEqual({
      live: [],
      needRestart: [],
    });
  });

  it('splits the changed top-level keys into those applied live and those needing a restart', () => {
    const before = parse(['interval: 60', 'hb_port: 50003', 'logfmt: text']).config;
    const after = parse([
      'interval: 30',
      'grace: 5',
      'hosts: {web1: {interval: 5}}',
      'auth: required',
      'keys: {web1: 0123456789abcdef}',
      'max_skew: 10',
      'api_token: 0123456789abcdef',
      'read_token: fedcba9876543210',
      'log_level: debug',
      'history: {days: 7}',
      'hb_host: 0.0.0.0',
      'hb_port: 6000',
      'hbd_host: "::"',
      'hbd_port: 6001',
      'pickfile: /var/lib/hbd.sqlite',
      'tls_cert: c.pem',
      'tls_key: k.pem',
      'logfile: hbd.log',
      'logfmt: json',
      'journal: j.log',
      'udp_rcvbuf: 0',
      'pushsrv: none',
      'dyndomains: [a.example]',
      'nsupdate_bin: /bin/nsupdate',
      'dns: {zone: lab}',
      'notify: {group_wait: 1}',
    ]).config;
    const changes = describeReloadChanges(before, after);
    expect(changes.live.sort()).toEqual(
      [
        'api_token',
        'read_token',
        'auth',
        'grace',
        'history',
        'hosts',
        'interval',
        'keys',
        'log_level',
        'max_skew',
      ].sort(),
    );
    expect(changes.needRestart.sort()).toEqual(
      [
        'dns',
        'dyndomains',
        'hb_host',
        'hb_port',
        'hbd_host',
        'hbd_port',
        'journal',
        'logfile',
        'logfmt',
        'notify',
        'nsupdate_bin',
        'pickfile',
        'pushsrv',
        'tls_cert',
        'tls_key',
        'udp_rcvbuf',
      ].sort(),
    );
  });

  it('compares nested values, not identity', () => {
    const before = parse(['hosts: {web1: {interval: 5}}']).config;
    const after = parse(['hosts: {web1: {interval: 6}}']).config;
    expect(describeReloadChanges(before, after)).toEqual({ live: ['hosts'], needRestart: [] });
  });
});
