/**
 * Child process: the real daemon (startDaemon: HTTP server, push routes, state, SQLite store)
 * with one push host per token, reporting what its push endpoints took.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { type RunningDaemon, startDaemon } from '../src/daemon/start.js';
import { benchConfig } from './daemon-config.js';
import { serveParent } from './ipc.js';
import { pinToCpu } from './pin.js';
import { startProbe } from './probe.js';

let daemon: RunningDaemon | undefined;
const probe = startProbe();

const errorsOnly = new Writable({
  write(chunk, _encoding, done) {
    const line = JSON.parse(String(chunk)) as { level: number; msg?: string };
    if (line.level >= 50) process.stderr.write(`hbd: ${line.msg}\n`);
    done();
  },
});

serveParent({
  async start(body) {
    const { dir, tokens } = body as { dir: string; tokens: string[] };
    // A day between runs, as for a nightly job: nothing goes late while the bench runs.
    const push = Object.fromEntries(
      tokens.map((token, i) => [`job-${i}.bench`, { token, interval: 86_400, grace: 3600 }]),
    );
    const config = benchConfig(dir, { push });
    daemon = await startDaemon(config, { log: pino({ level: 'warn' }, errorsOnly) });
    return { url: daemon.http.url };
  },
  pin(body) {
    return { pinned: pinToCpu((body as { cpu: number }).cpu) };
  },
  counters() {
    if (!daemon) throw new Error('start first');
    const { monitor } = daemon;
    let up = 0;
    for (const slot of monitor.table.slots()) if (monitor.table.getState(slot) === 'up') up++;
    return { ...daemon.push.stats, hosts: monitor.table.size, up };
  },
  probe,
  async stop() {
    await daemon?.stop();
    daemon = undefined;
    return {};
  },
});
