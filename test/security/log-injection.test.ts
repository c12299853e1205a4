/**
 * Finding 8: a heartbeat field with a newline and ESC bytes became a notification title's group
 * prefix (notify.group_by), and the title was logged raw when the channel refused the message:
 * a forged log line, and escape sequences played to whoever tails the log. Providers' error
 * answers were logged raw too. Here with hbd's own logger writing a file, in both formats.
 */
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatTable } from '../../src/cli/table.js';
import { parseConfig } from '../../src/config/load.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon/start.js';
import { createLog, type LogOptions } from '../../src/lib/log.js';
import { inertLine } from '../../src/lib/log-inert.js';
import { encodeHeartbeat, type HeartbeatInput } from '../../src/protocol/encode.js';
import { eventually } from '../helpers/daemon.js';
import {
  type MattermostRequest,
  STANDIN_MATTERMOST_HOOK,
  startMattermostStandin,
} from '../helpers/standins/mattermost.js';
import type { Standin } from '../helpers/standins/webhook.js';

const FORGED = '[2026-12-04 12:00:00.000] INFO: all hosts are up';
/** The group value: ends its log line, starts a forged one, and turns the terminal red. */
const SITE = `fra\n${FORGED}\u001b[31m`;
/** The provider's refusal: the same tricks, plus C1, DEL, a line separator and a bidi override, at length. */
const REFUSAL = `Invalid webhook.\r\n${FORGED}\u001b[2J\u009b\u007f\u2028\u202e${'x'.repeat(2000)}`;
/** Anything that acts instead of showing; a text log line may end in its own newline only. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const client = dgram.createSocket('udp4');
afterAll(() => client.close());

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Running {
  daemon: RunningDaemon;
  logFile: string;
  mattermost: Standin<MattermostRequest>;
}

async function start(format: LogOptions['format']): Promise<Running> {
  const mattermost = await startMattermostStandin();
  cleanups.push(() => mattermost.close());
  const dir = mkdtempSync(join(tmpdir(), 'hbd-log-injection-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  const text = stringify({
    hb_host: '127.0.0.1',
    hb_port: 0,
    hbd_host: '127.0.0.1',
    hbd_port: 0,
    pickfile: join(dir, 'state.sqlite'),
    notify: {
      restart_grace: 0,
      group_wait: 0,
      group_by: 'site',
      mattermost: { url: `${mattermost.url}/hooks/${STANDIN_MATTERMOST_HOOK}` },
    },
  });
  const { config } = parseConfig(text, { sourceName: 'test.yaml', baseDir: dir, env: {}, home: dir });
  const logFile = join(dir, 'hbd.log');
  const logging = createLog({ format, level: 'debug', file: logFile });
  const daemon = await startDaemon(config, { log: logging.log });
  cleanups.push(() => daemon.stop());
  return { daemon, logFile, mattermost };
}

function beat(running: Running, input: Partial<HeartbeatInput>): Promise<void> {
  const datagram = encodeHeartbeat({ host: 'web1', fields: { site: SITE }, ...input });
  return new Promise((resolve, reject) =>
    client.send(datagram, running.daemon.udp.port, '127.0.0.1', (error) =>
      error ? reject(error) : resolve(),
    ),
  );
}

/** web1 reports fail; the channel refuses the message for good (400) with a hostile answer. */
async function provokeRefusal(running: Running): Promise<string[]> {
  await beat(running, { seq: 1 });
  await eventually(async () => (await fetch(`${running.daemon.http.url}/api/hosts/web1`)).status === 200);
  running.mattermost.failNext(
    400,
    1,
    { 'content-type': 'application/json' },
    JSON.stringify({
      id: 'web.incoming_webhook.invalid.app_error',
      message: REFUSAL,
      detailed_error: '',
      status_code: 400,
    }),
  );
  await beat(running, { seq: 2, status: 'fail', msg: `disk full\n${FORGED}` });
  return eventually(() => {
    const lines = readFileSync(running.logFile, 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    lines.pop();
    expect(lines.some((line) => line.includes('failed') && line.includes('Invalid webhook.'))).toBe(true);
    return lines;
  }, 5000);
}

describe('text from heartbeats and providers in log lines', () => {
  it('text format: every record is one line, with no raw control character', async () => {
    const running = await start('text');
    const lines = await provokeRefusal(running);
    for (const line of lines) {
      expect(line, line).not.toMatch(RAW_CONTROL);
      // A record starts with its timestamp; only an error's stack block is indented under it.
      expect(line, line).toMatch(/^(\[\d{4}-\d{2}-\d{2} |\s)/);
      expect(line.startsWith(FORGED)).toBe(false);
    }
    const failed = lines.find((line) => line.includes('Invalid webhook.'))!;
    // The title's group prefix and the provider's answer, shown as escapes.
    expect(failed).toContain('[fra\\n[2026-12-04 12:00:00.000] INFO: all hosts are up\\x1b[31m]');
    expect(failed).toContain('\\x1b[2J\\x9b\\x7f');
    expect(failed).toContain('\\u202e');
    // The provider's answer is bounded, not 2000 characters.
    expect(failed.length).toBeLessThan(800);
  });

  it('json format: every record is one JSON object whose strings hold no control character', async () => {
    const running = await start('json');
    const lines = await provokeRefusal(running);
    const strings = (value: unknown): string[] =>
      typeof value === 'string'
        ? [value]
        : typeof value === 'object' && value !== null
          ? Object.entries(value).flatMap(([key, inner]) => [key, ...strings(inner)])
          : [];
    for (const line of lines) {
      expect(line, line).not.toMatch(RAW_CONTROL);
      const record = JSON.parse(line) as Record<string, unknown>;
      // Decoded too: what `jq -r .msg` prints must not act on a terminal either.
      for (const text of strings(record)) expect(text, line).not.toMatch(RAW_CONTROL);
    }
    const failed = lines
      .map((line) => JSON.parse(line) as { msg?: string })
      .find((r) => r.msg?.includes('Invalid'));
    expect(failed?.msg).toContain('[fra\\n[2026-12-04 12:00:00.000] INFO: all hosts are up\\x1b[31m]');
    expect(failed!.msg!.length).toBeLessThan(800);
  });
});

describe('inertLine', () => {
  it('passes a clean line through untouched, and keeps a "__proto__" key a key', () => {
    const clean = '{"level":30,"msg":"web1 is down"}\n';
    expect(inertLine(clean)).toBe(clean);
    const hostile = '{"__proto__":"a\\u001bb","msg":"x\\ny"}\n';
    expect(JSON.parse(inertLine(hostile))).toEqual(JSON.parse('{"__proto__":"a\\\\x1bb","msg":"x\\\\ny"}'));
  });
});

describe('the CLI tables (hbd hosts, hbd silences)', () => {
  it('show a host message with control characters as escapes, one row a line', () => {
    const table = formatTable(['HOST', 'MESSAGE'], [['web1', `disk full\n${FORGED}\u001b[31m`]], 'host');
    expect(table).toBe(
      'HOST  MESSAGE\nweb1  disk full\\n[2026-12-04 12:00:00.000] INFO: all hosts are up\\x1b[31m\n1 host(s)\n',
    );
  });
});
