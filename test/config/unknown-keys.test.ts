import { describe, expect, it } from 'vitest';
import { parse, rejection } from './helpers.js';

describe('unknown keys', () => {
  it('are warnings naming key and line, with the nearest known key as a suggestion', () => {
    const { config, warnings } = parse(['hb_port: 6000', 'hb_prot: 7000', 'intervall: 5', 'colour: blue']);
    expect(warnings).toEqual([
      'hb.yaml:2: unknown key "hb_prot" (ignored); did you mean "hb_port"?',
      'hb.yaml:3: unknown key "intervall" (ignored); did you mean "interval"?',
      'hb.yaml:4: unknown key "colour" (ignored)',
    ]);
    expect(config.hb_port).toBe(6000);
    expect(config.interval).toBe(60);
    expect(config).not.toHaveProperty('colour');
  });

  it('are found inside every known map', () => {
    const { warnings } = parse([
      'hosts:',
      '  web*: {intervall: 10}',
      'journal:',
      '  path: j.log',
      '  max_byte: 8192',
      'history:',
      '  day: 7',
    ]);
    expect(warnings).toEqual([
      'hb.yaml:2: unknown key "hosts.web*.intervall" (ignored); did you mean "hosts.web*.interval"?',
      'hb.yaml:5: unknown key "journal.max_byte" (ignored); did you mean "journal.max_bytes"?',
      'hb.yaml:7: unknown key "history.day" (ignored); did you mean "history.days"?',
    ]);
  });

  it('are not looked for in names the user chooses', () => {
    const { config, warnings } = parse([
      'keys: {web1: {k1: 0123456789abcdef}}',
      'hosts: {anything: {}}',
      'notify: {webhook: {url: "https://hooks.example.org/hbd", headers: {X-Anything: y}}}',
    ]);
    expect(warnings).toEqual([]);
    expect(config.notify.webhook?.headers).toEqual({ 'X-Anything': 'y' });
  });

  it('are looked for inside notify and its channels', () => {
    const { warnings } = parse([
      'notify:',
      '  group_wiat: 5',
      '  mattermost: {url: "https://chat.example.org/hooks/xe3nq6bzy3gqbqrdsjbm9s1pxw", chanel: ops}',
    ]);
    expect(warnings).toEqual([
      'hb.yaml:2: unknown key "notify.group_wiat" (ignored); did you mean "notify.group_wait"?',
      'hb.yaml:3: unknown key "notify.mattermost.chanel" (ignored); did you mean "notify.mattermost.channel"?',
    ]);
  });

  it('are looked for inside dns', () => {
    const { config, warnings } = parse(['dns: {zone: lab.example, servr: 10.0.0.1}']);
    expect(warnings).toEqual(['hb.yaml:1: unknown key "dns.servr" (ignored); did you mean "dns.server"?']);
    expect(config.dns.zone).toBe('lab.example');
  });

  it('do not hide a key named like a property of every object', () => {
    expect(parse(['constructor: 1']).warnings).toEqual(['hb.yaml:1: unknown key "constructor" (ignored)']);
  });

  it('come with the problems when the config is rejected, since a typo often explains them', () => {
    const error = rejection(['journl: j.log', 'interval: 0']);
    expect(error.warnings).toEqual(['hb.yaml:1: unknown key "journl" (ignored); did you mean "journal"?']);
  });
});
