import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { type RunningDaemon, startDaemon } from '../../src/daemon/start.js';
import type { Clock } from '../../src/lib/clock.js';

export interface TestDaemon {
  daemon: RunningDaemon;
  config: Config;
  dir: string;
  /** Every log line, parsed. */
  logs: Record<string, unknown>[];
  /** The daemon's logger (its level follows `log_level` on reload). */
  log: Logger;
  url(path: string): string;
  send(datagram: string | Uint8Array): Promise<void>;
  /** Stops and starts again on the same state file and ports-0 config. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Config keys as in hb.yaml. Ports default to 0 (any free port), state to a temp dir. */
export type TestConfig = Record<string, unknown>;

/**
 * Starts a real hbd in this process: real UDP socket, real HTTP server, real SQLite file. On a
 * `clock` (a ManualClock) deadlines and group waits pass only when the test says so.
 */
export async function startTestDaemon(
  overrides: TestConfig = {},
  dir = mkdtempSync(join(tmpdir(), 'hbd-')),
  clock?: Clock,
) {
  const text = stringify({
    hb_host: '127.0.0.1',
    hb_port: 0,
    hbd_host: '127.0.0.1',
    hbd_port: 0,
    pickfile: join(dir, 'state.sqlite'),
    ...overrides,
  });
  const { config } = parseConfig(text, { sourceName: 'test.yaml', baseDir: dir, env: {}, home: dir });
  const logs: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _encoding, done) {
        logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    }),
  );
  const client = dgram.createSocket('udp4');
  const handle: TestDaemon = {
    daemon: await startDaemon(config, { log, clock }),
    config,
    dir,
    logs,
    log,
    url: (path) => `${handle.daemon.http.url}${path}`,
    send: (datagram) =>
      new Promise((resolve, reject) =>
        client.send(datagram, handle.daemon.udp.port, '127.0.0.1', (error) =>
          error ? reject(error) : resolve(),
        ),
      ),
    async restart() {
      await handle.daemon.stop();
      handle.daemon = await startDaemon(config, { log, clock });
    },
    async stop() {
      await handle.daemon.stop();
      client.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}

/** Polls until `check` stops throwing (or returns true), or fails with its last error. */
export { eventually } from './eventually.js';

export async function getJson<T = unknown>(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}
