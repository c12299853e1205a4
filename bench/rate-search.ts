/**
 * The sustained-rate search shared by the baseline and the hbd measurements: the
 * highest offered rate a receiver takes with less than 0.1 % loss.
 */
import { type BenchChild, sleep } from './ipc.js';
import type { ReceiverProbe } from './probe.js';
import type { SendReport } from './sender.js';

export const MAX_LOSS = 0.001;
const START_RATE = 20_000;
const RAMP = 1.25;
const BISECT_STEPS = 2;
const MAX_TRIALS = 20;
const TRIAL_SECONDS = 1;
/** A sender short of this share of its target rate is the limit, not the receiver. */
const SATURATED_BELOW = 0.95;
/** Tries again at a rate the sender fell short of, before calling it the sender's limit. */
const SATURATED_RETRIES = 2;
const DRAIN_POLL_MS = 50;
const DRAIN_MAX_MS = 2000;

export interface TrialOutcome {
  target: number;
  achieved: number;
  sent: number;
  received: number;
  loss: number;
  senderSaturated: boolean;
  /** Receiver's CPU time over the sending time: 1 is a whole core. */
  receiverCpu: number;
  receiverMaxStallMs: number;
}

export interface SearchOutcome {
  /** Achieved rate of the fastest trial under MAX_LOSS; undefined if none was. */
  sustained: number | undefined;
  /** The fastest passing trial was as fast as the sender could go: the receiver may take more. */
  senderLimited: boolean;
  fastestPass: TrialOutcome | undefined;
  /** The slowest trial with MAX_LOSS or more, if any. */
  slowestMiss: TrialOutcome | undefined;
  trials: TrialOutcome[];
}

/** The receiving side of a trial, whichever it is. */
export interface Receiver {
  /** Datagrams taken so far: received by the baseline, accepted by hbd. */
  count(): Promise<number>;
  /** Read-and-reset, see `startProbe`. */
  probe(): Promise<ReceiverProbe>;
}

/** Load put on the receiver during a trial (the isolation bench's readers). */
export interface TrialLoad {
  /** Runs alongside the sending, which waits for it too. */
  whileSending: () => Promise<unknown>;
  /**
   * Ends the load once the sending is done, before the drain: a receiver still busy with it
   * would be mistaken for one that has read everything.
   */
  afterSending: () => Promise<unknown>;
}

/** One trial: `rate` per second for about `seconds`, then a drain until the receiver's count settles. */
export async function runTrial(
  sender: BenchChild,
  receiver: Receiver,
  rate: number,
  seconds = TRIAL_SECONDS,
  load?: TrialLoad,
): Promise<TrialOutcome> {
  // Built before the clock starts: only sending is paced and timed.
  await sender.request('prepare', { count: Math.max(1, Math.round(rate * seconds)) });
  const before = await receiver.count();
  await receiver.probe();
  const [report] = await Promise.all([sender.request<SendReport>('send', { rate }), load?.whileSending()]);
  await load?.afterSending();
  const received = (await drain(receiver)) - before;
  const probe = await receiver.probe();
  return {
    target: rate,
    achieved: report.achieved,
    sent: report.sent,
    received,
    loss: report.sent > 0 ? Math.max(0, 1 - received / report.sent) : 0,
    senderSaturated: report.achieved < rate * SATURATED_BELOW,
    receiverCpu: probe.cpuSeconds / report.seconds,
    receiverMaxStallMs: probe.maxStallMs,
  };
}

/** Waits until the receiver's count stops moving: it has read everything still queued in its socket. */
async function drain(receiver: Receiver): Promise<number> {
  const deadline = performance.now() + DRAIN_MAX_MS;
  let last = await receiver.count();
  for (;;) {
    await sleep(DRAIN_POLL_MS);
    const count = await receiver.count();
    if (count === last || performance.now() > deadline) return count;
    last = count;
  }
}

/**
 * Ramps up ×1.25 from 20k/s until loss reaches 0.1 % or the sender saturates (three
 * times in a row), then bisects, geometrically between achieved rates, between the
 * fastest pass and the first miss.
 */
export async function searchSustainedRate(
  trial: (rate: number) => Promise<TrialOutcome>,
  log: (line: string) => void,
): Promise<SearchOutcome> {
  const trials: TrialOutcome[] = [];
  const attempt = async (rate: number) => {
    const outcome = await trial(rate);
    trials.push(outcome);
    log(describeTrial(outcome));
    return outcome;
  };
  const passed = (outcome: TrialOutcome) => outcome.loss < MAX_LOSS;

  let pass: TrialOutcome | undefined;
  let miss: TrialOutcome | undefined;
  let senderLimited = false;
  // A saturated sender may send less than at the step before: keep the fastest pass.
  const keepFastest = (outcome: TrialOutcome) => {
    if (!pass || outcome.achieved > pass.achieved) pass = outcome;
  };
  for (let rate = START_RATE; trials.length < MAX_TRIALS; rate *= RAMP) {
    let outcome = await attempt(rate);
    // The machine is shared: a sender that fell short once may just have been preempted.
    for (let retry = 0; retry < SATURATED_RETRIES && passed(outcome) && outcome.senderSaturated; retry++) {
      keepFastest(outcome);
      outcome = await attempt(rate);
    }
    if (!passed(outcome)) {
      miss = outcome;
      break;
    }
    keepFastest(outcome);
    if (outcome.senderSaturated) {
      senderLimited = true;
      break;
    }
  }
  // Even the starting rate lost too much: come down until something passes.
  while (!pass && miss && trials.length < MAX_TRIALS) {
    const outcome = await attempt(miss.achieved * 0.6);
    if (passed(outcome)) keepFastest(outcome);
    else miss = outcome;
  }
  for (let step = 0; step < BISECT_STEPS && pass && miss && trials.length < MAX_TRIALS; step++) {
    // Between what was actually sent: a saturated sender's target was never offered.
    if (miss.achieved <= pass.achieved * 1.02) break;
    const outcome = await attempt(Math.sqrt(pass.achieved * miss.achieved));
    if (passed(outcome)) keepFastest(outcome);
    else miss = outcome;
  }
  return { sustained: pass?.achieved, senderLimited, fastestPass: pass, slowestMiss: miss, trials };
}

function describeTrial(outcome: TrialOutcome): string {
  const verdict = outcome.loss < MAX_LOSS ? 'pass' : 'MISS';
  const saturated = outcome.senderSaturated ? ' (sender saturated)' : '';
  return (
    `    target ${fmtRate(outcome.target)}  sent ${fmtRate(outcome.achieved)}${saturated}  ` +
    `${outcome.received}/${outcome.sent} taken  loss ${(outcome.loss * 100).toFixed(3)} %  ${verdict}  ` +
    `(receiver: CPU ${(outcome.receiverCpu * 100).toFixed(0)} % of a core, ` +
    `longest stall ${outcome.receiverMaxStallMs.toFixed(0)} ms)`
  );
}

export function fmtRate(perSecond: number): string {
  return `${Math.round(perSecond).toLocaleString('en-US')}/s`;
}
