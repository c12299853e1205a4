/** Turns the measurements into the table's lines: figure, target, baseline ratio, verdict, and why. */
import { clusterRows } from './cluster-rows.js';
import type { DecodeReport } from './decode-worker.js';
import { isolationRows } from './isolation-rows.js';
import type { ClusterRun } from './measure-cluster.js';
import type { HbdIngest } from './measure-hbd.js';
import type { IsolationRun, SnapshotTiming } from './measure-isolation.js';
import type { PushLoadRun, PushRun } from './measure-push.js';
import type { UdpBaseline } from './measure-udp.js';
import type { MemoryReport, MemoryVariant } from './memory-worker.js';
import { fmtRate, type SearchOutcome, type TrialOutcome } from './rate-search.js';
import { type Row, ratioOf, verdictOf } from './report.js';
import { RECEIVE_BUFFER_BYTES } from './settings.js';
import type { WheelReport } from './wheel-worker.js';

/** What each measurement returned; undefined where it failed. */
export interface BenchResults {
  udp?: UdpBaseline | undefined;
  signed?: HbdIngest | undefined;
  unsigned?: HbdIngest | undefined;
  memory: Partial<Record<MemoryVariant, MemoryReport | undefined>>;
  wheel?: WheelReport | undefined;
  httpBaseline?: PushLoadRun | undefined;
  push?: PushRun | undefined;
  isolation?: IsolationRun | undefined;
  snapshotTiming?: SnapshotTiming | undefined;
  decode?: DecodeReport | undefined;
  cluster?: ClusterRun | undefined;
}

/** Why the receiver stopped keeping up: its state at the fastest pass and at the slowest miss. */
function diagnosis(search: SearchOutcome | undefined): string {
  const state = (trial: TrialOutcome) =>
    `${fmtRate(trial.achieved)} with ${(trial.receiverCpu * 100).toFixed(0)} % of a core, ` +
    `longest stall ${trial.receiverMaxStallMs.toFixed(0)} ms`;
  const { fastestPass, slowestMiss } = search ?? {};
  return (
    (fastestPass ? `; receiver at ${state(fastestPass)}` : '') +
    (slowestMiss ? `; lost ${(slowestMiss.loss * 100).toFixed(1)} % at ${state(slowestMiss)}` : '')
  );
}

/**
 * When the sender was the limit, what the receiver's CPU share suggests it could take:
 * a rough extrapolation to help read the ratios, not a measurement.
 */
function cpuBound(search: SearchOutcome | undefined): string {
  const fastest = search?.fastestPass;
  if (!search?.senderLimited || !fastest || fastest.receiverCpu <= 0) return '';
  return `; if CPU were its only limit, roughly ${fmtRate(fastest.achieved / fastest.receiverCpu)} (an extrapolation)`;
}

/** Latency, errors and CPU of an HTTP run, and whether the load generator may have been the limit. */
function httpNote(run: PushLoadRun | undefined): string {
  if (!run) return '';
  const { load } = run;
  return (
    `p50 ${load.latencyP50Ms} ms, p99 ${load.latencyP99Ms} ms, ${load.non2xx} non-2xx, ` +
    `${load.errors + load.timeouts} errors/timeouts; ` +
    (run.pinned ? 'server and autocannon on CPUs of their own, ' : 'not pinned, ') +
    `server at ${(run.serverCpu * 100).toFixed(0)} % of a core` +
    (clientLimited(run)
      ? `: autocannon was the limit; roughly ${fmtRate(load.rate / run.serverCpu)} if CPU were the server's only limit (an extrapolation)`
      : '')
  );
}

/** Below a whole core, the load generator (or a busy machine) was the limit, not the server. */
function clientLimited(run: PushLoadRun): boolean {
  return run.serverCpu > 0 && run.serverCpu < 0.9;
}

/** Every 2xx answer is a ping applied to its host, and nothing else was counted. */
function pushVerdictNote(push: PushRun | undefined): string {
  if (!push) return '';
  const every = push.applied === push.load.ok && push.load.non2xx === 0 && push.refused === 0;
  return (
    `; ${every ? 'every ping applied' : 'NOT every ping applied (bench or hbd bug)'}: ` +
    `${push.applied.toLocaleString('en-US')} counted by hbd for ${push.load.ok.toLocaleString('en-US')} 2xx answers, ` +
    `${push.refused} refused, ${push.hostsUp} of ${push.hosts} hosts up`
  );
}

