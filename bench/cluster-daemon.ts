/**
 * Child process: one hbd node of the cluster bench (startDaemon with the config it is given,
 * SQLite or PostgreSQL), reporting its ingest counters, its CPU, and when it took the lead.
 * The orchestrator kills it with SIGKILL for the failover trials: this process is the node.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { type RunningDaemon, startDaemon } from '../src/daemon/start.js';
import { benchConfig } from './daemon-config.js';
import { serveParent } from './ipc.js';
import { startProbe } from './probe.js';

/** What cluster-node.ts logs once a node has taken over. */
const LEADS = 'leads the cluster now';

let daemon: RunningDaemon | undefined;
let node = 'hbd';
/** Wall-clock times (ms) this node logged that it leads, oldest first. */
const ledAt: number[] = [];
let grantedBufferSize: number | undefined;
/** The latest warnings, to explain a misbehaving cluster in the bench's output. */
const warnings: string[] = [];
const MAX_WARNINGS = 20;

const probe = startProbe();

const logStream = new Writable({
  write(chunk, _encoding, done) {
    const text = String(chunk);
    // Most lines are routine: parse only the ones the bench reads.
    if (text.includes(LEADS)) ledAt.push(Date.now());
    if (text.includes('"level":40') || text.includes('"level":50') || text.includes('"level":60')) {
      const line = JSON.parse(text) as { level: number; granted?: number; msg?: string };
      if (typeof line.granted === 'number') grantedBufferSize = line.granted;
      else {
        if (warnings.length === MAX_WARNINGS) warnings.shift();
        warnings.push(`${new Date().toISOString()} ${line.msg}`);
        if (line.level >= 50) process.stderr.write(`hbd node ${node}: ${line.msg}\n`);
      }
    }
    done();
  },
});

serveParent({
  async start(body) {
    const { dir, config, name } = body as { dir: string; name: string; config: Record<string, unknown> };
    node = name;
    const parsed = benchConfig(dir, config);
    daemon = await startDaemon(parsed, { log: pino({ level: parsed.log_level }, logStream) });
    return {
      pid: process.pid,
      port: daemon.udp.port,
      url: daemon.http.url,
      grantedBufferSize: grantedBufferSize ?? parsed.udp_rcvbuf,
    };
  },
  counters() {
    if (!daemon) throw new Error('start first');
    const { stats } = daemon;
    const dropped = Object.fromEntries(Object.entries(stats.dropped).filter(([, count]) => count > 0));
    return { accepted: stats.accepted, dropped, hosts: daemon.monitor.table.size };
  },
  probe,
  leadership() {
    return { ledAt, warnings };
  },
  async stop() {
    await daemon?.stop();
    daemon = undefined;
    return {};
  },
});
