import { describe, expect, it } from 'vitest';
import { parse, problems } from './helpers.js';

describe('HBD_* environment variables override the file', () => {
  it('HBD_<KEY> sets a top-level key; values are YAML, so numbers are numbers', () => {
    const { config } = parse(['hb_port: 6000', 'auth: off'], { HBD_HB_PORT: '7000', HBD_AUTH: 'required' });
    expect(config.hb_port).toBe(7000);
    expect(config.auth).toBe('required');
  });

  it('flow lists and maps are lists and maps, and an empty value is null', () => {
    const { config } = parse(['logfile: hbd.log'], {
      HBD_DYNDOMAINS: '[a.example, b.example]',
      HBD_HISTORY: '{days: 7}',
      HBD_LOGFILE: '',
    });
    expect(config.dyndomains).toEqual(['a.example', 'b.example']);
    expect(config.history).toEqual({ days: 7, max_events: 1_000_000 });
    expect(config.logfile).toBeNull();
  });

  it('text that is not a YAML scalar is taken literally, and quotes force a string', () => {
    const { config } = parse([], { HBD_API_TOKEN: '@dm1n: s3cr3t-t0ken', HBD_HB_HOST: '"10"' });
    expect(config.api_token).toBe('@dm1n: s3cr3t-t0ken');
    expect(config.hb_host).toBe('10');
  });

  it('__ goes one map deeper, creating maps the file does not have', () => {
    const { config } = parse(['journal:', '  path: j.log', '  keep: 9'], {
      HBD_JOURNAL__PATH: '/var/log/hbd/journal',
      HBD_HOSTS__WEB1__INTERVAL: '10',
      HBD_KEYS__WEB1__K2: '0123456789abcdef',
    });
    expect(config.journal).toEqual({ path: '/var/log/hbd/journal', max_bytes: 64 * 1024 * 1024, keep: 9 });
    expect(config.hosts).toEqual({ web1: { interval: 10 } });
    expect(config.keys).toEqual({ web1: { k2: '0123456789abcdef' } });
  });

  it('a map variable is applied before the variables that go inside it', () => {
    const { config } = parse([], { HBD_JOURNAL__KEEP: '1', HBD_JOURNAL: '{path: /j, keep: 3}' });
    expect(config.journal).toEqual({ path: '/j', max_bytes: 64 * 1024 * 1024, keep: 1 });
  });

  it('relative paths from the environment are taken from the config file directory too', () => {
    expect(parse([], { HBD_PICKFILE: 'state.sqlite' }).config.pickfile).toBe('/etc/hbd/state.sqlite');
  });

  it('a bad value names the variable, not the file', () => {
    expect(problems(['hb_port: 6000'], { HBD_HB_PORT: 'many', HBD_HOSTS__WEB1__GRACE: '-1' })).toEqual([
      '$HBD_HB_PORT: expected an integer from 0 to 65535, got "many"',
      '$HBD_HOSTS__WEB1__GRACE: expected a number of seconds, 0 or more, got -1',
    ]);
  });

  it('a problem inside a map variable names the variable and the key within it', () => {
    expect(problems([], { HBD_HISTORY: '{days: 0}' })).toEqual([
      '$HBD_HISTORY: days: expected a number of days greater than 0, got 0',
    ]);
  });

  it('cannot go inside a value that is not a map', () => {
    expect(problems(['journal: j.log'], { HBD_JOURNAL__KEEP: '2' })).toEqual([
      '$HBD_JOURNAL__KEEP: cannot set journal.keep: journal is not a map',
    ]);
  });

  it('unknown variables are warnings with a suggestion, and are ignored', () => {
    const { config, warnings } = parse([], {
      HBD_HB_PROT: '1',
      HBD_JOURNAL__PTH: '/x',
      HBD_HOSTS__WEB1__INTERVALL: '5',
    });
    expect(warnings).toEqual([
      '$HBD_HB_PROT: unknown setting "hb_prot" (ignored); did you mean $HBD_HB_PORT?',
      '$HBD_HOSTS__WEB1__INTERVALL: unknown setting "hosts.web1.intervall" (ignored); did you mean $HBD_HOSTS__WEB1__INTERVAL?',
      '$HBD_JOURNAL__PTH: unknown setting "journal.pth" (ignored); did you mean $HBD_JOURNAL__PATH?',
    ]);
    expect(config.hosts).toEqual({});
    expect(config.journal).toBeNull();
  });

  it('HBD_CONFIG chooses the file and is not a setting; other variables are left alone', () => {
    const { warnings } = parse([], { HBD_CONFIG: '/etc/hbd/hb.yaml', HOME: '/root', hbd_hb_port: '1' });
    expect(warnings).toEqual([]);
  });

  it('can reach inside dns and notify', () => {
    expect(parse([], { HBD_DNS__ZONE: 'lab.example' }).config.dns.zone).toBe('lab.example');
    expect(parse([], { HBD_NOTIFY__GROUP_WAIT: '30' }).config.notify.group_wait).toBe(30);
  });
});
