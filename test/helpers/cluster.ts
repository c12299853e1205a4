import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { stringify } from 'yaml';
import { type ServingHbd, serveHbd } from './cli.js';
import { eventually } from './eventually.js';
import { FleetSender } from './fleet-sender.js';
import { type PgServer, startPostgres } from './postgres.js';
import { makeServerDir, removeServerDir } from './server-process.js';
import { type ReceivedWebhook, type Standin, startWebhookStandin } from './standins/webhook.js';

/** One hbd process of a test cluster: its name, its config file, and the process while it runs. */
export interface ClusterNodeProcess {
  readonly name: string;
  readonly configPath: string;
  serving: ServingHbd;
  /** The API's URL (stays the same across restarts: the port is fixed once the node first listened). */
  readonly url: string;
  readonly udpPort: number;
  get(path: string): Promise<unknown>;
  /** The node's Prometheus scrape. */
  metrics(): Promise<string>;
  /** SIGKILL to the node process itself, waiting for it to be gone. */
  kill(): Promise<void>;
  /** SIGTERM, waiting for the exit code. */
  stop(): Promise<number | string>;
  /** Starts the node again with the same config and ports. */
  restart(): Promise<void>;
}

export interface ClusterOptions {
  dir: string;
  /** The database URL every node shares. */
  store: string;
  names: readonly string[];
  /** Seconds. */
  lease: number;
  /** Config keys every node shares (interval, grace, notify, …). */
  shared?: Record<string, unknown>;
}

export const API_TOKEN = 'cluster-test-api-token-0123456789';

/**
 * Starts one real hbd process per name on one PostgreSQL database, each with its own config
 * file that differs only in `cluster.node` and its ports, and waits until one of them leads.
 */
export async function startCluster(options: ClusterOptions): Promise<ClusterNodeProcess[]> {
  const nodes: ClusterNodeProcess[] = [];
  try {
    for (const name of options.names) nodes.push(await startNode(options, name));
    await leaderOf(nodes);
    return nodes;
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill()));
    throw error;
  }
}

async function startNode(options: ClusterOptions, name: string): Promise<ClusterNodeProcess> {
  const configPath = join(options.dir, `${name}.yaml`);
  const write = (ports: { hb: number; http: number }) =>
    writeFileSync(
      configPath,
      stringify({
        hb_host: '127.0.0.1',
        hb_port: ports.hb,
        hbd_host: '127.0.0.1',
        hbd_port: ports.http,
        logfmt: 'json',
        pickfile: join(options.dir, `${name}.unused.sqlite`),
        store: options.store,
        cluster: { node: name, lease: options.lease },
        api_token: API_TOKEN,
        ...options.shared,
      }),
      { mode: 0o600 },
    );
  write({ hb: 0, http: 0 });
  let serving = await serveHbd(['serve', '-c', configPath]);
  // The ports the node got are kept, so a restarted node is where the senders send.
  const url = serving.httpUrl;
  const udpPort = serving.udpPort;
  write({ hb: udpPort, http: Number(new URL(url).port) });
  const node: ClusterNodeProcess = {
    name,
    configPath,
    get serving() {
      return serving;
    },
    set serving(next) {
      serving = next;
    },
    url,
    udpPort,
    async get(path) {
      const response = await fetch(`${url}${path}`, {
        headers: { authorization: `Bearer ${API_TOKEN}` },
      }).catch((error: unknown) => {
        // A node that died says why: its exit and its last lines.
        const { exitCode, signalCode } = serving.process;
        const last = serving.logs.slice(-40).map((line) => JSON.stringify(line));
        throw new Error(
          `${name} GET ${path}: ${String(error)} (exit ${exitCode ?? signalCode})\n${last.join('\n')}`,
        );
      });
      if (!response.ok) throw new Error(`${name} GET ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    async metrics() {
      const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${API_TOKEN}` } });
      if (!response.ok) throw new Error(`${name} GET /metrics: ${response.status}`);
      return response.text();
    },
    async kill() {
      if (serving.process.exitCode !== null || serving.process.signalCode !== null) return;
      serving.process.kill('SIGKILL');
      await serving.exited;
    },
    async stop() {
      serving.process.kill('SIGTERM');
      return serving.exited;
    },
    async restart() {
      serving = await serveHbd(['serve', '-c', configPath]);
    },
  };
  return node;
}

export interface ClusterView {
  node: string;
  role: 'leader' | 'follower';
  leader: string | null;
  nodes: { name: string; role: string; state: string }[];
  propagation: { p50_ms: number | null; p99_ms: number | null; samples: number };
}

/** Waits until exactly one running node says it leads, and every running node agrees on it. */
export async function leaderOf(
  nodes: readonly ClusterNodeProcess[],
  timeoutMs = 20_000,
): Promise<ClusterNodeProcess> {
  return eventually(async () => {
    const running = nodes.filter(
      (node) => node.serving.process.exitCode === null && node.serving.process.signalCode === null,
    );
    const views = await Promise.all(running.map((node) => node.get('/api/cluster') as Promise<ClusterView>));
    const leaders = views.filter((view) => view.role === 'leader');
    if (leaders.length !== 1) throw new Error(`${leaders.length} nodes lead: ${JSON.stringify(views)}`);
    const name = leaders[0]!.node;
    const leader = running.find((node) => node.name === name)!;
    // Its log line says the takeover is complete (the fleet stored, notifications resumed).
    await leader.serving.waitForLog((line) => String(line.msg).includes('leads the cluster now'), 1);
    return leader;
  }, timeoutMs);
}

