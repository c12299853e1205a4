import type { Config } from '../config/schema.js';
import { needsSignature } from '../ingest/gatekeeper.js';
import { normalizeHostName } from '../protocol/hostname.js';
import type { Heartbeat } from '../protocol/types.js';
import type { Monitor } from '../state/monitor.js';
import { clipChars } from './body.js';
import { PushTokens } from './tokens.js';

/**
 * What a ping says, from its URL suffix (or Uptime Kuma's `status`):
 * - success: the job finished well (no suffix, `/0`, `status=up`)
 * - fail: it finished badly (`/fail`, `/1`…`/255`, any other `status`)
 * - start: a run began; it must finish within the host's grace
 * - log: a message only; the host's state and timing stay as they are
 */
export type PingSignal =
  | { kind: 'success' }
  | { kind: 'fail'; exitCode?: number }
  | { kind: 'start' }
  | { kind: 'log' };

export const SUCCESS: PingSignal = { kind: 'success' };
export const FAIL: PingSignal = { kind: 'fail' };
const START: PingSignal = { kind: 'start' };
const LOG: PingSignal = { kind: 'log' };
const MAX_EXIT_CODE = 255;

/**
 * The signal of a URL suffix; `bad-exit-code` for a number past 255 (which Healthchecks.io answers
 * with 400), undefined for a suffix that means nothing (404).
 */
export function signalOf(suffix: string | undefined): PingSignal | 'bad-exit-code' | undefined {
  switch (suffix) {
    case undefined:
    case '':
      return SUCCESS;
    case 'start':
      return START;
    case 'fail':
      return FAIL;
    case 'log':
      return LOG;
  }
  if (!/^\d+$/.test(suffix)) return undefined;
  const code = Number(suffix);
  if (code > MAX_EXIT_CODE) return 'bad-exit-code';
  return code === 0 ? SUCCESS : { kind: 'fail', exitCode: code };
}

export interface Ping {
  /** Lower-cased host name. */
  host: string;
  signal: PingSignal;
  msg: string | undefined;
  /** The HTTP client's address. */
  addr: string;
  /** The run a start or finish belongs to (Healthchecks.io's `rid`); undefined when not given. */
  runId: string | undefined;
}

export type SlugLookup = { found: true; host: string } | { found: false };

/** What the push endpoints did since hbd started. */
export interface PushStats {
  /** Pings taken (each answered 2xx). */
  applied: number;
  /** Hosts a ping-key ping created (`?create=1`). */
  created: number;
  /** Pings refused: unknown token, ping key or host. */
  unknown: number;
}

type PushPingsConfig = Pick<Config, 'push' | 'push_ping_key' | 'auth' | 'keys'>;

/**
 * Applies pings to the host state machine, as heartbeats that arrive over HTTP: the same
 * up / late / down, events and notifications, plus runs that must finish within their grace.
 */
export class PushPings {
  readonly stats: PushStats = { applied: 0, created: 0, unknown: 0 };
  readonly #monitor: Monitor;
  #config: PushPingsConfig;
  #tokens: PushTokens;
  /** Hosts created through the ping key in this run of hbd: they are push hosts too. */
  readonly #created = new Set<string>();

  constructor(deps: { monitor: Monitor; config: PushPingsConfig }) {
    this.#monitor = deps.monitor;
    this.#config = deps.config;
    this.#tokens = new PushTokens(deps.config);
  }

  /** Takes effect for the next ping (config reload). */
  reload(config: PushPingsConfig): void {
    this.#config = config;
    this.#tokens = new PushTokens(config);
  }

  /** The host a token stands for. */
  hostOfToken(token: string): string | undefined {
    return this.#tokens.hostOf(token);
  }

  isPingKey(candidate: string): boolean {
    return this.#tokens.isPingKey(candidate);
  }

  /** Whether the host reports over HTTP: listed under `push:`, or created by a ping. */
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
    if (needsSignature(this.#config, host)) return { found: false };
    if (create || this.#monitor.table.find(host) >= 0) return { found: true, host };
    return { found: false };
  }

  /** Applies a ping; returns whether the host was new to hbd. */
  apply(ping: Ping): { created: boolean } {
    const monitor = this.#monitor;
    const { host, signal, addr } = ping;
    let slot = monitor.table.find(host);
    const isNew = slot < 0;
    switch (signal.kind) {
      case 'log':
        // A host hbd has not heard of has no state for the message to go with.
        if (!isNew) monitor.note(slot, ping.msg);
        this.stats.applied++;
        return { created: false };
      case 'start':
        if (isNew) {
          this.#beat(host, 'ok', ping.msg, addr);
          slot = monitor.table.find(host);
        } else if (ping.msg !== undefined) {
          monitor.note(slot, ping.msg);
        }
        monitor.startRun(slot, ping.runId);
        break;
      default: {
        const failed = signal.kind === 'fail';
        if (!isNew) this.#finishRun(slot, ping.runId, failed);
        const msg =
          signal.kind === 'fail' && signal.exitCode !== undefined
            ? `exit code ${signal.exitCode}${ping.msg === undefined ? '' : `: ${ping.msg}`}`
            : ping.msg;
        this.#beat(host, failed ? 'fail' : 'ok', msg, addr);
      }
    }
    this.stats.applied++;
    if (isNew && !this.#tokens.isPushHost(host)) {
      this.#created.add(host);
      this.stats.created++;
    }
    return { created: isNew };
  }

  /**
   * Ends the host's run the way Healthchecks.io pairs pings: a finish with the run's id (or both
   * without one) ends it; a failure, or a finish naming no run, ends it anyway; a success naming
   * another run leaves it running.
   */
  #finishRun(slot: number, runId: string | undefined, failed: boolean): void {
    const run = this.#monitor.currentRun(slot);
    if (run === undefined) return;
    if (run.id === runId || failed || runId === undefined) this.#monitor.endRun(slot);
  }

  #beat(host: string, status: Heartbeat['status'], msg: string | undefined, addr: string): void {
    const hb: Heartbeat = {
      host,
      status,
      msg: msg === undefined ? undefined : clipChars(msg),
      fields: {},
      compressed: false,
    };
    this.#monitor.beat(hb, addr, false, 'http');
  }
}
