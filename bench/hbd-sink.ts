/**
 * Child process: the real daemon (startDaemon: UDP socket, pipeline, state, SQLite store,
 * HTTP server), reporting its ingest counters to the orchestrator.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { type RunningDaemon, startDaemon } from '../src/daemon/start.js';
import { benchConfig } from './daemon-config.js';
import { serveParent } from './ipc.js';
import { startProbe } from './probe.js';

let daemon: RunningDaemon | undefined;
/** `HBD_BENCH_CPU_PROF=DIR`: the daemon's CPU profile over the whole run goes there (open it in DevTools). */
const profileDir = process.env.HBD_BENCH_CPU_PROF;
let profiler: Session | undefined;
let profileName = '';
/** hbd only logs the granted receive buffer when it is short of the request. */
let grantedBufferSize: number | undefined;

const probe = startProbe();

/** Keeps the bench output readable: captures the buffer warning, passes real errors on to stderr. */
const logStream = new Writable({
  write(chunk, _encoding, done) {
    const line = JSON.parse(String(chunk)) as { level: number; granted?: number; msg?: string };
    if (typeof line.granted === 'number') grantedBufferSize = line.granted;
    else if (line.level >= 50) process.stderr.write(`hbd: ${line.msg}\n`);
    done();
  },
});

serveParent({
  async start(body) {
    const {
      dir,
      auth,
      keys,
      receiveBufferSize,
      config: more,
    } = body as {
      dir: string;
      auth: string;
      keys: Record<string, string>;
      receiveBufferSize: number;
      /** More config keys, e.g. `limits` (the isolation bench raises them). */
      config?: Record<string, unknown>;
    };
    if (profileDir) {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.start');
      profileName = `hbd-${auth}-${Date.now()}.cpuprofile`;
    }
    const config = benchConfig(dir, { auth, keys, udp_rcvbuf: receiveBufferSize, ...more });
    daemon = await startDaemon(config, { log: pino({ level: 'warn' }, logStream) });
    return {
      port: daemon.udp.port,
      url: daemon.http.url,
      grantedBufferSize: grantedBufferSize ?? receiveBufferSize,
    };
  },
  counters() {
    if (!daemon) throw new Error('start first');
    const { stats } = daemon;
    const dropped = Object.fromEntries(Object.entries(stats.dropped).filter(([, count]) => count > 0));
    return {
      received: stats.received,
      accepted: stats.accepted,
      dropped,
      hosts: daemon.monitor.table.size,
      rss: process.memoryUsage.rss(),
    };
  },
  probe,
  async stop() {
    await daemon?.stop();
    daemon = undefined;
    if (profiler && profileDir) {
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(join(profileDir, profileName), JSON.stringify(profile));
      profiler.disconnect();
    }
    return {};
  },
});
