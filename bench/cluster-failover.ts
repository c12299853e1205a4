/**
 * Failover: three nodes, a small fleet beating to every node, and the leader killed with
 * SIGKILL (no flush, no lease given up). Timed from the kill: the lease changing hands in the
 * database, a survivor saying it leads (/api/cluster, then its log line), and the first event
 * the new leader stores. So that an event is due at once, one host stops beating beforehand
 * and the kill comes half a second before its `down` is due: the old leader stores its `late`
 * but never its `down`.
 */
import { DbWatch } from './cluster-db.js';
import { BenchNode, until, untilSettled } from './cluster-nodes.js';
import { BenchChild, sleep } from './ipc.js';
import { hostName } from './names.js';

export const FAILOVER_TRIALS = 10;
/** A short lease, so that ten trials take a couple of minutes; the default is 10 s. */
export const FAILOVER_LEASE_S = 2;
export const FAILOVER_HOSTS = 200;
const NODES = ['a', 'b', 'c'];
/** The fleet's `grace`: room between the silenced host's `late` (stored by the old leader) and its `down`. */
const GRACE_S = 3;
/** How much later than interval + grace a cluster node calls a host down (share.ts PROPAGATION_SLACK_MS). */
const CLUSTER_SLACK_S = 1;
const FLEET_EVERY_S = 1;
const KILL_BEFORE_DOWN_MS = 500;
/** No new leader can take a lease of 2 s this soon; by then the killed one's last commit is in, or never. */
const AFTER_KILL_MS = 200;
const POLL_MS = 20;
const TRIAL_TIMEOUT_MS = 20_000;

export interface FailoverTrial {
  killed: string;
  newLeader: string | null;
  /** Milliseconds from the kill; null when not seen within the trial's timeout. */
  leaseTakenMs: number | null;
  leaderRoleMs: number | null;
  logLineMs: number | null;
  firstEventMs: number | null;
  /** What that first event was. */
  firstEvent: string | null;
  error?: string;
}

export interface FailoverRun {
  leaseSeconds: number;
  hosts: number;
  trials: FailoverTrial[];
}

/** `url`: the database the nodes share; `superUrl`: the same database as the superuser. */
export async function measureFailover(
  url: string,
  superUrl: string,
  log: (line: string) => void,
): Promise<FailoverRun> {
  const config = (node: string) => ({
    store: url,
    cluster: { node, lease: FAILOVER_LEASE_S },
    grace: GRACE_S,
    // The bench reads the "leads the cluster now" line.
    log_level: 'info',
  });
  const nodes = new Map<string, BenchNode>();
  let fleet: BenchChild | undefined;
  let db: DbWatch | undefined;
  const ports = () => [...nodes.values()].map((node) => node.port);
  try {
    // One at a time: the first creates the schema, and leads.
    for (const name of NODES) nodes.set(name, await BenchNode.start(name, config(name)));
    db = await DbWatch.open(superUrl);
    fleet = await BenchChild.start('fleet', new URL('./cluster-fleet.js', import.meta.url));
    await fleet.request('start', { hosts: FAILOVER_HOSTS, ports: ports() });
    await until('every node knowing the fleet', 30_000, async () => {
      const counters = await Promise.all([...nodes.values()].map((node) => node.counters()));
      return counters.every((counter) => counter.hosts >= FAILOVER_HOSTS + NODES.length) || undefined;
    });
    const trials: FailoverTrial[] = [];
    for (let trial = 0; trial < FAILOVER_TRIALS; trial++) {
      const outcome = await oneTrial(trial, nodes, fleet, db, config);
      trials.push(outcome);
      log(`    trial ${trial + 1}: ${describeTrial(outcome)}`);
      await fleet.request('ports', { ports: ports() });
    }
    return { leaseSeconds: FAILOVER_LEASE_S, hosts: FAILOVER_HOSTS, trials };
  } finally {
    fleet?.kill();
    for (const node of nodes.values()) node.kill();
    await db?.close();
  }
}

