/**
 * Measurement 10: hbd as a cluster on PostgreSQL. Signed heartbeats/s a cluster of 1, 2 and 3
 * nodes takes (the fleet split across them), against one node on SQLite; the CPU of every
 * process meanwhile; the database's work; how long a heartbeat heard by one node takes to reach
 * the others; and how long the cluster takes to lead again when its leader is killed.
 *
 * Everything runs on this machine: the nodes share its cores with each other, with their
 * senders and with PostgreSQL, which the CPU figures make visible.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { type PgServer, startPostgres } from '../test/helpers/postgres.js';
import type { GroupCpu, WatchedGroup } from './cluster-cpu.js';
import { DbWatch } from './cluster-db.js';
import { type FailoverRun, measureFailover } from './cluster-failover.js';
import { LAG_RATE, type LagRun, measureLag } from './cluster-lag.js';
import { BenchNode, until, untilSettled } from './cluster-nodes.js';
import {
  type FleetSender,
  type SplitFleet,
  type SteadyWindow,
  splitTrial,
  steadyWindow,
} from './cluster-trial.js';
import { BenchChild, sleep } from './ipc.js';
import { fmtRate, type SearchOutcome, searchSustainedRate, type TrialOutcome } from './rate-search.js';

/** Distinct hosts in the ingest runs and the lag run: a tenth of the ingest section's, for short steps. */
export const CLUSTER_HOSTS = 10_000;
/** The ingest section's warm-up: slow enough that the first heartbeat of every host is taken. */
const WARMUP_RATE = 20_000;
const WARMUP_ROUNDS = 6;
/** How long the hosts known may take to reach every node after a warm-up round. */
const CONVERGE_MS = 5000;
/** After the warm-up's flushes and shares, before timing. */
const SETTLE_MS = 2000;
/** The steady run's rate, as a share of the sustained one: steady, not at the edge of loss. */
export const STEADY_SHARE = 0.8;
/** The lease of the ingest runs: hbd's default. */
const INGEST_LEASE_S = 10;

export type IngestLayout = 'sqlite' | 'pg1' | 'pg2' | 'pg3';

export interface ClusterIngest {
  nodes: number;
  store: 'sqlite' | 'postgresql';
  search: SearchOutcome;
  /** CPU per process while the fastest passing trial was sent. */
  cpuAtPass?: GroupCpu[] | undefined;
  /** Longer, below the sustained rate: CPU per process and the database's rates over a steady load. */
  steady?: SteadyWindow | undefined;
  /** Drops by reason, all nodes, the whole run: anything here is a bench bug. */
  dropped: Record<string, number>;
  grantedBufferSize: number;
}

export interface ClusterRun {
  hosts: number;
  cpus: number;
  ingest: Partial<Record<IngestLayout, ClusterIngest>>;
  lag?: LagRun | undefined;
  failover?: FailoverRun | undefined;
  /** The parts that failed (each logged with its error). */
  failed: string[];
}

export async function measureCluster(log: (line: string) => void, cpus: number): Promise<ClusterRun> {
  providePackageJson();
  const run: ClusterRun = { hosts: CLUSTER_HOSTS, cpus, ingest: {}, failed: [] };
  const part = async <T>(name: string, measure: () => Promise<T>): Promise<T | undefined> => {
    log(`  -- ${name}`);
    try {
      return await measure();
    } catch (error) {
      run.failed.push(name);
      log(`  ${name} FAILED: ${error instanceof Error ? error.stack : String(error)}`);
      return undefined;
    }
  };

  run.ingest.sqlite = await part('(a) 1 node, SQLite store: the baseline', () =>
    withSplitFleet(
      1,
      () => ({}),
      undefined,
      (fleet) => measureIngest(fleet, 'sqlite', undefined, cpus, log),
    ),
  );

  let server: PgServer | undefined;
  try {
    server = await part('PostgreSQL server (initdb, as the test suite starts it: fsync off)', () =>
      startPostgres(),
    );
    if (!server) return run;
    const pg = server;
    for (const nodes of [1, 2, 3] as const) {
      const layout = `pg${nodes}` as const;
      run.ingest[layout] = await part(
        `(${'bcd'[nodes - 1]}) ${nodes} node${nodes > 1 ? 's' : ''}, PostgreSQL store${nodes > 1 ? ', the fleet split across them' : ''}`,
        async () => {
          const url = await pg.createDatabase();
          const db = await DbWatch.open(pg.url(databaseOf(url)));
          try {
            const config = (node: string) => ({ store: url, cluster: { node, lease: INGEST_LEASE_S } });
            return await withSplitFleet(nodes, config, db, async (fleet) => {
              const result = await measureIngest(fleet, 'postgresql', db, cpus, log);
              // The 3-node cluster is warm and knows the fleet: the lag run reuses it.
              if (nodes === 3) {
                await sleep(SETTLE_MS);
                run.lag = await part(
                  `propagation lag, 3 nodes, ${fmtRate(LAG_RATE)} in all, ${CLUSTER_HOSTS.toLocaleString('en-US')} hosts`,
                  async () => {
                    const lag = await measureLag(fleet, CLUSTER_HOSTS);
                    logLag(lag, log);
                    return lag;
                  },
                );
              }
              return result;
            });
          } finally {
            await db.close();
          }
        },
      );
    }
    run.failover = await part('failover, 3 nodes', async () => {
      const url = await pg.createDatabase();
      const failover = await measureFailover(url, pg.url(databaseOf(url)), log);
      return failover;
    });
  } finally {
    await server?.destroy();
  }
  return run;
}

