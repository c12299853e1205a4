/**
 * `npm run bench`: hbd's ingest speed, memory, deadline bookkeeping, HTTP push pings, and
 * whether readers can starve ingest. The machine may be shared and noisy, so every figure is
 * also given as a ratio to a baseline measured in this same run; the absolute figures only
 * hold for this machine, now.
 *
 * `npm run bench -- push wheel` runs only the sections named (ingest, memory, wheel, push, isolation, decode,
 * cluster).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { killAllChildren } from './ipc.js';
import { measureCluster } from './measure-cluster.js';
import { DECODE_CALLS, DECODE_ROUNDS, measureDecode } from './measure-decode.js';
import { measureHbdIngest } from './measure-hbd.js';
import {
  ISOLATION_HOSTS,
  ISOLATION_RATE,
  LOOPING_CLIENTS,
  measureIsolation,
  measureSnapshotTiming,
  SNAPSHOT_HOSTS,
  STALLED_CLIENTS,
} from './measure-isolation.js';
import { MEMORY_HOSTS, measureMemory } from './measure-memory.js';
import { measureHttpBaseline, measurePushPings, PUSH_CONNECTIONS, PUSH_HOSTS } from './measure-push.js';
import { measureUdpBaseline } from './measure-udp.js';
import { measureWheel, WHEEL_HOSTS } from './measure-wheel.js';
import { MAX_LOSS } from './rate-search.js';
import { formatTable } from './report.js';
import { type BenchResults, buildRows } from './rows.js';
import { INGEST_HOSTS, RECEIVE_BUFFER_BYTES } from './settings.js';

const log = (line: string) => console.log(line);

/** Each section, and the lines of the results table that are its own. */
const SECTIONS: Record<string, readonly string[]> = {
  ingest: ['1.', '2.', '3.'],
  memory: ['4.'],
  wheel: ['5.'],
  push: ['6.'],
  isolation: ['7.', '8.'],
  decode: ['9.'],
  cluster: ['10.'],
};
const selected = process.argv.slice(2);
for (const name of selected) {
  if (!Object.hasOwn(SECTIONS, name)) {
    console.error(`unknown section "${name}": choose among ${Object.keys(SECTIONS).join(', ')}`);
    process.exit(2);
  }
}
const wants = (name: string) => selected.length === 0 || selected.includes(name);
const startedAt = performance.now();
let failures = 0;