async function oneTrial(
  trial: number,
  nodes: Map<string, BenchNode>,
  fleet: BenchChild,
  db: DbWatch,
  config: (node: string) => Record<string, unknown>,
): Promise<FailoverTrial> {
  const leader = await untilSettled([...nodes.values()]);
  const killed = nodes.get(leader);
  if (!killed) throw new Error(`the cluster names an unknown leader, ${leader}`);
  const outcome: FailoverTrial = {
    killed: leader,
    newLeader: null,
    leaseTakenMs: null,
    leaderRoleMs: null,
    logLineMs: null,
    firstEventMs: null,
    firstEvent: null,
  };
  // A different host each trial: the last one is coming back up meanwhile.
  const silenced = hostName(trial);
  try {
    const beforeSilence = await db.newestEventId();
    const { lastSentAt } = await fleet.request<{ lastSentAt: number }>('silence', { index: trial });
    await until(`the leader storing that ${silenced} is late`, 15_000, () =>
      db.firstEventAfter(beforeSilence, silenced),
    );
    const downDueAt = lastSentAt + (FLEET_EVERY_S + GRACE_S + CLUSTER_SLACK_S) * 1000;
    await sleep(Math.max(0, downDueAt - KILL_BEFORE_DOWN_MS - Date.now()));
    const tokenBefore = (await db.lease()).token;

    const killedAt = Date.now();
    killed.kill();
    nodes.delete(leader);
    await sleep(AFTER_KILL_MS);
    const eventsAtKill = await db.newestEventId();
    const survivors = [...nodes.values()];
    const since = () => Date.now() - killedAt;
    while (since() < TRIAL_TIMEOUT_MS) {
      const [lease, event, ...views] = await Promise.all([
        db.lease(),
        db.firstEventAfter(eventsAtKill),
        ...survivors.map((node) => node.cluster().catch(() => undefined)),
      ]);
      const elapsed = since();
      if (
        outcome.leaseTakenMs === null &&
        lease.holder &&
        lease.holder !== leader &&
        lease.token > tokenBefore
      )
        outcome.leaseTakenMs = elapsed;
      const leading = views.find((view) => view?.role === 'leader');
      if (outcome.leaderRoleMs === null && leading) {
        outcome.leaderRoleMs = elapsed;
        outcome.newLeader = leading.node;
      }
      if (outcome.firstEventMs === null && event) {
        outcome.firstEventMs = elapsed;
        outcome.firstEvent = `${event.host} ${event.kind} → ${event.to ?? '-'} (${event.reason})`;
      }
      if (outcome.leaseTakenMs !== null && outcome.leaderRoleMs !== null && outcome.firstEventMs !== null)
        break;
      await sleep(POLL_MS);
    }
    const newLeader = outcome.newLeader === null ? undefined : nodes.get(outcome.newLeader);
    if (newLeader) {
      const { ledAt } = await newLeader.leadership();
      const line = ledAt.find((at) => at >= killedAt);
      outcome.logLineMs = line === undefined ? null : line - killedAt;
    }
  } catch (error) {
    outcome.error = error instanceof Error ? error.message : String(error);
  } finally {
    await fleet.request('resume', { index: trial });
    if (!nodes.has(leader)) nodes.set(leader, await BenchNode.start(leader, config(leader)));
  }
  return outcome;
}

function describeTrial(trial: FailoverTrial): string {
  const ms = (value: number | null) => (value === null ? 'never' : `${value} ms`);
  return (
    `killed leader ${trial.killed}; lease taken ${ms(trial.leaseTakenMs)}, ` +
    `${trial.newLeader ?? 'no node'} says leader ${ms(trial.leaderRoleMs)}, ` +
    `logs "leads the cluster now" ${ms(trial.logLineMs)}, first event stored ${ms(trial.firstEventMs)}` +
    (trial.firstEvent ? `: ${trial.firstEvent}` : '') +
    (trial.error ? `; ERROR ${trial.error}` : '')
  );
}