/**
 * A cluster node reports hbd's version, read from the package.json two levels above
 * src/lib/. The bench runs src compiled into build/, a mirror of the repository's root
 * without one: copy it there.
 */
function providePackageJson(): void {
  const mirrored = new URL('../package.json', import.meta.url);
  if (!existsSync(mirrored)) copyFileSync(new URL('../../package.json', import.meta.url), mirrored);
}

function databaseOf(url: string): string {
  return new URL(url).pathname.slice(1);
}

/**
 * Starts `count` nodes one at a time (the first creates the schema and leads) and a sender per
 * node, runs `body`, and kills them all whatever happens.
 */
async function withSplitFleet<T>(
  count: number,
  config: (node: string) => Record<string, unknown>,
  db: DbWatch | undefined,
  body: (fleet: SplitFleet) => Promise<T>,
): Promise<T> {
  const nodes: BenchNode[] = [];
  const senders: FleetSender[] = [];
  try {
    for (const name of ['a', 'b', 'c'].slice(0, count)) {
      nodes.push(
        await BenchNode.start(name, {
          // The warm-up makes every host known at once, far past the default budget for new hosts.
          limits: { new_hosts_per_minute: CLUSTER_HOSTS },
          ...config(name),
        }),
      );
    }
    if (db) await untilSettled(nodes);
    const share = CLUSTER_HOSTS / count;
    for (const [index, node] of nodes.entries()) {
      const child = await BenchChild.start(
        `sender ${index + 1}`,
        new URL('./cluster-sender.js', import.meta.url),
      );
      const { pid } = await child.request<{ pid: number }>('init', {
        port: node.port,
        first: Math.round(index * share),
        hosts: Math.round((index + 1) * share) - Math.round(index * share),
        signed: true,
      });
      senders.push({ child, pid });
    }
    const groups: WatchedGroup[] = [
      ...nodes.map((node) => ({ name: `hbd ${node.name}`, pids: () => [node.pid] })),
      ...senders.map((sender, index) => ({ name: `sender ${index + 1}`, pids: () => [sender.pid] })),
      ...(db ? [{ name: 'PostgreSQL', pids: () => db.serverPids() }] : []),
    ];
    return await body({ nodes, senders, groups });
  } finally {
    for (const sender of senders) sender.child.kill();
    for (const node of nodes) node.kill();
  }
}

async function measureIngest(
  fleet: SplitFleet,
  store: ClusterIngest['store'],
  db: DbWatch | undefined,
  cpus: number,
  log: (line: string) => void,
): Promise<ClusterIngest> {
  await warmUp(fleet, log);
  const cpuOf = new Map<TrialOutcome, GroupCpu[]>();
  const search = await searchSustainedRate(async (rate) => {
    const trial = await splitTrial(fleet, rate);
    cpuOf.set(trial, trial.cpu);
    return trial;
  }, log);
  const pass = search.fastestPass;
  const cpuAtPass = pass && cpuOf.get(pass);
  if (pass && cpuAtPass) {
    log(
      `  CPU while sending at ${fmtRate(pass.achieved)} (the fastest pass), % of a core: ${cpuLine(cpuAtPass)}`,
    );
    if (store === 'postgresql')
      log(`  ${separateMachines(cpuAtPass, pass.achieved, fleet.nodes.length, cpus)}`);
  }
  let steady: SteadyWindow | undefined;
  if (search.sustained !== undefined) {
    steady = await steadyWindow(fleet, search.sustained * STEADY_SHARE, db);
    logSteady(steady, log);
  }
  const dropped: Record<string, number> = {};
  for (const counters of await Promise.all(fleet.nodes.map((node) => node.counters()))) {
    for (const [reason, count] of Object.entries(counters.dropped))
      dropped[reason] = (dropped[reason] ?? 0) + count;
  }
  const warnings = (await Promise.all(fleet.nodes.map((node) => node.leadership()))).flatMap(
    (leadership, index) => leadership.warnings.map((line) => `hbd node ${fleet.nodes[index]!.name}: ${line}`),
  );
  for (const line of warnings.slice(-10)) log(`  warned: ${line}`);
  return {
    nodes: fleet.nodes.length,
    store,
    search,
    cpuAtPass,
    steady,
    dropped,
    grantedBufferSize: Math.min(...fleet.nodes.map((node) => node.grantedBufferSize)),
  };
}

