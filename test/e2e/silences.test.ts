import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SilenceJson } from '../../src/http/silence-routes.js';
import { runHbd, useHbdSandbox } from '../helpers/cli.js';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { freePort } from '../helpers/server-process.js';

const TOKEN = 'a-token-for-the-silence-tests';
const HOUR = 3_600_000;

interface ListBody {
  silences: SilenceJson[];
}

describe('the silences API', () => {
  let hbd: TestDaemon | undefined;
  afterEach(async () => {
    await hbd?.stop();
    hbd = undefined;
  });

  const post = (body: unknown, token: string | null = TOKEN) =>
    getJson<{ silence: SilenceJson; error: string }>(hbd!.url('/api/silences'), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const remove = (id: number | string, token: string | null = TOKEN) =>
    getJson<{ ok: boolean; removed: number; error: string }>(hbd!.url(`/api/silences/${id}`), {
      method: 'DELETE',
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
  const list = async () => (await getJson<ListBody>(hbd!.url('/api/silences'))).body.silences;

  it('refuses a body of more than 8 KiB without reading it, and one without the token before that', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    const huge = { pattern: 'web1', duration: '1h', reason: 'x'.repeat(9000) };
    expect(await post(huge)).toEqual({
      status: 413,
      body: { error: 'a silence body is at most 8192 bytes' },
    });
    expect((await post(huge, null)).status).toBe(401);
    expect(await list()).toEqual([]);
  });

  it('adds a silence with the token, lists it publicly, and the daemon mutes matching hosts', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    expect(await list()).toEqual([]);
    const before = Date.now();
    const created = await post({ pattern: 'Web*', duration: '2h', reason: 'kernel upgrade' });
    expect(created.status).toBe(201);
    const { silence } = created.body;
    expect(silence).toEqual({
      id: expect.any(Number),
      pattern: 'web*',
      until: new Date(silence.until_ms).toISOString(),
      until_ms: expect.any(Number),
      reason: 'kernel upgrade',
      created: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(silence.until_ms - Date.parse(silence.created)).toBe(2 * HOUR);
    expect(Date.parse(silence.created)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(silence.created)).toBeLessThanOrEqual(Date.now());

    const seconds = await post({ pattern: 'db1', duration: 90 });
    expect(seconds.status).toBe(201);
    expect(seconds.body.silence.until_ms - Date.parse(seconds.body.silence.created)).toBe(90_000);
    expect(seconds.body.silence.reason).toBeNull();

    expect((await list()).map((s) => s.pattern)).toEqual(['db1', 'web*']);
    expect(hbd.daemon.silences.matching('web3')?.id).toBe(silence.id);
    expect(hbd.daemon.silences.matching('db1')?.id).toBe(seconds.body.silence.id);
    expect(hbd.daemon.silences.matching('mail1')).toBeUndefined();
  });

  it('adding and removing need the right token; without api_token they are refused', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    const anonymous = await post({ pattern: 'web1', duration: '1h' }, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatch(/Bearer/);
    expect((await post({ pattern: 'web1', duration: '1h' }, 'not-the-token')).status).toBe(401);
    expect(await list()).toEqual([]);

    const { silence } = (await post({ pattern: 'web1', duration: '1h' })).body;
    expect((await remove(silence.id, null)).status).toBe(401);
    expect((await remove(silence.id, 'not-the-token')).status).toBe(401);
    expect((await list()).map((s) => s.id)).toEqual([silence.id]);
    await hbd.stop();

    hbd = await startTestDaemon();
    const disabled = await post({ pattern: 'web1', duration: '1h' });
    expect(disabled.status).toBe(403);
    expect(disabled.body.error).toMatch(/api_token/);
    expect((await remove(1)).status).toBe(403);
  });

  it('answers 400 naming the field for a bad body, and stores nothing', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    const cases: [unknown, RegExp][] = [
      ['{"pattern": ', /^expected a JSON body/],
      ['[1, 2]', /^expected a JSON object/],
      [{ duration: '1h' }, /^pattern: /],
      [{ pattern: 'web 1', duration: '1h' }, /^pattern: .*got "web 1"/],
      [{ pattern: 'a'.repeat(254), duration: '1h' }, /^pattern: expected 1 to 253 characters/],
      [{ pattern: 'web1' }, /^duration: /],
      [
        { pattern: 'web1', duration: 'soon' },
        /^duration: expected a duration such as 30m, 2h or 1d, got "soon"/,
      ],
      [{ pattern: 'web1', duration: 0 }, /^duration: .*longer than zero/],
      [{ pattern: 'web1', duration: -60 }, /^duration: expected a duration/],
      [{ pattern: 'web1', duration: '400d' }, /^duration: .*at most 366d/],
      [{ pattern: 'web1', duration: '1h', reason: 42 }, /^reason: /],
      [{ pattern: 'web1', duration: '1h', reason: 'x'.repeat(501) }, /^reason: expected at most 500/],
      [{ pattern: 'web1', duration: '1h', reasn: 'typo' }, /^unknown field "reasn"/],
    ];
    for (const [body, message] of cases) {
      const response = await post(body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(response.body.error).toMatch(message);
    }
    expect(await list()).toEqual([]);
  });

  it('removes a silence by id, then answers 404 for it; a bad id is a 400', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    const kept = (await post({ pattern: 'db*', duration: '1h' })).body.silence;
    const removed = (await post({ pattern: 'web*', duration: '1h' })).body.silence;
    expect(await remove(removed.id)).toEqual({ status: 200, body: { ok: true, removed: removed.id } });
    expect((await list()).map((s) => s.id)).toEqual([kept.id]);
    expect(hbd.daemon.silences.matching('web1')).toBeUndefined();
    expect(await remove(removed.id)).toEqual({
      status: 404,
      body: { error: `no silence with id ${removed.id}` },
    });
    for (const bad of ['web', '0', '-1', '1.5']) {
      const response = await remove(bad);
      expect(response.status).toBe(400);
      expect(response.body.error).toMatch(/^id: /);
    }
  });

  it('keeps silences across a restart on the same state file', async () => {
    hbd = await startTestDaemon({ api_token: TOKEN });
    const web = (await post({ pattern: 'web*', duration: '1d', reason: 'datacentre move' })).body.silence;
    const db = (await post({ pattern: 'db1', duration: '2h' })).body.silence;
    await hbd.restart();
    expect(await list()).toEqual([db, web]);
    expect(hbd.daemon.silences.matching('web2')?.id).toBe(web.id);
    expect((await remove(db.id)).status).toBe(200);
    await hbd.restart();
    expect(await list()).toEqual([web]);
  });
});

describe('hbd silence, hbd silences, hbd unsilence', () => {
  const sandbox = useHbdSandbox('hbd-silence-cli-');

  function writeConfig(extra: string): string {
    const path = join(sandbox.dir, 'hb.yaml');
    writeFileSync(
      path,
      `hb_host: 127.0.0.1\nhb_port: 0\nhbd_host: 127.0.0.1\npickfile: state.sqlite\nlogfmt: json\n${extra}`,
    );
    return path;
  }

  const noTokenInEnv = { HBD_API_TOKEN: undefined };

  it('adds, lists and removes silences through the API of a running hbd', async () => {
    const running = await sandbox.serve(['serve', '-c', writeConfig(`hbd_port: 0\napi_token: ${TOKEN}\n`)]);
    const url = running.httpUrl;

    const added = await runHbd(
      ['silence', 'web*', '2h', '--reason', 'kernel upgrade', '--url', url, '--token', TOKEN],
      noTokenInEnv,
    );
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const match = /^silenced web\* until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC \(2h\), id (\d+)\n$/.exec(
      added.stdout,
    );
    expect(match).not.toBeNull();
    const [, shownUntil, id] = match!;
    const { body } = await getJson<ListBody>(`${url}/api/silences`);
    expect(body.silences).toHaveLength(1);
    expect(body.silences[0]).toMatchObject({ id: Number(id), pattern: 'web*', reason: 'kernel upgrade' });
    expect(new Date(body.silences[0]!.until_ms).toISOString().slice(0, 16).replace('T', ' ')).toBe(
      shownUntil,
    );

    const second = await runHbd(['silence', 'db1', '1h30m', '--url', url], { HBD_API_TOKEN: TOKEN });
    expect(second.stdout).toMatch(/^silenced db1 until .* UTC \(1h 30m\), id \d+\n$/);

    // Each run starts a node process; those that change nothing run side by side.
    const [table, json] = await Promise.all([
      runHbd(['silences', '--url', url], noTokenInEnv),
      runHbd(['silences', '--json', '--url', url], noTokenInEnv),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(/^ID\s+PATTERN\s+UNTIL\s+REMAINING\s+REASON$/);
    expect(lines[1]).toMatch(/^\d+\s+db1\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\s+1h (29|30)m$/);
    expect(lines[2]).toMatch(
      new RegExp(`^${id}\\s+web\\*\\s+${shownUntil} UTC\\s+(1h 59m|2h)\\s+kernel upgrade$`),
    );
    expect(lines[3]).toBe('2 silence(s)');

    expect((JSON.parse(json.stdout) as SilenceJson[]).map((s) => s.pattern)).toEqual(['db1', 'web*']);

    const [removed, wrongToken] = await Promise.all([
      runHbd(['unsilence', id!, '--url', url, '--token', TOKEN], noTokenInEnv),
      runHbd(['silence', 'web1', '1h', '--url', url, '--token', 'wrong-token'], noTokenInEnv),
    ]);
    expect(removed).toEqual({ code: 0, stdout: `removed silence ${id}\n`, stderr: '' });
    const again = await runHbd(['unsilence', id!, '--url', url, '--token', TOKEN], noTokenInEnv);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`hbd: unsilence failed: 404: no silence with id ${id}\n`);

    expect(wrongToken.code).toBe(1);
    expect(wrongToken.stderr).toBe('hbd: silence failed: 401: wrong api token\n');
    expect((await getJson<ListBody>(`${url}/api/silences`)).body.silences.map((s) => s.pattern)).toEqual([
      'db1',
    ]);
  });

  it('finds the address and the token in the config, and says when there is no silence', async () => {
    // The CLI finds the API from the config, so that config needs a real port.
    const port = await freePort();
    const config = writeConfig(`hbd_port: ${port}\napi_token: ${TOKEN}\n`);
    const running = await sandbox.serve(['serve', '-c', config]);
    const empty = await runHbd(['silences', '-c', config], noTokenInEnv);
    expect(empty).toEqual({ code: 0, stdout: 'no silences in force\n', stderr: '' });
    const added = await runHbd(['silence', 'mail?', '90s', '-c', config], noTokenInEnv);
    expect(added.stdout).toMatch(/^silenced mail\? until .* UTC \(1m 30s\), id \d+\n$/);
    const { body } = await getJson<ListBody>(`${running.httpUrl}/api/silences`);
    expect(body.silences.map((s) => s.pattern)).toEqual(['mail?']);
  });

  it('refuses bad usage with exit code 2 before calling the API', async () => {
    const config = writeConfig('hbd_port: 9\n');
    const commands = ['silence', 'silences', 'unsilence'];
    const [badDuration, noToken, badId, ...helps] = await Promise.all([
      runHbd(['silence', 'web1', 'soon', '--url', 'http://127.0.0.1:9', '--token', TOKEN]),
      runHbd(['silence', 'web1', '1h', '-c', config], noTokenInEnv),
      runHbd(['unsilence', 'web1', '--url', 'http://127.0.0.1:9', '--token', TOKEN]),
      ...commands.map((command) => runHbd([command, '--help'])),
    ]);
    expect(badDuration.code).toBe(2);
    expect(badDuration.stderr).toBe('hbd: silence: expected a duration such as 30m, 2h or 1d, got "soon"\n');
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/silence needs the API token: --token, \$HBD_API_TOKEN, or api_token/);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/^hbd: unsilence: expected the id of a silence/);
    commands.forEach((command, i) => {
      expect(helps[i]!.stdout).toContain(`Usage: hbd ${command}`);
    });
  });
});
