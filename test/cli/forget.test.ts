import { afterEach, describe, expect, it } from 'vitest';
import { runHbd } from '../helpers/cli.js';
import { eventually, getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

// These run the built CLI (dist/) against a real hbd.

const TOKEN = 'an-api-token-for-forget-0123';
const READ_TOKEN = 'a-read-token-for-forget-0123';
/** No token from the environment of whoever runs the tests. */
const noTokenInEnv = { HBD_API_TOKEN: '' };

let hbd: TestDaemon | undefined;
afterEach(async () => {
  await hbd?.stop();
  hbd = undefined;
});

const hostNames = async () =>
  (await getJson<{ name: string }[]>(hbd!.url('/api/hosts'))).body.map((h) => h.name);

describe('hbd forget', () => {
  it('forgets a host with the API token, and says so; a host it does not know is exit 1', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN, read_token: READ_TOKEN });
    await hbd.send('web1');
    await hbd.send('web2');
    await eventually(async () => expect(await hostNames()).toEqual(['web1', 'web2']));
    const url = hbd.url('');

    expect(await runHbd(['forget', 'WEB1', '--url', url, '--token', TOKEN], noTokenInEnv)).toEqual({
      code: 0,
      stdout: 'forgot web1\n',
      stderr: '',
    });
    expect(await hostNames()).toEqual(['web2']);

    expect(await runHbd(['forget', 'web1', '--url', url], { HBD_API_TOKEN: TOKEN })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'hbd: forget: hbd knows no host named "web1" (see hbd hosts)\n',
    });
  });

  it('needs a token that may write: none is bad usage (2), a wrong or read-only one a refusal (1)', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN, read_token: READ_TOKEN });
    await hbd.send('web1');
    await eventually(async () => expect(await hostNames()).toEqual(['web1']));
    const url = hbd.url('');
    const [none, wrong, readOnly] = await Promise.all([
      runHbd(['forget', 'web1', '--url', url], noTokenInEnv),
      runHbd(['forget', 'web1', '--url', url, '--token', 'a-wrong-token-for-forget-01'], noTokenInEnv),
      runHbd(['forget', 'web1', '--url', url, '--token', READ_TOKEN], noTokenInEnv),
    ]);
    expect(none).toEqual({
      code: 2,
      stdout: '',
      stderr: expect.stringMatching(
        /^hbd: forget needs the API token: --token, \$HBD_API_TOKEN, or api_token/,
      ),
    });
    expect(wrong).toEqual({ code: 1, stdout: '', stderr: 'hbd: forget failed: 401: wrong api token\n' });
    expect(readOnly).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'hbd: forget failed: 403: the read token cannot write: this call needs api_token or an admin login\n',
    });
    expect(await hostNames()).toEqual(['web1']);
  });
});
