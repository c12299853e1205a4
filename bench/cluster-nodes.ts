/** The orchestrator's side of the cluster bench's hbd nodes: start them, read them, wait on them. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_SECRET } from './datagrams.js';
import { BenchChild, sleep } from './ipc.js';
import { RECEIVE_BUFFER_BYTES } from './settings.js';

export interface NodeCounters {
  accepted: number;
  dropped: Record<string, number>;
  /** Hosts this node knows, its own and the other nodes' hosts (`hbd-node-…`) included. */
  hosts: number;
}

/** `GET /api/cluster`, the keys the bench reads (docs/api.md). */
export interface ClusterView {
  node: string;
  role: 'leader' | 'follower';
  leader: string | null;
  nodes: { name: string; role: string; state: 'up' | 'down' }[];
  propagation: { p50_ms: number | null; p99_ms: number | null; samples: number };
}

/** One hbd node: a process of its own (cluster-daemon.ts), killed by its own pid. */
export class BenchNode {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  readonly url: string;
  readonly grantedBufferSize: number;
  readonly #child: BenchChild;
  readonly #dir: string;

  private constructor(
    name: string,
    child: BenchChild,
    dir: string,
    started: { pid: number; port: number; url: string; grantedBufferSize: number },
  ) {
    this.name = name;
    this.#child = child;
    this.#dir = dir;
    this.pid = started.pid;
    this.port = started.port;
    this.url = started.url;
    this.grantedBufferSize = started.grantedBufferSize;
  }

  /**
   * Starts a node: signed heartbeats only, on loopback, with `config` on top (the store and
   * `cluster:` for a PostgreSQL node). Per-host /metrics series are off: the bench scrapes
   * the cluster's own series only.
   */
  static async start(name: string, config: Record<string, unknown>): Promise<BenchNode> {
    const dir = mkdtempSync(join(tmpdir(), `hbd-bench-${name}-`));
    try {
      const child = await BenchChild.start(
        `hbd node ${name}`,
        new URL('./cluster-daemon.js', import.meta.url),
      );
      const started = await child.request<{
        pid: number;
        port: number;
        url: string;
        grantedBufferSize: number;
      }>('start', {
        dir,
        name,
        config: {
          auth: 'required',
          keys: { '*': BENCH_SECRET },
          udp_rcvbuf: RECEIVE_BUFFER_BYTES,
          metrics: { max_hosts: 0 },
          ...config,
        },
      });
      return new BenchNode(name, child, dir, started);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  counters(): Promise<NodeCounters> {
    return this.#child.request<NodeCounters>('counters');
  }

  probe(): Promise<{ cpuSeconds: number; maxStallMs: number }> {
    return this.#child.request('probe');
  }

  /** When this node logged that it leads (wall clock, ms), and its latest warnings. */
  leadership(): Promise<{ ledAt: number[]; warnings: string[] }> {
    return this.#child.request('leadership');
  }

  async cluster(): Promise<ClusterView> {
    const response = await fetch(`${this.url}/api/cluster`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`hbd node ${this.name}: /api/cluster answered ${response.status}`);
    return (await response.json()) as ClusterView;
  }

  async metrics(): Promise<string> {
    const response = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`hbd node ${this.name}: /metrics answered ${response.status}`);
    return response.text();
  }

  /** SIGKILL to the node's own process: no flush, no lease given up. */
  kill(): void {
    this.#child.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a value, or throws after `timeoutMs` saying what never happened. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  pollMs = 50,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`${what}: not within ${timeoutMs / 1000} s${why}`);
    }
    await sleep(pollMs);
  }
}

/** Waits until every node lists all of them up and names the same leader, which says it leads. */
export function untilSettled(nodes: readonly BenchNode[], timeoutMs = 30_000): Promise<string> {
  return until(
    `a cluster of ${nodes.map((node) => node.name).join(', ')} with one leader`,
    timeoutMs,
    async () => {
      const views = await Promise.all(nodes.map((node) => node.cluster()));
      const leader = views[0]?.leader;
      if (!leader) return undefined;
      const settled = views.every(
        (view) =>
          view.leader === leader &&
          nodes.every((node) => view.nodes.some((row) => row.name === node.name && row.state === 'up')) &&
          (view.node === leader) === (view.role === 'leader'),
      );
      return settled && views.some((view) => view.role === 'leader') ? leader : undefined;
    },
  );
}