export function buildRows({
  udp,
  signed,
  unsigned,
  memory,
  wheel,
  httpBaseline,
  push,
  isolation,
  snapshotTiming,
  decode,
  cluster,
}: BenchResults): Row[] {
  const baselineRate = udp?.search.sustained ?? null;
  // A sender-limited baseline is a lower bound, so the ratios against it are upper bounds.
  const baselineNote = udp?.search.senderLimited
    ? '; the baseline was sender-limited: ratios are upper bounds'
    : '';
  const granted = (ingest: { grantedBufferSize: number } | undefined) =>
    ingest ? `SO_RCVBUF granted ${ingest.grantedBufferSize} of ${RECEIVE_BUFFER_BYTES} bytes` : '';
  const ingestRow = (measure: string, ingest: HbdIngest | undefined, target: number, hint: string): Row => {
    const value = ingest?.search.sustained ?? null;
    const drops = Object.entries(ingest?.dropped ?? {}).map(([reason, count]) => `${count} ${reason}`);
    return {
      measure,
      value,
      unit: '/s',
      atLeast: ingest?.search.senderLimited,
      target: { atLeast: true, value: target, hint },
      baselineOf: 'UDP baseline',
      ratio: ratioOf(value, baselineRate),
      verdict: verdictOf(value, { atLeast: true, value: target }),
      note:
        `${granted(ingest)}${baselineNote}${diagnosis(ingest?.search)}` +
        (drops.length > 0 ? `; hbd dropped (bench bug?): ${drops.join(', ')}` : ''),
    };
  };
  const mapBytes = memory.map?.bytesPerHost ?? null;
  const memoryNote = 'JS heap + ArrayBuffers (the typed columns), after full GCs, over 1,000,000 hosts';
  return [
    {
      measure: '1. UDP baseline: bare dgram receiver',
      value: baselineRate,
      unit: '/s',
      atLeast: udp?.search.senderLimited,
      target: null,
      baselineOf: null,
      ratio: baselineRate === null ? null : 1,
      verdict: baselineRate === null ? 'FAILED' : 'baseline',
      note:
        `${granted(udp)}${udp?.search.senderLimited ? '; limited by the sender, not the receiver' : ''}` +
        diagnosis(udp?.search) +
        cpuBound(udp?.search),
    },
    ingestRow('2. hbd signed (parse+HMAC+state), 100k hosts', signed, 50_000, ' (~0.45×)'),
    ingestRow('3. hbd unsigned, 100k hosts', unsigned, 80_000, ''),
    {
      measure: '4. memory baseline: Map<name, number>',
      value: mapBytes,
      unit: 'B/host',
      target: null,
      baselineOf: null,
      ratio: mapBytes === null ? null : 1,
      verdict: mapBytes === null ? 'FAILED' : 'baseline',
      note: 'a flat copy of the host name + a Map entry: the least any name index costs',
    },
    {
      measure: '4. memory per host (no msg)',
      value: memory.plain?.bytesPerHost ?? null,
      unit: 'B/host',
      target: { atLeast: false, value: 300 },
      baselineOf: 'Map baseline',
      ratio: ratioOf(memory.plain?.bytesPerHost ?? null, mapBytes),
      verdict: verdictOf(memory.plain?.bytesPerHost ?? null, { atLeast: false, value: 300 }),
      note: memoryNote,
    },
    {
      measure: '4. memory per host (msg + 2 fields)',
      value: memory.extras?.bytesPerHost ?? null,
      unit: 'B/host',
      target: null,
      baselineOf: 'Map baseline',
      ratio: ratioOf(memory.extras?.bytesPerHost ?? null, mapBytes),
      verdict: memory.extras ? 'info' : 'FAILED',
    },
    {
      measure: '5. baseline: Map.get, 1M-entry map',
      value: wheel?.mapGetNsPerBeat ?? null,
      unit: 'ns/heartbeat',
      target: null,
      baselineOf: null,
      ratio: wheel ? 1 : null,
      verdict: wheel ? 'baseline' : 'FAILED',
      note: 'one lookup of a host name per heartbeat, same order as the heartbeats',
    },
    {
      measure: '5. deadline wheel, 1M hosts',
      value: wheel?.wheelNsPerBeat ?? null,
      unit: 'ns/heartbeat',
      target: { atLeast: false, value: 1000 },
      baselineOf: 'Map.get',
      ratio: ratioOf(wheel?.wheelNsPerBeat ?? null, wheel?.mapGetNsPerBeat),
      verdict: verdictOf(wheel?.wheelNsPerBeat ?? null, { atLeast: false, value: 1000 }),
      note: 'scheduleNoLaterThan per heartbeat (1 % move earlier) + the 100 ms takeDue sweeps, amortised',
    },
    {
      measure: '6. HTTP baseline: bare node:http, 200 OK',
      value: httpBaseline?.load.rate ?? null,
      unit: '/s',
      target: null,
      baselineOf: null,
      ratio: httpBaseline ? 1 : null,
      verdict: httpBaseline ? 'baseline' : 'FAILED',
      note: httpNote(httpBaseline),
    },
    {
      measure: '6. hbd push pings, 1,000 hosts',
      value: push?.load.rate ?? null,
      unit: '/s',
      target: { atLeast: true, value: 10_000 },
      baselineOf: 'HTTP baseline',
      ratio: ratioOf(push?.load.rate ?? null, httpBaseline?.load.rate),
      verdict:
        push && (push.applied !== push.load.ok || push.load.non2xx > 0)
          ? 'MISS'
          : verdictOf(push?.load.rate ?? null, { atLeast: true, value: 10_000 }),
      note:
        `${httpNote(push)}${pushVerdictNote(push)}` +
        (httpBaseline && clientLimited(httpBaseline)
          ? '; the baseline was client-limited: the ratio is an upper bound'
          : ''),
    },
    ...isolationRows(isolation, snapshotTiming),
    ...decodeRows(decode),
    ...clusterRows(cluster),
  ];
}