/** Runs one measurement; a failure is reported and the others still run. */
async function section<T>(title: string, measure: () => Promise<T>): Promise<T | undefined> {
  const start = performance.now();
  log(`\n== ${title}`);
  try {
    const result = await measure();
    log(`  (${((performance.now() - start) / 1000).toFixed(1)} s)`);
    return result;
  } catch (error) {
    failures++;
    log(`  FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    return undefined;
  } finally {
    killAllChildren();
  }
}

function readSysctl(name: string): number | null {
  try {
    return Number(readFileSync(`/proc/sys/${name.replaceAll('.', '/')}`, 'utf8').trim());
  } catch {
    return null;
  }
}

const machine = {
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model ?? 'unknown',
  loadAverage: os.loadavg().map((load) => Number(load.toFixed(2))),
  rmemMax: readSysctl('net.core.rmem_max'),
};
log('hbd benchmark: everything on 127.0.0.1, each figure also as a ratio to a baseline from this run');
log(
  `node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}), load ${machine.loadAverage.join(' ')}, ` +
    `net.core.rmem_max ${machine.rmemMax ?? 'unknown'} (caps SO_RCVBUF; asked: ${RECEIVE_BUFFER_BYTES})`,
);

const results: BenchResults = { memory: {} };
try {
  const sustained = `sustained rate at < ${MAX_LOSS * 100} % loss`;
  if (wants('ingest'))
    results.udp = await section(`1. baseline: bare Node dgram receiver, ${sustained}`, () =>
      measureUdpBaseline(log),
    );
  if (wants('ingest'))
    results.signed = await section(
      `2. hbd, signed heartbeats (auth: required), ${INGEST_HOSTS} hosts, ${sustained}`,
      () => measureHbdIngest(true, log),
    );
  if (wants('ingest'))
    results.unsigned = await section(
      `3. hbd, unsigned heartbeats (auth: optional), ${INGEST_HOSTS} hosts, ${sustained}`,
      () => measureHbdIngest(false, log),
    );
  for (const [variant, title] of [
    ['map', 'baseline: Map<host name, number>'],
    ['plain', 'hbd state, plain heartbeats'],
    ['extras', 'hbd state, heartbeats with msg and 2 fields'],
  ] as const) {
    if (!wants('memory')) break;
    results.memory[variant] = await section(
      `4. memory per host, ${MEMORY_HOSTS} hosts, ${title}`,
      async () => {
        const report = await measureMemory(variant);
        log(
          `  ${report.bytesPerHost.toFixed(1)} B/host (JS heap ${report.heapBytesPerHost.toFixed(1)}, ` +
            `ArrayBuffers ${report.arrayBufferBytesPerHost.toFixed(1)})`,
        );
        return report;
      },
    );
  }
  if (wants('wheel'))
    results.wheel = await section(`5. deadline wheel, ${WHEEL_HOSTS} hosts, per heartbeat`, async () => {
      const report = await measureWheel();
      log(
        `  wheel ${report.wheelNsPerBeat.toFixed(1)} ns/heartbeat (${report.beatsPerRun} heartbeats and ` +
          `${report.sweepsPerRun} sweeps per run), Map.get ${report.mapGetNsPerBeat.toFixed(1)} ns`,
      );
      return report;
    });
  const pushLoad = `${PUSH_HOSTS} tokens, ${PUSH_CONNECTIONS} connections, autocannon`;
  if (wants('push')) {
    results.httpBaseline = await section(`6. baseline: bare node:http answering 200 OK, ${pushLoad}`, () =>
      measureHttpBaseline(log),
    );
    results.push = await section(`6. hbd push pings, GET /ping/{uuid}, ${pushLoad}`, () =>
      measurePushPings(log),
    );
  }
  if (wants('isolation')) {
    results.isolation = await section(
      `7. hbd, ${ISOLATION_HOSTS} hosts at ${ISOLATION_RATE} signed heartbeats/s: alone, then with ` +
        `${LOOPING_CLIENTS} clients looping /ws snapshots, then with ${STALLED_CLIENTS} /ws clients never reading`,
      () => measureIsolation(log),
    );
    results.snapshotTiming = await section(
      `8. hbd, ${SNAPSHOT_HOSTS} hosts: a full /ws snapshot and a full /api/hosts, one at a time`,
      () => measureSnapshotTiming(log),
    );
  }
  if (wants('decode'))
    results.decode = await section(
      `9. decodeDatagram per datagram: valid plain and zlib heartbeats, a zlib bomb, a zlib header + garbage ` +
        `(best of ${DECODE_ROUNDS} rounds of ${DECODE_CALLS} calls)`,
      async () => {
        const report = await measureDecode();
        log(
          `  ${Object.entries(report.usPerDatagram)
            .map(
              ([name, us]) =>
                `${name} ${us.toFixed(2)} µs (${report.outcome[name as keyof typeof report.outcome]})`,
            )
            .join(', ')}`,
        );
        return report;
      },
    );
  if (wants('cluster')) {
    results.cluster = await section(
      '10. hbd as a cluster on PostgreSQL: signed heartbeats/s by 1 SQLite node and 1, 2, 3 PostgreSQL nodes, ' +
        'CPU per process, database load, propagation lag, failover',
      () => measureCluster(log, machine.cpus),
    );
    // A part that failed is in the table as FAILED; the run says so too.
    if (results.cluster && results.cluster.failed.length > 0) failures++;
  }
} finally {
  killAllChildren();
}

const prefixes = selected.flatMap((name) => SECTIONS[name] ?? []);
const rows = buildRows(results).filter(
  (row) => prefixes.length === 0 || prefixes.some((prefix) => row.measure.startsWith(prefix)),
);
log('\n== Results\n');
log(formatTable(rows));
log(`\nTotal time ${((performance.now() - startedAt) / 1000).toFixed(0)} s.`);
// A partial run keeps the last full one's file.
const resultsFile = new URL(
  selected.length === 0 ? './results.json' : `./results-${selected.join('-')}.json`,
  import.meta.url,
);
writeFileSync(
  resultsFile,
  `${JSON.stringify({ date: new Date().toISOString(), machine, rows, details: results }, null, 2)}\n`,
);
log(`Written to ${resultsFile.pathname}.`);
if (failures > 0) process.exitCode = 1;
