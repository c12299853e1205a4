import type { RecordChange } from './update-types.js';

/** What a host's records should say, per family: an address, null for none (delete), absent to leave as is. */
export interface DesiredRecords {
  host: string;
  name: string;
  zone: string;
  ttl: number;
  A?: string | null;
  AAAA?: string | null;
}

export type PublishOutcome =
  | { ok: true; records: DesiredRecords }
  | { ok: false; error: Error; retryInMs: number };

export interface PublishQueueOptions {
  /** Sends one batch of changes for one zone; rejects when the server did not apply them. */
  send: (zone: string, changes: readonly RecordChange[]) => Promise<void>;
  /** Told about every attempt's outcome, per host. */
  onOutcome: (host: string, outcome: PublishOutcome) => void;
  /** Most changes in one UPDATE message. */
  maxBatch?: number;
  /** First retry delay; doubled after each failure of a zone, up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/**
 * The background queue between what hosts report and the DNS server.
 *
 * It never blocks ingest: `want` only records the newest desired records of a host
 * (several changes collapse into the latest). Each zone has at most one update in
 * flight; its pending hosts go out together, batched, and a failed batch is retried
 * with exponential backoff (with jitter) until it succeeds — with whatever is newest
 * by then, so an outage ends with the current address, not a stale one.
 */
export class PublishQueue {
  readonly #options: Required<PublishQueueOptions>;
  readonly #pending = new Map<string, Map<string, DesiredRecords>>();
  readonly #inFlight = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #retryTimers = new Map<string, NodeJS.Timeout>();
  #closed = false;
  #drained: (() => void) | undefined;

  constructor(options: PublishQueueOptions) {
    this.#options = { maxBatch: 64, retryBaseMs: 2000, retryMaxMs: 30_000, ...options };
  }

  /** Records what `records.host` should publish; sent as soon as its zone is free. */
  want(records: DesiredRecords): void {
    if (this.#closed) return;
    let zone = this.#pending.get(records.zone);
    if (!zone) {
      zone = new Map();
      this.#pending.set(records.zone, zone);
    }
    zone.set(records.host, records);
    this.#kick(records.zone);
  }

  /** Hosts waiting to be sent (not counting those in flight). */
  get pendingCount(): number {
    let count = 0;
    for (const zone of this.#pending.values()) count += zone.size;
    return count;
  }

  /**
   * Stops sending and waits (at most `drainMs`) for the updates already in flight, so
   * their outcome is recorded rather than lost: an update the server applied is then
   * not sent again after a restart. What is pending stays unsent (the caller keeps its
   * own record of what is published).
   */
  async close(drainMs = 6000): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#drained = resolve;
      timer = setTimeout(resolve, drainMs);
    });
    clearTimeout(timer);
    this.#drained = undefined;
  }

  #kick(zone: string): void {
    if (this.#closed || this.#inFlight.has(zone) || this.#retryTimers.has(zone)) return;
    const pending = this.#pending.get(zone);
    if (!pending || pending.size === 0) return;
    const batch = [...pending.values()].slice(0, this.#options.maxBatch);
    for (const records of batch) pending.delete(records.host);
    this.#inFlight.add(zone);
    this.#options.send(zone, batch.flatMap(changesOf)).then(
      () => this.#settled(zone, batch, undefined),
      (error: unknown) =>
        this.#settled(zone, batch, error instanceof Error ? error : new Error(String(error))),
    );
  }

  #settled(zone: string, batch: readonly DesiredRecords[], error: Error | undefined): void {
    this.#inFlight.delete(zone);
    if (this.#drained && this.#inFlight.size === 0) queueMicrotask(this.#drained);
    if (error === undefined) {
      this.#failures.delete(zone);
      for (const records of batch) this.#options.onOutcome(records.host, { ok: true, records });
      this.#kick(zone);
      return;
    }
    const failures = (this.#failures.get(zone) ?? 0) + 1;
    this.#failures.set(zone, failures);
    const { retryBaseMs, retryMaxMs } = this.#options;
    const backoff = Math.min(retryMaxMs, retryBaseMs * 2 ** (failures - 1));
    // Jitter, so that many hbd instances do not hammer a recovering server in step.
    const retryInMs = Math.round(backoff * (0.8 + Math.random() * 0.2));
    const pending = this.#pending.get(zone) ?? new Map<string, DesiredRecords>();
    this.#pending.set(zone, pending);
    for (const records of batch) {
      // A newer wish that arrived meanwhile wins over the one that failed.
      if (!pending.has(records.host)) pending.set(records.host, records);
      this.#options.onOutcome(records.host, { ok: false, error, retryInMs });
    }
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#retryTimers.delete(zone);
      this.#kick(zone);
    }, retryInMs);
    timer.unref();
    this.#retryTimers.set(zone, timer);
  }
}

/** Each family is replaced as a whole: the name ends up with exactly the wanted address, or none. */
function changesOf(records: DesiredRecords): RecordChange[] {
  const changes: RecordChange[] = [];
  for (const type of ['A', 'AAAA'] as const) {
    const address = records[type];
    if (address !== undefined) changes.push({ name: records.name, type, address, ttl: records.ttl });
  }
  return changes;
}
