import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runHbd } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/server-process.js';

// These run the built CLI (dist/).

const TOKEN = 'an-api-token-for-the-cli-0123';
const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CERT = join(fixtures, 'tls-cert.pem');
const KEY = join(fixtures, 'tls-key.pem');

/** Every command that talks to a running hbd, with what it needs to get as far as calling it. */
const API_COMMANDS = [
  ['hosts'],
  ['silences'],
  ['silence', 'web1', '1h'],
  ['unsilence', '3'],
  ['dns', 'sync'],
  ['forget', 'web1'],
  ['events'],
  ['events', '--follow'],
];

let hbd: TestDaemon | undefined;
let stranger: Server | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
  await new Promise((resolve) => (stranger ? stranger.close(resolve) : resolve(undefined)));
  stranger = undefined;
});

const refused = (url: string) =>
  `cannot reach hbd at ${url}: connection refused (is it running? --url URL)\n`;

describe('a command that talks to the API, when hbd is not running', () => {
  it('says so in one line, naming the address and the option to give another, and exits 1', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const results = await Promise.all(
      API_COMMANDS.map((args) => runHbd([...args, '--url', url, '--token', TOKEN])),
    );
    results.forEach((result, i) => {
      expect({ command: API_COMMANDS[i], ...result }).toEqual({
        command: API_COMMANDS[i],
        code: 1,
        stdout: '',
        stderr: refused(url),
      });
    });
  }, 60_000);

  it('takes the address from the config when there is no --url', async () => {
    const port = await freePort();
    const config = join(mkdtempSync(join(tmpdir(), 'hbd-cli-')), 'cli.yaml');
    writeFileSync(config, `hbd_host: "::"\nhbd_port: ${port}\napi_token: ${TOKEN}\n`, { mode: 0o600 });
    const [hosts, silence] = await Promise.all([
      runHbd(['hosts', '-c', config]),
      runHbd(['silence', 'web1', '1h', '-c', config]),
    ]);
    // A wildcard bind is reached on loopback.
    expect(hosts).toEqual({ code: 1, stdout: '', stderr: refused(`http://127.0.0.1:${port}`) });
    expect(silence).toEqual({ code: 1, stdout: '', stderr: refused(`http://127.0.0.1:${port}`) });
    rmSync(join(config, '..'), { recursive: true, force: true });
  });
});

describe('other reasons hbd cannot be reached get their own words', () => {
  it('a certificate this machine does not trust: TLS, and how to trust it; plain HTTP to HTTPS', async () => {
    hbd = await startTestDaemon({ tls_cert: CERT, tls_key: KEY });
    const url = hbd.url('');
    expect(url).toMatch(/^https:/);
    const plainUrl = url.replace('https:', 'http:');
    const [untrusted, trusted, plain, follow] = await Promise.all([
      runHbd(['hosts', '--url', url]),
      runHbd(['hosts', '--url', url], { NODE_EXTRA_CA_CERTS: CERT }),
      runHbd(['hosts', '--url', plainUrl]),
      runHbd(['events', '--follow', '--url', url]),
    ]);
    const tls = `cannot reach hbd at ${url}: TLS failed: its certificate is self-signed (trust its CA with NODE_EXTRA_CA_CERTS=FILE, or use the name in the certificate)\n`;
    expect(untrusted).toEqual({ code: 1, stdout: '', stderr: tls });
    expect(follow).toEqual({ code: 1, stdout: '', stderr: tls });
    expect(trusted).toMatchObject({
      code: 0,
      stdout: 'HOST  STATE  STATUS  ADDRESS  LAST SEEN  MESSAGE\n0 host(s)\n',
    });
    expect(plain).toEqual({
      code: 1,
      stdout: '',
      stderr: `cannot reach hbd at ${plainUrl}: the connection was closed without an answer (does hbd serve HTTPS there? try https://; --url URL)\n`,
    });
  });

  it('HTTPS to an hbd that serves plain HTTP, and something that is not hbd', async () => {
    hbd = await startTestDaemon();
    const httpsUrl = hbd.url('').replace('http:', 'https:');
    stranger = createServer((_request, response) => response.end('<html>a printer</html>'));
    await new Promise<void>((resolve) => stranger!.listen(0, '127.0.0.1', resolve));
    const strangerUrl = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}`;
    const [https, other] = await Promise.all([
      runHbd(['hosts', '--url', httpsUrl]),
      runHbd(['status', '--url', strangerUrl]),
    ]);
    expect(https).toEqual({
      code: 1,
      stdout: '',
      stderr: `cannot reach hbd at ${httpsUrl}: TLS failed: nothing speaks HTTPS there (does hbd serve plain HTTP? try http://; --url URL)\n`,
    });
    expect(other).toEqual({
      code: 3,
      stdout: '',
      stderr: `cannot reach hbd at ${strangerUrl}: what answers there is not hbd (it did not answer JSON; --url URL)\n`,
    });
  });

  it("hbd's own refusals keep hbd's words, prefixed once with what failed", async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    const url = hbd.url('');
    const [badFilter, wrongToken] = await Promise.all([
      runHbd(['hosts', '--url', url, '--state', 'dead']),
      runHbd(['dns', 'sync', '--url', url, '--token', 'a-wrong-token-for-the-cli-01']),
    ]);
    expect(badFilter).toEqual({
      code: 1,
      stdout: '',
      stderr: `hbd: cannot read hosts from ${url}: 400: state: expected a comma-separated list of up, late, down, left, got "dead"\n`,
    });
    expect(wrongToken).toEqual({
      code: 1,
      stdout: '',
      stderr: 'hbd: dns sync failed: 401: wrong api token\n',
    });
  });
});
