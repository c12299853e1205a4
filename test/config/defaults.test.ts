import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultNodeName } from '../../src/config/cluster-schema.js';
import { DEFAULT_CONFIG_YAML } from '../../src/config/example.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { CONFIG_DIR, HOME, NOTIFY_DEFAULTS, parse, rejection } from './helpers.js';

const DEFAULTS = {
  hb_host: '::',
  hb_port: 50003,
  hbd_host: '127.0.0.1',
  hbd_port: 50004,
  pickfile: `${HOME}/.local/state/hbd/hbd.sqlite`,
  store: { driver: 'sqlite', options: {} },
  cluster: { node: defaultNodeName(hostname()), lease: 10 },
  logfile: null,
  logfmt: 'text',
  log_level: 'info',
  interval: 60,
  grace: 30,
  auth: 'optional',
  keys: {},
  max_skew: 300,
  unsigned_networks: [
    '127.0.0.0/8',
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '169.254.0.0/16',
    '::1/128',
    'fc00::/7',
    'fe80::/10',
  ],
  limits: {
    max_hosts: 100_000,
    new_hosts_per_minute: 1_000,
    host_bytes: 4_096,
    events_per_host: 10_000,
    status_flap_threshold: 6,
    status_flap_window: 600,
    snapshots_per_minute: 30,
    client_buffer_bytes: 8 * 1024 * 1024,
    client_stall_seconds: 30,
  },
  api_token: null,
  read_token: null,
  auth_users: {},
  read_access: 'public',
  tls_cert: null,
  tls_key: null,
  hosts: {},
  journal: null,
  history: { days: 30, max_events: 1_000_000 },
  udp_rcvbuf: 8 * 1024 * 1024,
  metrics: { host_labels: [], max_hosts: 10_000 },
  pushsrv: 'all',
  dyndomains: [],
  nsupdate_bin: '/usr/bin/nsupdate',
  dns: {
    method: 'rfc2136',
    server: '127.0.0.1',
    port: 53,
    zone: null,
    tsig_name: null,
    tsig_secret: null,
    tsig_file: null,
    tsig_algorithm: 'hmac-sha256',
    ttl: 60,
    on_down: 'keep',
    allow_unsigned: false,
    allow_private: false,
    refresh: 86_400,
    retry_max: 30,
  },
  notify: NOTIFY_DEFAULTS,
  push: {},
  push_ping_key: null,
};

describe('defaults', () => {
  it('are used when there is no config file', () => {
    const { config, warnings, source } = loadConfig({ path: null, env: {}, home: HOME, cwd: '/srv' });
    expect({ config, warnings, source }).toEqual({ config: DEFAULTS, warnings: [], source: null });
  });

  it('are used for an empty file and for a file of comments only', () => {
    expect(parse([]).config).toEqual(DEFAULTS);
    expect(parse(['# nothing set yet', '']).config).toEqual(DEFAULTS);
  });

  it('put the state file under an absolute $XDG_STATE_HOME, and ignore a relative one', () => {
    const pickfile = (XDG_STATE_HOME: string) =>
      loadConfig({ path: null, env: { XDG_STATE_HOME }, home: HOME, cwd: '/srv' }).config.pickfile;
    expect(pickfile('/var/state')).toBe('/var/state/hbd/hbd.sqlite');
    expect(pickfile('state')).toBe(`${HOME}/.local/state/hbd/hbd.sqlite`);
  });

  it('are exactly what the documented example file sets', () => {
    const example = parseConfig(DEFAULT_CONFIG_YAML, {
      sourceName: 'example',
      baseDir: '/etc/hbd',
      env: {},
      home: HOME,
    });
    expect(example.warnings).toEqual([]);
    expect(example.config).toEqual(DEFAULTS);
  });

  it('the example names every key of the schema', () => {
    const keys = DEFAULT_CONFIG_YAML.split('\n')
      .map((line) => /^([a-z_]+):/.exec(line)?.[1])
      .filter((key) => key !== undefined);
    expect(keys).toEqual(Object.keys(DEFAULTS));
  });
});

describe('store', () => {
  it('is a driver name or a map of the driver and its options; a relative path is taken from the file', () => {
    expect(parse(['store: sqlite']).config.store).toEqual({ driver: 'sqlite', options: {} });
    expect(parse(['store: {driver: sqlite, path: state/hbd.sqlite}']).config.store).toEqual({
      driver: 'sqlite',
      options: { path: `${CONFIG_DIR}/state/hbd.sqlite` },
    });
    expect(parse(['store: {driver: sqlite, path: ~/hbd.sqlite}']).config.store.options).toEqual({
      path: `${HOME}/hbd.sqlite`,
    });
  });

  it('names the known drivers for an unknown one, and the key for a bad option', () => {
    expect(rejection(['store: postgres']).problems).toEqual([
      expect.stringMatching(/^hb\.yaml:1: store\.driver: expected one of sqlite, postgresql, got "postgres"/),
    ]);
    expect(rejection(['store: {driver: sqlite, path: 7}']).problems).toEqual([
      expect.stringMatching(/store\.path: expected a file path \(store driver sqlite\)/),
    ]);
    expect(rejection(['store: {driver: sqlite, file: x}']).problems).toEqual([
      'hb.yaml:1: store.file: the sqlite store driver has no such option (it has: path)',
    ]);
    expect(rejection(['store: [sqlite]']).problems).toEqual([
      expect.stringMatching(
        /store: expected a store driver \(sqlite, postgresql\), a URL \(postgresql:\/\/…\), or a map with driver and its options/,
      ),
    ]);
  });
});

describe('the loaded config', () => {
  it('is frozen all the way down', () => {
    const { config } = parse(['hosts:', '  web1: {interval: 10}', 'dyndomains: [a.example]']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.history)).toBe(true);
    expect(Object.isFrozen(config.hosts.web1)).toBe(true);
    expect(Object.isFrozen(config.dyndomains)).toBe(true);
    expect(() => {
      config.hb_port = 1;
    }).toThrow(TypeError);
  });
});
