import { normalizeHostName } from '../protocol/hostname.js';
import type { Heartbeat } from '../protocol/types.js';
import type { Run } from '../state/monitor.js';
import type { PingKind, PingRecord } from '../store/ping-store.js';
import { clipChars } from './body.js';
import type { RecentPings } from './recent-pings.js';
import { type PushTokenOptions, PushTokens } from './tokens.js';

/**
 * What a ping says; each push protocol reads it from its own form (a URL suffix, a query, a body):
 * - success: the job finished well (status `ok`)
 * - warn: it finished, but something needs a look (status `warn`)
 * - fail: it finished badly (status `fail`), with the exit code when the protocol carries one
 * - start: a run began; it must finish within the host's grace
 * - log: a message only; the host's state and timing stay as they are
 */
export type PingSignal =
  | { kind: 'success' }
  | { kind: 'warn' }
  | { kind: 'fail'; exitCode?: number }
  | { kind: 'start' }
  | { kind: 'log' };

export const SUCCESS: PingSignal = { kind: 'success' };
export const WARN: PingSignal = { kind: 'warn' };
export const FAIL: PingSignal = { kind: 'fail' };
export const START: PingSignal = { kind: 'start' };
export const LOG: PingSignal = { kind: 'log' };

export interface Ping {
  /** The push protocol's `id` (protocol.ts), for the counts and the kept pings. */
  protocol: string;
  /** Lower-cased host name. */
  host: string;
  signal: PingSignal;
  msg: string | undefined;
  /** The HTTP client's address. */
  addr: string;
  /** The run a start or finish belongs to (Healthchecks.io's `rid`); undefined when not given. */
  runId: string | undefined;
  /** The host's fields, as a heartbeat's `key=value` fields (Uptime Kuma's `ping`); none when absent. */
  fields?: Readonly<Record<string, string>>;
}

export type SlugLookup = { found: true; host: string } | { found: false };

/**
 * What came of a ping, as `hbd_pings_total{outcome}` counts it: what a ping that was taken said,
 * or why it was not taken: `not_found` (an unknown token, ping key, host or suffix, or a token that
 * may not report for the host: the 404s and Consul's 403s), `bad` (a request hbd cannot read: an
 * exit code past 255, a run id that is no UUID, an Uptime Kuma `ping` out of range, a Consul
 * update that is no JSON, too large or not a `PUT`, a body cut off).
 */
export const PING_OUTCOMES = ['ok', 'warn', 'fail', 'start', 'log', 'not_found', 'bad'] as const;
export type PingOutcome = (typeof PING_OUTCOMES)[number];

const OUTCOME_OF_KIND: Readonly<Record<PingKind, PingOutcome>> = {
  success: 'ok',
  warn: 'warn',
  fail: 'fail',
  start: 'start',
  log: 'log',
};

/** Pings by protocol id and outcome: plain counters, read only when /metrics is scraped. */
export type PingCounts = ReadonlyMap<string, Readonly<Record<PingOutcome, number>>>;

/** What the push endpoints did since hbd started. */
export interface PushStats {
  /** Pings taken (each answered 2xx). */
  applied: number;
  /** Hosts a ping-key ping created (`?create=1`). */
  created: number;
  /** Pings refused: unknown token, ping key or host. */
  unknown: number;
}

/** The push endpoints' settings (built from the config by daemon/push-settings.ts). */
export interface PushOptions extends PushTokenOptions {
  /**
   * Whether the host's heartbeats must be signed (it has a key, or `auth: required`): the ping
   * key does not reach such a host, since a ping cannot sign.
   */
  needsSignature(host: string): boolean;
}

/** Whether hbd knows a host: the read model's `has` (state/host-view.ts). */
export interface KnownHosts {
  has(name: string): boolean;
}

/**
 * What pings do to the state machine, by host name. A `Monitor` keys these by slot;
 * daemon/push-settings.ts adapts it (`pingTargetOf`).
 */
export interface PingTarget {
  beat(hb: Heartbeat, addr: string, signed: boolean, via?: 'http'): void;
  /** Replaces the message alone; nothing for a host hbd does not know. */
  note(host: string, msg: string | undefined): void;
  startRun(host: string, id?: string): void;
  currentRun(host: string): Run | undefined;
  endRun(host: string): void;
}

/**
 * Applies pings to the host state machine, as heartbeats that arrive over HTTP: the same
 * up / late / down, events and notifications, plus runs that must finish within their grace.
 * Every push protocol (push/protocols/) reaches hosts through it, so the token rules are one.
 */
export class PushPings {
  readonly stats: PushStats = { applied: 0, created: 0, unknown: 0 };
  readonly #counts = new Map<string, Record<PingOutcome, number>>();
  readonly #hosts: KnownHosts;
  readonly #target: PingTarget;
  readonly #recent: RecentPings | undefined;
  readonly #now: () => number;
  #options: PushOptions;
  #tokens: PushTokens;
  /** Hosts created through the ping key in this run of hbd: they are push hosts too. */
  readonly #created = new Set<string>();

  constructor(deps: {
    hosts: KnownHosts;
    monitor: PingTarget;
    options: PushOptions;
    /** Where each host's last pings are kept; without it, none are. */
    recent?: RecentPings;
    /** Wall time, ms since the epoch, for the kept pings. */
    now?: () => number;
  }) {
    this.#hosts = deps.hosts;
    this.#target = deps.monitor;
    this.#options = deps.options;
    this.#tokens = new PushTokens(deps.options);
    this.#recent = deps.recent;
    this.#now = deps.now ?? Date.now;
  }

