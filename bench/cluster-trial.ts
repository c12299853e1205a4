/**
 * Trials over a fleet split across nodes: sender i sends its share of the hosts to node i, all
 * at once, and loss counts what no node accepted. Same shape as rate-search.ts's runTrial, so
 * the same sustained-rate search runs over one node or several.
 */
import { type GroupCpu, type WatchedGroup, watchCpu } from './cluster-cpu.js';
import { type DbRates, type DbWatch, ratesOf } from './cluster-db.js';
import type { BenchNode } from './cluster-nodes.js';
import { type BenchChild, sleep } from './ipc.js';
import type { TrialOutcome } from './rate-search.js';
import type { SendReport } from './sender.js';

const TRIAL_SECONDS = 1;
/** As rate-search.ts: below this share of its target a sender is the limit. */
const SATURATED_BELOW = 0.95;
const DRAIN_POLL_MS = 50;
/** Longer than rate-search.ts's: a cluster node may be busy sharing when the sending stops. */
const DRAIN_MAX_MS = 3000;

export interface FleetSender {
  child: BenchChild;
  pid: number;
}

/** Nodes and their senders, sender i for node i, and the processes whose CPU is read. */
export interface SplitFleet {
  nodes: readonly BenchNode[];
  senders: readonly FleetSender[];
  groups: readonly WatchedGroup[];
}

/** A trial, and the CPU of each process while its datagrams were sent. */
export type SplitTrial = TrialOutcome & { cpu: GroupCpu[] };

export async function acceptedByAll(nodes: readonly BenchNode[]): Promise<number> {
  const counters = await Promise.all(nodes.map((node) => node.counters()));
  return counters.reduce((sum, counter) => sum + counter.accepted, 0);
}

/** Builds each sender's share of `rate * seconds` datagrams: only the sending is timed. */
async function prepareAll(fleet: SplitFleet, rate: number, seconds: number): Promise<void> {
  const share = rate / fleet.senders.length;
  await Promise.all(
    fleet.senders.map((sender) =>
      sender.child.request('prepare', { count: Math.max(1, Math.round(share * seconds)) }),
    ),
  );
}

/** Every sender sends what it prepared at `rate / senders` per second, all at once. */
async function sendAll(fleet: SplitFleet, rate: number): Promise<SendReport> {
  const share = rate / fleet.senders.length;
  const reports = await Promise.all(
    fleet.senders.map((sender) => sender.child.request<SendReport>('send', { rate: share }, 120_000)),
  );
  return {
    sent: reports.reduce((sum, report) => sum + report.sent, 0),
    failed: reports.reduce((sum, report) => sum + report.failed, 0),
    seconds: Math.max(...reports.map((report) => report.seconds)),
    achieved: reports.reduce((sum, report) => sum + report.achieved, 0),
  };
}

/** Waits until the nodes' accepted counts stop moving: they have read what their sockets held. */
async function drain(nodes: readonly BenchNode[]): Promise<number> {
  const deadline = performance.now() + DRAIN_MAX_MS;
  let last = await acceptedByAll(nodes);
  for (;;) {
    await sleep(DRAIN_POLL_MS);
    const count = await acceptedByAll(nodes);
    if (count === last || performance.now() > deadline) return count;
    last = count;
  }
}

/** One trial at `rate` in all; `receiverCpu` sums the nodes' (2 is two whole cores). */
export async function splitTrial(
  fleet: SplitFleet,
  rate: number,
  seconds = TRIAL_SECONDS,
): Promise<SplitTrial> {
  const before = await acceptedByAll(fleet.nodes);
  await prepareAll(fleet, rate, seconds);
  await Promise.all(fleet.nodes.map((node) => node.probe()));
  const endCpu = watchCpu(fleet.groups);
  const report = await sendAll(fleet, rate);
  const cpu = endCpu();
  const received = (await drain(fleet.nodes)) - before;
  const probes = await Promise.all(fleet.nodes.map((node) => node.probe()));
  return {
    target: rate,
    achieved: report.achieved,
    sent: report.sent,
    received,
    loss: report.sent > 0 ? Math.max(0, 1 - received / report.sent) : 0,
    senderSaturated: report.achieved < rate * SATURATED_BELOW,
    receiverCpu: probes.reduce((sum, probe) => sum + probe.cpuSeconds, 0) / report.seconds,
    receiverMaxStallMs: Math.max(...probes.map((probe) => probe.maxStallMs)),
    cpu,
  };
}

/** A longer run at one rate, with the CPU of every process and the database's work over its middle. */
export interface SteadyWindow {
  target: number;
  achieved: number;
  sent: number;
  accepted: number;
  loss: number;
  /** The middle of the run the CPU and database figures cover. */
  windowSeconds: number;
  cpu: GroupCpu[];
  db?: DbRates | undefined;
}

/** Sending time before the window opens, and after it closes: the first and last flushes stay outside. */
const STEADY_MARGIN_S = 1.5;

export async function steadyWindow(
  fleet: SplitFleet,
  rate: number,
  db: DbWatch | undefined,
  seconds = 8,
): Promise<SteadyWindow> {
  await prepareAll(fleet, rate, seconds);
  const before = await acceptedByAll(fleet.nodes);
  const sending = sendAll(fleet, rate);
  await sleep(STEADY_MARGIN_S * 1000);
  const openedAt = performance.now();
  const endCpu = watchCpu(fleet.groups);
  const dbBefore = await db?.counters();
  await sleep((seconds - 2 * STEADY_MARGIN_S) * 1000);
  const cpu = endCpu();
  const dbAfter = await db?.counters();
  const windowSeconds = (performance.now() - openedAt) / 1000;
  const report = await sending;
  const accepted = (await drain(fleet.nodes)) - before;
  return {
    target: rate,
    achieved: report.achieved,
    sent: report.sent,
    accepted,
    loss: report.sent > 0 ? Math.max(0, 1 - accepted / report.sent) : 0,
    windowSeconds,
    cpu,
    db: dbBefore && dbAfter ? ratesOf(dbBefore, dbAfter, windowSeconds) : undefined,
  };
}
