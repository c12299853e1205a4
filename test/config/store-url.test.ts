import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runHbd } from '../helpers/cli.js';
import { CONFIG_DIR, HOME, parse, problems } from './helpers.js';

const PASSWORD = 's3cret-Pa55';
const URL = `postgresql://hbd:${PASSWORD}@db.example:5432/hbd`;
const DEFAULTS = { pool_size: 10, statement_timeout: 5, connect_timeout: 5 };

describe('store: a PostgreSQL database', () => {
  it('is a postgresql:// or postgres:// URL, which means the postgresql driver with that url', () => {
    expect(parse([`store: ${URL}`]).config.store).toEqual({
      driver: 'postgresql',
      options: { url: URL, ...DEFAULTS },
    });
    const short = 'postgres://hbd@[::1]/hbd?sslmode=verify-full';
    expect(parse([`store: "${short}"`]).config.store).toEqual({
      driver: 'postgresql',
      options: { url: short, ...DEFAULTS },
    });
  });

  it('is a map of the driver and its options, TLS files taken from the config file like other paths', () => {
    const store = parse([
      'store:',
      '  driver: postgresql',
      `  url: ${URL}`,
      '  pool_size: 20',
      '  statement_timeout: 2.5',
      '  connect_timeout: 1',
      '  tls: {ca: certs/ca.pem, cert: ~/hbd.pem, key: /etc/ssl/hbd.key, reject_unauthorized: false}',
    ]).config.store;
    expect(store).toEqual({
      driver: 'postgresql',
      options: {
        url: URL,
        pool_size: 20,
        statement_timeout: 2.5,
        connect_timeout: 1,
        tls: {
          ca: `${CONFIG_DIR}/certs/ca.pem`,
          cert: `${HOME}/hbd.pem`,
          key: '/etc/ssl/hbd.key',
          reject_unauthorized: false,
        },
      },
    });
    expect(
      parse(['store:', '  driver: postgresql', `  url: ${URL}`, '  tls: {ca: ca.pem}']).config.store.options,
    ).toMatchObject({ tls: { ca: `${CONFIG_DIR}/ca.pem`, reject_unauthorized: true } });
  });

  it('comes from $HBD_STORE as well, in either form', () => {
    expect(parse([], { HBD_STORE: URL }).config.store).toEqual({
      driver: 'postgresql',
      options: { url: URL, ...DEFAULTS },
    });
    expect(parse(['store: sqlite'], { HBD_STORE: URL }).config.store.driver).toBe('postgresql');
    expect(
      parse([], { HBD_STORE: `{driver: postgresql, url: "${URL}", pool_size: 3}` }).config.store,
    ).toEqual({
      driver: 'postgresql',
      options: { url: URL, ...DEFAULTS, pool_size: 3 },
    });
  });

  it('says what is wrong with its options, naming each key', () => {
    expect(problems(['store: {driver: postgresql}'])).toEqual([
      expect.stringMatching(
        /^hb\.yaml:1: store\.url: expected a URL such as postgresql:\/\/user:password@host:5432\/database/,
      ),
    ]);
    expect(problems(['store:', '  driver: postgresql', `  url: ${URL}`, '  pool_size: 0'])).toEqual([
      'hb.yaml:4: store.pool_size: expected an integer from 1 to 1000 (store driver postgresql), got 0',
    ]);
    expect(problems(['store:', '  driver: postgresql', `  url: ${URL}`, '  pool: 3'])).toEqual([
      'hb.yaml:4: store.pool: the postgresql store driver has no such option (it has: url, pool_size, statement_timeout, connect_timeout, tls)',
    ]);
    expect(problems(['store:', '  driver: postgresql', `  url: ${URL}`, '  tls: {cert: c.pem}'])).toEqual([
      expect.stringMatching(/store\.tls: expected both cert and key, or neither/),
    ]);
    expect(
      problems(['store:', '  driver: postgresql', `  url: "${URL}?sslmode=require"`, '  tls: {ca: ca.pem}']),
    ).toEqual([
      expect.stringMatching(
        /store\.tls: set TLS either with tls: or with ssl… parameters in the URL, not both/,
      ),
    ]);
  });

  it('never shows the password of a URL in a problem, wherever the URL was', () => {
    const cases: [string[], Record<string, string>][] = [
      [['store: {driver: postgresql, url: "mysql://hbd:s3cret-Pa55@db/hbd"}'], {}],
      [['store: "postgresq://hbd:s3cret-Pa55@db/hbd"'], {}],
      [['store: "postgresql:/hbd:s3cret-Pa55@db/hbd"'], {}],
      [['store: {driver: postgresql, url: 7}'], {}],
      [[], { HBD_STORE: 'mysql://hbd:s3cret-Pa55@db/hbd' }],
      [[], { HBD_STORE__URL: 'mysql://hbd:s3cret-Pa55@db/hbd', HBD_STORE__DRIVER: 'postgresql' }],
    ];
    for (const [lines, env] of cases) {
      const found = problems(lines, env);
      expect(found).toHaveLength(1);
      expect(found[0]).not.toContain(PASSWORD);
    }
    expect(problems(['store: "postgresq://hbd:s3cret-Pa55@db/hbd"'])).toEqual([
      'hb.yaml:1: store.driver: expected one of sqlite, postgresql, got "postgresq://hbd@db/hbd" (password not shown)',
    ]);
    expect(problems(['store: {driver: postgresql, url: "mysql://hbd:s3cret-Pa55@db/hbd"}'])).toEqual([
      'hb.yaml:1: store.url: expected a URL such as postgresql://user:password@host:5432/database (store driver postgresql)',
    ]);
    // A secret is described, never shown, even when it is no secret at all.
    expect(problems(['store: {driver: postgresql, url: 7}'])).toEqual([
      expect.stringMatching(
        /store\.url: expected a URL such as .* \(store driver postgresql\), got a number$/,
      ),
    ]);
  });

  it('hbd check-config shows no password, for a good URL or a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hbd-store-url-'));
    try {
      const file = join(dir, 'hb.yaml');
      writeFileSync(file, `store: ${URL}\n`);
      chmodSync(file, 0o600);
      const good = await runHbd(['check-config', '-c', file]);
      expect(good).toMatchObject({ code: 0, stdout: `ok: ${file}\n` });
      expect(good.stderr).not.toContain(PASSWORD);
      writeFileSync(
        file,
        `store: {driver: postgresql, url: "postgresq://hbd:${PASSWORD}@db/hbd", pool_size: x}\n`,
      );
      const bad = await runHbd(['check-config', '-c', file]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('store.url');
      expect(bad.stdout + bad.stderr).not.toContain(PASSWORD);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