  /** Pings by protocol and outcome since hbd started (`hbd_pings_total`). */
  get counts(): PingCounts {
    return this.#counts;
  }

  /**
   * A ping that was not taken: `not_found` for a token, ping key, host or suffix hbd does not
   * know (or a token that may not report for that host), `bad` for a request it cannot read.
   */
  refuse(protocol: string, outcome: 'not_found' | 'bad'): void {
    if (outcome === 'not_found') this.stats.unknown++;
    this.#count(protocol, outcome);
  }

  /** Writes the kept pings that wait (at shutdown, after the HTTP server has stopped). */
  async close(): Promise<void> {
    await this.#recent?.close();
  }

  /** The host's last pings, newest first; undefined for a host hbd does not know. */
  async recentPings(host: string): Promise<PingRecord[] | undefined> {
    if (!this.#hosts.has(host)) return undefined;
    return (await this.#recent?.recent(host)) ?? [];
  }

  /** Takes effect for the next ping (config reload). */
  reload(options: PushOptions): void {
    this.#options = options;
    this.#tokens = new PushTokens(options);
  }

  /** The host a token stands for. */
  hostOfToken(token: string): string | undefined {
    return this.#tokens.hostOf(token);
  }

  isPingKey(candidate: string): boolean {
    return this.#tokens.isPingKey(candidate);
  }

  /**
   * Whether the host reports over HTTP: listed under `push:`, or created by a ping. Its address
   * is wherever its job last ran, so the DNS publisher skips it (dns/publisher.ts, `via`).
   */
  isPushHost(host: string): boolean {
    return this.#tokens.isPushHost(host) || this.#created.has(host);
  }

  /**
   * The host `/ping/{ping_key}/{slug}` is for, once the ping key has been checked. The ping key
   * reaches the `push:` hosts, and any other host whose heartbeats need no signature: a host
   * with a key (or every host, under `auth: required`) proves itself by signing, which a ping
   * cannot do. An unknown name is found only when `create` is set.
   */
  lookUpSlug(slug: string, create: boolean): SlugLookup {
    const host = normalizeHostName(slug);
    if (host === undefined) return { found: false };
    if (this.isPushHost(host)) return { found: true, host };
    if (this.#options.needsSignature(host)) return { found: false };
    if (create || this.#hosts.has(host)) return { found: true, host };
    return { found: false };
  }

  /** Applies a ping; returns whether the host was new to hbd. */
  apply(ping: Ping): { created: boolean } {
    const target = this.#target;
    const { host, signal, addr } = ping;
    const isNew = !this.#hosts.has(host);
    this.#count(ping.protocol, OUTCOME_OF_KIND[signal.kind]);
    switch (signal.kind) {
      case 'log':
        // A host hbd has not heard of has no state for the message (or the ping) to go with.
        if (!isNew) {
          target.note(host, ping.msg);
          this.#keep(ping);
        }
        this.stats.applied++;
        return { created: false };
      case 'start':
        if (isNew) this.#beat(host, 'ok', ping.msg, addr);
        else if (ping.msg !== undefined) target.note(host, ping.msg);
        target.startRun(host, ping.runId);
        break;
      default: {
        const status = signal.kind === 'success' ? 'ok' : signal.kind;
        if (!isNew) this.#finishRun(host, ping.runId, status === 'fail');
        const msg =
          signal.kind === 'fail' && signal.exitCode !== undefined
            ? `exit code ${signal.exitCode}${ping.msg === undefined ? '' : `: ${ping.msg}`}`
            : ping.msg;
        this.#beat(host, status, msg, addr, ping.fields);
      }
    }
    this.#keep(ping);
    this.stats.applied++;
    if (isNew && !this.#tokens.isPushHost(host)) {
      this.#created.add(host);
      this.stats.created++;
    }
    return { created: isNew };
  }

  /**
   * Ends the host's run the way Healthchecks.io pairs pings: a finish with the run's id (or both
   * without one) ends it; a failure, or a finish naming no run, ends it anyway; a success (or a
   * warning) naming another run leaves it running.
   */
  #finishRun(host: string, runId: string | undefined, failed: boolean): void {
    const run = this.#target.currentRun(host);
    if (run === undefined) return;
    if (run.id === runId || failed || runId === undefined) this.#target.endRun(host);
  }

  #beat(
    host: string,
    status: Heartbeat['status'],
    msg: string | undefined,
    addr: string,
    fields: Readonly<Record<string, string>> = {},
  ): void {
    const hb: Heartbeat = {
      host,
      status,
      msg: msg === undefined ? undefined : clipChars(msg),
      fields,
      compressed: false,
    };
    this.#target.beat(hb, addr, false, 'http');
  }

  #keep(ping: Ping): void {
    if (this.#recent === undefined) return;
    const { signal } = ping;
    this.#recent.record({
      host: ping.host,
      at: this.#now(),
      protocol: ping.protocol,
      kind: signal.kind,
      exitCode: signal.kind === 'fail' ? (signal.exitCode ?? null) : null,
      // As bounded as the message it became: a heartbeat's 1,024 characters.
      body: ping.msg === undefined ? null : clipChars(ping.msg),
      addr: ping.addr,
      runId: ping.runId ?? null,
    });
  }

  #count(protocol: string, outcome: PingOutcome): void {
    let counts = this.#counts.get(protocol);
    if (counts === undefined) {
      counts = { ok: 0, warn: 0, fail: 0, start: 0, log: 0, not_found: 0, bad: 0 };
      this.#counts.set(protocol, counts);
    }
    counts[outcome]++;
  }
}