/** Makes every host known to every node before timing: a first heartbeat costs an event. */
async function warmUp(fleet: SplitFleet, log: (line: string) => void): Promise<void> {
  const knownByAll = async () =>
    Math.min(...(await Promise.all(fleet.nodes.map(async (node) => (await node.counters()).hosts))));
  for (let round = 1; round <= WARMUP_ROUNDS; round++) {
    await splitTrial(fleet, WARMUP_RATE, CLUSTER_HOSTS / WARMUP_RATE);
    // In a cluster the others' hosts arrive through the database, within a share period or two.
    const known = await until('the nodes agreeing on the hosts known', CONVERGE_MS + 1000, async () => {
      const first = await knownByAll();
      await sleep(500);
      const second = await knownByAll();
      return second >= CLUSTER_HOSTS || second === first ? second : undefined;
    }).catch(() => knownByAll());
    log(`  warm-up round ${round}: ${known.toLocaleString('en-US')} hosts known by every node`);
    if (known >= CLUSTER_HOSTS) {
      await sleep(SETTLE_MS);
      return;
    }
  }
  throw new Error(`a node knows fewer than ${CLUSTER_HOSTS} hosts after ${WARMUP_ROUNDS} warm-up rounds`);
}

/** Sum of the groups whose name starts with `prefix`. */
export function coresOf(cpu: readonly GroupCpu[], prefix: string): number {
  return cpu.filter((group) => group.name.startsWith(prefix)).reduce((sum, group) => sum + group.cores, 0);
}

/** `hbd a 85 %, sender 1 20 %, …; 1.9 cores in all` */
export function cpuLine(cpu: readonly GroupCpu[]): string {
  const total = cpu.reduce((sum, group) => sum + group.cores, 0);
  return (
    `${cpu.map((group) => `${group.name} ${(group.cores * 100).toFixed(0)} %`).join(', ')}; ` +
    `${total.toFixed(2)} cores in all`
  );
}

function logSteady(steady: SteadyWindow, log: (line: string) => void): void {
  log(
    `  steady run, ${(STEADY_SHARE * 100).toFixed(0)} % of the sustained rate, ${fmtRate(steady.target)}: ` +
      `sent ${fmtRate(steady.achieved)}, ${steady.accepted.toLocaleString('en-US')}/${steady.sent.toLocaleString('en-US')} ` +
      `accepted (loss ${(steady.loss * 100).toFixed(3)} %); over its middle ${steady.windowSeconds.toFixed(1)} s, ` +
      `CPU % of a core: ${cpuLine(steady.cpu)}`,
  );
  const db = steady.db;
  if (db) {
    log(
      `  PostgreSQL (pg_stat_database, same ${steady.windowSeconds.toFixed(1)} s): ${db.transactions.toFixed(0)} transactions/s; ` +
        `rows ${db.inserted.toFixed(0)} inserted/s, ${db.updated.toFixed(0)} updated/s, ${db.deleted.toFixed(0)} deleted/s, ` +
        `${db.fetched.toFixed(0)} fetched/s, ${db.returned.toFixed(0)} returned/s`,
    );
  }
}

/** What the CPU figures mean for nodes on machines of their own: here all share the machine's cores. */
export function separateMachines(
  cpu: readonly GroupCpu[],
  rate: number,
  nodes: number,
  cpus: number,
): string {
  const hbd = coresOf(cpu, 'hbd ');
  const others = [
    nodes > 1 ? 'each other' : undefined,
    `the senders (${coresOf(cpu, 'sender').toFixed(2)} cores)`,
    `PostgreSQL (${coresOf(cpu, 'PostgreSQL').toFixed(2)} cores)`,
  ].filter(Boolean);
  return (
    `On separate machines, ${nodes > 1 ? `the ${nodes} nodes` : 'the node'} would not share these ${cpus} cores with ` +
    `${others.join(', ')}: here hbd used ${hbd.toFixed(2)} cores for ${fmtRate(rate)}, ` +
    `${fmtRate(rate / Math.max(hbd, 0.01))} per core of hbd` +
    (nodes > 1 ? ", each node applying the others' heartbeats as well as its own" : '') +
    ' (an extrapolation, not a measurement)'
  );
}

function logLag(lag: LagRun, log: (line: string) => void): void {
  const ms = (value: number | null) => (value === null ? 'n/a' : `${value.toFixed(0)} ms`);
  log(
    `  ${lag.accepted.toLocaleString('en-US')}/${lag.sent.toLocaleString('en-US')} accepted; ` +
      `/api/cluster propagation (last 4,096 samples per node): ${lag.nodes
        .map((node) => `${node.node} p50 ${ms(node.p50Ms)} p99 ${ms(node.p99Ms)}`)
        .join(', ')}; histograms over the ${lag.seconds} s: p50 ${ms(lag.histogram.p50Ms)}, ` +
      `p99 ${ms(lag.histogram.p99Ms)} of ${lag.histogram.samples.toLocaleString('en-US')} samples`,
  );
}
