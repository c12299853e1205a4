import { describe, expect, it } from 'vitest';
import { describeReloadChanges } from '../../src/config/reload.js';
import { parse, problems } from '../config/helpers.js';

const UUID = '5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278';

describe('config: push and push_ping_key', () => {
  it('are off by default', () => {
    const { config } = parse([]);
    expect(config.push).toEqual({});
    expect(config.push_ping_key).toBeNull();
  });

  it('take host names in any case, tokens, and optional interval and grace', () => {
    const { config, warnings } = parse([
      'push:',
      `  Backup-DB: {token: ${UUID}, interval: 86400, grace: 3600}`,
      '  ci.nightly: {token: Ab3dE6gH9k}',
      'push_ping_key: fqOOd6-F4MMNuCEnzTU01w',
    ]);
    expect(warnings).toEqual([]);
    expect(config.push).toEqual({
      'backup-db': { token: UUID, interval: 86_400, grace: 3600 },
      'ci.nightly': { token: 'Ab3dE6gH9k' },
    });
    expect(config.push_ping_key).toBe('fqOOd6-F4MMNuCEnzTU01w');
  });

  it('refuse a bad host name, a short or unsafe token, a shared token and a bad ping key, never showing them', () => {
    const found = problems([
      'push:',
      '  bad_name: {token: 0123456789abcdef}',
      '  short: {token: abc123}',
      '  slashed: {token: "abc/def/ghi/jkl"}',
      `  one: {token: ${UUID}}`,
      `  two: {token: ${UUID}}`,
      '  ONE: {token: 9876543210abcdef}',
      '  slow: {token: 9876543210fedcba, interval: 0}',
      'push_ping_key: short',
    ]);
    // In the order of the file's lines.
    expect(found).toEqual([
      'hb.yaml:2: push.bad_name: not a valid host name: 1-253 characters, dot-separated labels of letters, digits and "-"',
      'hb.yaml:3: push.short.token: expected a token of at least 10 letters, digits, "-", "_", "." or "~" ' +
        '(a Healthchecks.io check UUID or an Uptime Kuma push token works as is), got a 6-character string',
      'hb.yaml:4: push.slashed.token: expected a token of at least 10 letters, digits, "-", "_", "." or "~" ' +
        '(a Healthchecks.io check UUID or an Uptime Kuma push token works as is), got a 15-character string',
      'hb.yaml:6: push.two.token: the same token as "one"',
      'hb.yaml:7: push.ONE: same host as "one" (host names ignore case)',
      // Everything under push is described, not shown: most of it is tokens.
      'hb.yaml:8: push.slow.interval: expected a number of seconds greater than 0, got a number',
      'hb.yaml:9: push_ping_key: expected null or a ping key of at least 16 letters, digits, "-", "_", "." or "~", ' +
        'got a 5-character string',
    ]);
    for (const line of found) expect(line).not.toContain(UUID);
  });

  it('refuse a ping key that is also a token: both come first in the URL', () => {
    expect(problems(['push:', `  one: {token: ${UUID}}`, `push_ping_key: ${UUID}`])).toEqual([
      'hb.yaml:3: push_ping_key: is also the token of push host "one"; they share the URL, so they must differ',
    ]);
  });

  it('keep showing what was found for pushsrv, which holds no secret', () => {
    expect(problems(['pushsrv: email'])).toEqual([
      'hb.yaml:1: pushsrv: expected one of pushover, mattermost, signal, all, none, got "email"',
    ]);
  });

  it('warn of a misspelt key, with what was meant', () => {
    const { warnings } = parse(['push:', `  backup: {token: ${UUID}, graec: 3}`, 'push_ping_kye: x']);
    expect(warnings).toEqual([
      'hb.yaml:2: unknown key "push.backup.graec" (ignored); did you mean "push.backup.grace"?',
      'hb.yaml:3: unknown key "push_ping_kye" (ignored); did you mean "push_ping_key"?',
    ]);
  });

  it('are applied on reload', () => {
    const before = parse([]).config;
    const after = parse([`push: {one: {token: ${UUID}}}`, 'push_ping_key: fqOOd6-F4MMNuCEnzTU01w']).config;
    expect(describeReloadChanges(before, after)).toEqual({
      live: ['push', 'push_ping_key'],
      needRestart: [],
    });
  });
});
