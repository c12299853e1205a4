import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, locateConfigFile } from '../../src/config/load.js';

let root: string;
let home: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'hbd-config-'));
  home = join(root, 'home');
  mkdirSync(home);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('locateConfigFile', () => {
  it('prefers -c, then $HBD_CONFIG, then ~/.hb.yaml', () => {
    writeFileSync(join(home, '.hb.yaml'), '');
    const env = { HBD_CONFIG: '/etc/hbd/hb.yaml' };
    expect(locateConfigFile({ cliPath: 'mine.yaml', env, home })).toBe('mine.yaml');
    expect(locateConfigFile({ cliPath: undefined, env, home })).toBe('/etc/hbd/hb.yaml');
    expect(locateConfigFile({ env: {}, home })).toBe(join(home, '.hb.yaml'));
  });

  it('returns null, meaning built-in defaults, when there is no ~/.hb.yaml', () => {
    expect(locateConfigFile({ cliPath: null, env: { HBD_CONFIG: '' }, home })).toBeNull();
  });

  it('returns a named file even if it does not exist, so that loading it fails loudly', () => {
    expect(locateConfigFile({ cliPath: join(root, 'missing.yaml'), env: {}, home })).toBe(
      join(root, 'missing.yaml'),
    );
  });
});

describe('loadConfig', () => {
  it('reads the file, relative to cwd, and reports its absolute path as the source', () => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(join(root, 'etc', 'hb.yaml'), 'hb_port: 6000\n');
    const loaded = loadConfig({ path: 'etc/hb.yaml', env: {}, home, cwd: root });
    expect(loaded.config.hb_port).toBe(6000);
    expect(loaded.source).toBe(join(root, 'etc', 'hb.yaml'));
  });

  it('takes relative paths from the config file directory, and ~ from home', () => {
    mkdirSync(join(root, 'etc'));
    writeFileSync(
      join(root, 'etc', 'hb.yaml'),
      [
        'pickfile: state/hbd.sqlite',
        'logfile: ../log/hbd.log',
        'tls_cert: ~/tls/cert.pem',
        'tls_key: /abs/key.pem',
        'journal: journal.log',
      ].join('\n'),
    );
    const { config } = loadConfig({ path: join(root, 'etc', 'hb.yaml'), env: {}, home, cwd: '/' });
    expect(config.pickfile).toBe(join(root, 'etc', 'state', 'hbd.sqlite'));
    expect(config.logfile).toBe(join(root, 'log', 'hbd.log'));
    expect(config.tls_cert).toBe(join(home, 'tls', 'cert.pem'));
    expect(config.tls_key).toBe('/abs/key.pem');
    expect(config.journal?.path).toBe(join(root, 'etc', 'journal.log'));
  });

  it('takes relative paths from cwd when there is no file', () => {
    const { config } = loadConfig({ path: null, env: { HBD_PICKFILE: 'hbd.sqlite' }, home, cwd: root });
    expect(config.pickfile).toBe(join(root, 'hbd.sqlite'));
  });

  it('names the file as given in messages', () => {
    writeFileSync(join(root, 'hb.yaml'), '# ports\nhb_port: abc\n');
    expect(() => loadConfig({ path: 'hb.yaml', env: {}, home, cwd: root })).toThrow(
      'hb.yaml:2: hb_port: expected an integer from 0 to 65535, got "abc"',
    );
  });

  it('a file that cannot be read is a ConfigError', () => {
    let error: unknown;
    try {
      loadConfig({ path: 'missing.yaml', env: {}, home, cwd: root });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^missing\.yaml: cannot read the config file: ENOENT/),
    ]);
  });
});