export interface TestClusterSpec {
  /** Names the temp dir. */
  name: string;
  lease?: number;
  /** Config keys every node shares (interval, grace, keys, …); a function is read once the file's earlier hooks ran. */
  settings?: Record<string, unknown> | (() => Record<string, unknown>);
  /** A webhook stand-in every node notifies at once: no grouping, no restart grace. */
  webhook?: boolean;
  /** Hosts beating every second to every node. */
  fleet?: { count: number; prefix: string };
}

/** A cluster's parts while the tests of a file run. */
export interface TestCluster {
  readonly pg: PgServer;
  /** The database URL the nodes share. */
  readonly store: string;
  readonly dir: string;
  readonly nodes: ClusterNodeProcess[];
  readonly webhook: Standin<ReceivedWebhook>;
  readonly fleet: FleetSender;
  /** The nodes whose process is still running. */
  running(): ClusterNodeProcess[];
}

/** Waits until every node shows every host of the fleet up, and the database holds them all. */
async function fleetHeard(
  nodes: readonly ClusterNodeProcess[],
  store: string,
  pg: PgServer,
  hosts: readonly string[],
): Promise<void> {
  const names = new Set(hosts);
  for (const node of nodes) {
    await eventually(async () => {
      // From the per-host series: the host list is rationed per client, the scrape is not.
      const up = [...(await node.metrics()).matchAll(/^hbd_host_up\{host="([^"]+)"\} 1$/gm)].filter((match) =>
        names.has(match[1]!),
      );
      if (up.length !== names.size)
        throw new Error(`${node.name} shows ${up.length} of ${names.size} hosts up`);
    }, 30_000);
  }
  await eventually(async () => {
    const { rows } = await pg.query<{ count: string }>(
      store,
      'SELECT count(*) AS count FROM hosts WHERE name = ANY($1)',
      [[...names]],
    );
    expect(Number(rows[0]?.count)).toBe(names.size);
  }, 30_000);
}

/**
 * Registers the hooks that start three nodes (`a`, `b`, `c`) on a throwaway PostgreSQL before
 * the file's tests, with a webhook stand-in and a beating fleet if asked, and tear it all down
 * after them, paused nodes included.
 */
export function useTestCluster(spec: TestClusterSpec): TestCluster {
  let pg: PgServer | undefined;
  let store = '';
  let dir: string | undefined;
  let webhook: Standin<ReceivedWebhook> | undefined;
  let fleet: FleetSender | undefined;
  let nodes: ClusterNodeProcess[] = [];
  const need = <T>(part: T | undefined, what: string): T => {
    if (part === undefined) throw new Error(`this test cluster has no ${what}`);
    return part;
  };

  beforeAll(async () => {
    pg = await startPostgres();
    dir = makeServerDir(`hbd-${spec.name}-`);
    store = await pg.createDatabase();
    if (spec.webhook) webhook = await startWebhookStandin();
    const notify = webhook && {
      notify: { group_wait: 0, restart_grace: 0, retry_min: 1, webhook: { url: `${webhook.url}/hooks/hbd` } },
    };
    nodes = await startCluster({
      dir,
      store,
      names: ['a', 'b', 'c'],
      lease: spec.lease ?? 2,
      shared: {
        interval: 1,
        grace: 3,
        ...(typeof spec.settings === 'function' ? spec.settings() : spec.settings),
        ...notify,
      },
    });
    if (spec.fleet) {
      fleet = new FleetSender({
        ...spec.fleet,
        intervalMs: 1000,
        route: () => nodes.map((node) => node.udpPort),
      });
      fleet.start();
      // A test begins with the fleet beating: every node has heard every host, and the
      // leader has stored each one's arrival. A host silenced before its first beat would
      // never exist, and could never go down.
      await fleetHeard(nodes, store, pg, fleet.hosts);
    }
  }, 120_000);

  afterAll(async () => {
    await fleet?.close();
    for (const node of nodes) node.serving.process.kill('SIGCONT');
    await Promise.all(nodes.map((node) => node.kill()));
    await webhook?.close();
    await pg?.destroy();
    if (dir) removeServerDir(dir);
  });

  return {
    get pg() {
      return need(pg, 'database');
    },
    get store() {
      return store;
    },
    get dir() {
      return need(dir, 'dir');
    },
    get nodes() {
      return nodes;
    },
    get webhook() {
      return need(webhook, 'webhook stand-in');
    },
    get fleet() {
      return need(fleet, 'fleet');
    },
    running: () =>
      nodes.filter(
        (node) => node.serving.process.exitCode === null && node.serving.process.signalCode === null,
      ),
  };
}
