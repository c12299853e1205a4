/**
 * Finding 11 (config and files): `tls_cert` pointing nowhere passed `check-config`, and `serve`
 * then died with ENOENT and a stack trace (exit 1, where other config errors exit 2); a key that
 * did not belong to the certificate went unnoticed the same way; secrets in a config that others
 * can read, and logins over plain HTTP beyond loopback, raised no warning. Run through the built
 * `hbd`, as a user would.
 */
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/passwords.js';
import { runHbd, useHbdSandbox } from '../helpers/cli.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CERT = join(fixtures, 'tls-cert.pem');
const KEY = join(fixtures, 'tls-key.pem');
/** What a stack trace looks like in Node's output. */
const STACK_LINE = /^\s+at .+:\d+:\d+\)?$/m;

const sandbox = useHbdSandbox('hbd-config-files-');
let aliceHash: string;
beforeAll(async () => {
  aliceHash = await hashPassword('alice has a long password');
});

function writeConfig(settings: Record<string, unknown>, mode = 0o600, name = 'hb.yaml'): string {
  const path = join(sandbox.dir, name);
  writeFileSync(
    path,
    stringify({
      hb_host: '127.0.0.1',
      hb_port: 0,
      hbd_host: '127.0.0.1',
      hbd_port: 0,
      pickfile: join(sandbox.dir, 'state.sqlite'),
      logfmt: 'json',
      ...settings,
    }),
  );
  // Explicitly, whatever the umask: the mode is what some of these tests are about.
  chmodSync(path, mode);
  return path;
}

function expectConfigProblem(result: { code: number; stderr: string }, problem: RegExp): void {
  // Both at once, so that a failure shows what hbd printed.
  expect({ code: result.code, stderr: result.stderr }).toEqual({
    code: 2,
    stderr: expect.stringMatching(problem),
  });
  expect(result.stderr).not.toMatch(STACK_LINE);
}

describe('TLS files', () => {
  it('a certificate that is not there: check-config and serve both say so, exit 2, and print no stack', async () => {
    const missing = join(sandbox.dir, 'nowhere', 'cert.pem');
    const config = writeConfig({ tls_cert: missing, tls_key: KEY });
    const problem = new RegExp(`tls_cert: cannot read ${missing} \\(no such file\\)`);
    expectConfigProblem(await runHbd(['check-config', '-c', config]), problem);
    expectConfigProblem(await runHbd(['serve', '-c', config]), problem);
  });

  it('a key that is not the certificate’s: check-config and serve both refuse it with exit 2', async () => {
    const other = join(sandbox.dir, 'other-key.pem');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    writeFileSync(other, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const config = writeConfig({ tls_cert: CERT, tls_key: other });
    const problem = /tls_key: .*other-key\.pem is not the private key of the certificate in .*tls-cert\.pem/;
    expectConfigProblem(await runHbd(['check-config', '-c', config]), problem);
    expectConfigProblem(await runHbd(['serve', '-c', config]), problem);
  });

  it('files swapped or not PEM at all are named as such', async () => {
    const config = writeConfig({ tls_cert: KEY, tls_key: join(fixtures, 'README.md') });
    const result = await runHbd(['check-config', '-c', config]);
    expectConfigProblem(result, /tls_cert: .*tls-key\.pem is not a PEM certificate/);
    expect(result.stderr).toMatch(/tls_key: .*README\.md is not a PEM private key/);
  });

  it('a matching pair passes, and serve answers over HTTPS', async () => {
    const config = writeConfig({ tls_cert: CERT, tls_key: KEY });
    const check = await runHbd(['check-config', '-c', config]);
    expect(check).toMatchObject({ code: 0, stderr: '' });
    const running = await sandbox.serve(['-c', config]);
    expect(running.httpUrl).toMatch(/^https:\/\//);
  });
});

describe('warnings', () => {
  it('a config holding secrets that its group or others can read: the file is named, with chmod 600', async () => {
    const config = writeConfig({ api_token: 'a-long-enough-api-token-0123' }, 0o644);
    const check = await runHbd(['check-config', '-c', config]);
    expect(check.code).toBe(0);
    expect(check.stderr).toContain(
      `warning: ${config}: holds secrets (api_token) and its group and others can read it (mode 0644); run chmod 600 ${config}`,
    );
    const running = await sandbox.serve(['-c', config]);
    const warning = await running.waitForLog((line) => /holds secrets/.test(String(line.msg)));
    expect(warning.msg).toContain('chmod 600');

    chmodSync(config, 0o640);
    expect((await runHbd(['check-config', '-c', config])).stderr).toMatch(
      /its group can read it \(mode 0640\)/,
    );
    chmodSync(config, 0o600);
    expect((await runHbd(['check-config', '-c', config])).stderr).toBe('');
    // Without secrets, a readable file is nobody's business.
    const plain = writeConfig({ interval: 30 }, 0o644);
    expect((await runHbd(['check-config', '-c', plain])).stderr).toBe('');
  });

  it('logins over plain HTTP beyond loopback are warned about; over HTTPS or on loopback they are not', async () => {
    const users = { alice: { password: aliceHash, role: 'admin' } };
    const exposed = await runHbd(['check-config', '-c', writeConfig({ hbd_host: '::', auth_users: users })]);
    expect(exposed.code).toBe(0);
    expect(exposed.stderr).toMatch(
      /warning: auth_users: logins are served over plain HTTP on hbd_host "::", beyond loopback: .*set tls_cert and tls_key/,
    );
    const quiet = [
      { hbd_host: '::', auth_users: users, tls_cert: CERT, tls_key: KEY },
      { hbd_host: '127.0.0.1', auth_users: users },
      { hbd_host: '::1', auth_users: users },
      { hbd_host: '0.0.0.0' },
    ];
    const results = await Promise.all(
      quiet.map((settings, i) =>
        runHbd(['check-config', '-c', writeConfig(settings, 0o600, `quiet${i}.yaml`)]),
      ),
    );
    expect(results.map((result) => [result.code, result.stderr])).toEqual(quiet.map(() => [0, '']));
  });
});