/** How many times a valid zlib heartbeat refusing a bomb may cost. */
const BOMB_TARGET_RATIO = 4;

/** Section 9: decodeDatagram per datagram, each case as a ratio to a valid plain heartbeat. */
function decodeRows(decode: DecodeReport | undefined): Row[] {
  const plain = decode?.usPerDatagram.plain ?? null;
  const zlib = decode?.usPerDatagram.zlib ?? null;
  const bomb = decode?.usPerDatagram.bomb ?? null;
  const garbage = decode?.usPerDatagram.garbage ?? null;
  const decoded = (name: keyof DecodeReport['outcome']) =>
    decode ? `${decode.bytes[name]} bytes, decoded as ${decode.outcome[name]}` : '';
  const bombTarget =
    zlib === null
      ? null
      : {
          atLeast: false,
          value: zlib * BOMB_TARGET_RATIO,
          hint: ` (${BOMB_TARGET_RATIO}× a valid zlib heartbeat)`,
        };
  const bombRefused = decode?.outcome.bomb === 'inflate';
  return [
    {
      measure: '9. decode baseline: valid plain heartbeat',
      value: plain,
      unit: 'µs/datagram',
      target: null,
      baselineOf: null,
      ratio: plain === null ? null : 1,
      verdict: plain === null ? 'FAILED' : 'baseline',
      note: decode
        ? `${decoded('plain')}; best of ${decode.rounds} rounds of ${decode.callsPerRound.toLocaleString('en-US')} ` +
          'calls each, the four cases alternately in one process'
        : '',
    },
    {
      measure: '9. decode valid zlib heartbeat',
      value: zlib,
      unit: 'µs/datagram',
      target: null,
      baselineOf: 'plain heartbeat',
      ratio: ratioOf(zlib, plain),
      verdict: zlib === null ? 'FAILED' : 'info',
      note:
        decoded('zlib') +
        (decode && !decode.reusableInflater
          ? '; this Node lacks the reusable inflater: inflateSync is used'
          : ''),
    },
    {
      measure: '9. decode zlib bomb (8 MiB of zeros)',
      value: bomb,
      unit: 'µs/datagram',
      target: bombTarget,
      baselineOf: 'plain heartbeat',
      ratio: ratioOf(bomb, plain),
      verdict:
        bombTarget === null || bomb === null ? 'FAILED' : bombRefused ? verdictOf(bomb, bombTarget) : 'MISS',
      note:
        decoded('bomb') +
        (decode && !bombRefused ? ' (NOT refused as inflate: bug)' : '') +
        (bomb !== null && zlib !== null ? `; ${(bomb / zlib).toFixed(2)} × a valid zlib heartbeat` : ''),
    },
    {
      measure: '9. decode zlib header + garbage',
      value: garbage,
      unit: 'µs/datagram',
      target: null,
      baselineOf: 'plain heartbeat',
      ratio: ratioOf(garbage, plain),
      verdict: garbage === null ? 'FAILED' : 'info',
      note:
        decoded('garbage') +
        (garbage !== null && zlib !== null
          ? `; ${(garbage / zlib).toFixed(2)} × a valid zlib heartbeat`
          : ''),
    },
  ];
}
